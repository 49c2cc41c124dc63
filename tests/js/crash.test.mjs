// Crash safety: writers stream PUT/PATCH/POST/DELETE of environments and stacks at the
// real binary, which is killed with SIGKILL at a random moment and restarted on the same
// database, ten times. After each kill: `PRAGMA integrity_check` (sqlite3 CLI; with
// PostgreSQL, which keeps its own files, the rows alone are checked) is ok; every
// write that got a 2xx is there; a write that got an error is not; a write that never got
// an answer is either wholly there or wholly absent (document, revision and its history
// row agree).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dialect, sql, start, tempDir, removeDir } from './lib/server.mjs';
import { prng } from './lib/bundle.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const seed = (name) => JSON.parse(readFileSync(path.join(root, 'migrations/seed/msa-shop', name), 'utf8'));
const CYCLES = Number(process.env.CRASH_CYCLES || 10);
const LANES = 4;
const NAMES_PER_LANE = 3;
const SEED = Number(process.env.CRASH_SEED || Date.now() % 1e9);

const STACK_DOC = seed('stack.json');
const ENV_DOC = seed('dev.json');

// A resource: {kind: 'env' | 'stack', name}; its state: null (absent) or {revision, marker}.
const url = (r) => (r.kind === 'env' ? `/api/v1/stacks/msa-shop/environments/${r.name}` : `/api/v1/stacks/${r.name}`);
const collection = (r) => (r.kind === 'env' ? '/api/v1/stacks/msa-shop/environments' : '/api/v1/stacks');
const markerOf = (r, doc) => (r.kind === 'env' ? doc?.config?.marker : doc?.description);

function documentWith(r, marker) {
  if (r.kind === 'env') return { ...ENV_DOC, config: { ...(ENV_DOC.config ?? {}), marker } };
  return { ...STACK_DOC, description: marker };
}

// The next write for r in state cur: {method, path, body, type, expect (state after)}.
function nextWrite(r, cur, rnd, marker) {
  const pick = rnd();
  if (!cur) {
    const doc = documentWith(r, marker);
    if (pick < 0.5) return { method: 'PUT', path: url(r), body: doc, expect: { revision: 1, marker } };
    return { method: 'POST', path: collection(r), body: { name: r.name, document: doc }, expect: { revision: 1, marker } };
  }
  const headers = { 'if-match': `"${cur.revision}"` };
  if (pick < 0.2) return { method: 'DELETE', path: url(r), headers, expect: null };
  if (r.kind === 'env' && pick < 0.6) {
    return { method: 'PATCH', path: url(r), headers, body: { config: { marker } }, type: 'application/merge-patch+json', expect: { revision: cur.revision + 1, marker } };
  }
  return { method: 'PUT', path: url(r), headers, body: documentWith(r, marker), expect: { revision: cur.revision + 1, marker } };
}

async function send(base, w) {
  const init = { method: w.method, headers: { ...(w.headers ?? {}) } };
  if (w.body !== undefined) {
    init.body = JSON.stringify(w.body);
    init.headers['content-type'] = w.type ?? 'application/json';
  }
  const res = await fetch(base + w.path, init);
  const text = await res.text();
  return { status: res.status, text };
}

// One lane: writes to its own resources one at a time until the server dies. Each write's
// outcome is 'ok' (2xx), 'failed' (another status) or 'unknown' (no answer).
async function lane(base, resources, state, rnd, counter, log) {
  for (;;) {
    const r = resources[Math.floor(rnd() * resources.length)];
    const cur = state.get(r);
    const marker = `m${counter.next++}`;
    const w = nextWrite(r, cur, rnd, marker);
    let res;
    try {
      res = await send(base, w);
    } catch {
      log.push({ r, before: cur, after: w.expect, outcome: 'unknown' });
      return;
    }
    if (res.status >= 200 && res.status < 300) {
      state.set(r, w.expect);
      log.push({ r, outcome: 'ok' });
    } else {
      // a write refused while the server was healthy is a test bug, except a kill mid-way
      log.push({ r, before: cur, outcome: 'failed', status: res.status, text: res.text });
    }
  }
}

const query = (db, text) => sql(db, text).trim();

function sqlQuote(s) {
  return `'${s.replaceAll("'", "''")}'`;
}

// The latest history row of r: {kind, revision, marker} or null.
function lastHistory(db, r) {
  const where = r.kind === 'env'
    ? `stack = 'msa-shop' AND environment = ${sqlQuote(r.name)}`
    : `stack = ${sqlQuote(r.name)} AND environment IS NULL`;
  const object = dialect === 'sqlite' ? "json_object('kind', kind, 'revision', revision, 'doc', json(new_document))"
    : "json_build_object('kind', kind, 'revision', revision, 'doc', new_document::json)";
  const row = query(db, `SELECT ${object} FROM history WHERE ${where} ORDER BY id DESC LIMIT 1`);
  if (!row) return null;
  const h = JSON.parse(row);
  return { kind: h.kind, revision: h.revision, marker: markerOf(r, h.doc) };
}

async function readState(base, r) {
  const res = await fetch(base + url(r));
  if (res.status === 404) return null;
  assert.equal(res.status, 200, `GET ${url(r)}`);
  const body = await res.json();
  return { revision: body.revision, marker: markerOf(r, body.document) };
}

test(`SIGKILL during a stream of writes, ${CYCLES} cycles: nothing acknowledged is lost, nothing half-written (seed ${SEED})`, { timeout: 120000 }, async () => {
  const dir = tempDir('manifestd-crash-');
  const db = path.join(dir, 'm.db');
  const rnd = prng(SEED);
  const resources = [];
  for (let l = 0; l < LANES; l++) {
    const kind = l === 0 ? 'stack' : 'env';
    resources.push(Array.from({ length: NAMES_PER_LANE }, (_, i) => ({ kind, name: `crash-${l}-${i}` })));
  }
  const state = new Map(); // resource -> acknowledged state
  const counter = { next: 0 };
  let totals = { ok: 0, unknown: 0, failed: 0, appliedUnknown: 0 };
  let srv = await start({ db });
  try {
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const log = [];
      const lanes = resources.map((rs, l) => lane(srv.url, rs, state, prng(SEED * 31 + cycle * 7 + l), counter, log));
      await new Promise((r) => setTimeout(r, 150 + rnd() * 900));
      srv.proc.kill('SIGKILL');
      const { signal } = await srv.exited;
      assert.equal(signal, 'SIGKILL');
      await Promise.all(lanes);

      if (dialect === 'sqlite') assert.equal(query(db, 'PRAGMA integrity_check'), 'ok', `cycle ${cycle}: integrity_check`);
      srv = await start({ db });
      for (const rs of resources) {
        for (const r of rs) {
          const got = await readState(srv.url, r);
          const pending = log.filter((e) => e.r === r && e.outcome !== 'ok');
          const acked = state.get(r) ?? null;
          const unknown = pending.find((e) => e.outcome === 'unknown');
          const where = `cycle ${cycle} ${r.kind} ${r.name}`;
          for (const f of pending.filter((e) => e.outcome === 'failed')) {
            assert.fail(`${where}: a write was refused with ${f.status} while the server was up: ${f.text.slice(0, 300)}`);
          }
          if (unknown && JSON.stringify(got) !== JSON.stringify(acked)) {
            // a write without an answer may have been applied, but only wholly
            assert.deepEqual(got, unknown.after, `${where}: neither before nor after the unanswered write`);
            totals.appliedUnknown++;
          } else {
            assert.deepEqual(got, acked, `${where}: the acknowledged state`);
          }
          const h = lastHistory(db, r);
          if (got) assert.deepEqual(h, { kind: got.revision === 1 ? 'create' : 'update', revision: got.revision, marker: got.marker }, `${where}: history row`);
          else assert.ok(h === null || h.kind === 'delete', `${where}: history of an absent resource ends with a delete`);
          state.set(r, got);
        }
      }
      for (const e of log) totals[e.outcome]++;
    }
    assert.ok(totals.ok >= CYCLES * 5, `writes acknowledged: ${JSON.stringify(totals)}`);
    console.log(`# crash: ${JSON.stringify(totals)}`);
  } finally {
    const { code } = await srv.stop();
    assert.equal(code, 0, srv.stderr().slice(-3000));
    removeDir(dir);
  }
});
