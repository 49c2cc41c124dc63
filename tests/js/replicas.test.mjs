// Several replicas on one PostgreSQL database (runs in the js-pg stage, where
// MANIFESTD_TEST_PG names a throwaway cluster; skipped on SQLite): replicas started at the
// same moment on an empty database all come up and migrate, seed and bootstrap once;
// concurrent If-Match writers through two replicas lose no update and leave contiguous
// revisions; a write through one replica is read, rendered and enforced (revoked tokens)
// through the other at once; SIGKILL of a replica while writing loses no acknowledged
// write; PostgreSQL stopped and started under load gives 503s, never a crash or a hang,
// and the replica recovers by itself.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { call, problem } from './lib/client.mjs';
import { binary, dbTarget, dialect, removeDir, sql, start, tempDir } from './lib/server.mjs';
import { prng } from './lib/bundle.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const skip = dialect !== 'postgres' && 'needs PostgreSQL (MANIFESTD_TEST_PG, stage js-pg)';
const ENV = '/api/v1/stacks/msa-shop/environments';
const DEV = JSON.parse(readFileSync(path.join(root, 'migrations/seed/msa-shop/dev.json'), 'utf8'));
const MERGE = 'application/merge-patch+json';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// n replicas on the database of path db, started at the same moment.
async function replicas(db, n, opts = {}) {
  return Promise.all(Array.from({ length: n }, () => start({ db, ...opts })));
}

async function stopAll(servers) {
  for (const s of servers) {
    const { code } = await s.stop();
    assert.equal(code, 0, s.stderr().slice(-3000));
  }
}

describe('replicas on one PostgreSQL database', { skip }, () => {
  test('started at once on an empty database, all come up; migrations, seed and the first token happen once', async (t) => {
    const dir = tempDir();
    t.after(() => removeDir(dir));
    const db = path.join(dir, 'shared.db');
    const servers = await replicas(db, 4, { token: false, autoAuth: false });
    t.after(() => stopAll(servers));
    for (const s of servers) assert.equal((await call(s, 'GET', '/readyz')).status, 200);
    assert.equal(sql(db, 'SELECT count(*) FROM schema_migrations').trim(), sql(db, 'SELECT max(version) FROM schema_migrations').trim());
    // the built-in stacks, each once: msa-shop (the stack and 3 environments), manifestd (and 2)
    assert.equal(sql(db, 'SELECT count(*) FROM stacks').trim(), '2');
    assert.equal(sql(db, "SELECT count(*) FROM history WHERE actor LIKE 'migration:%'").trim(), '7');
    assert.equal(sql(db, 'SELECT count(*) FROM tokens').trim(), '1');
    const printed = servers.filter((s) => /created the admin token 'admin'/.test(s.stderr()));
    assert.equal(printed.length, 1, 'one replica issued (and printed) the admin token');
    const token = /\(shown only this once\): (mfd_[0-9a-f]{64})/.exec(printed[0].stderr())[1];
    for (const s of servers) {
      assert.equal((await call(s, 'GET', '/api/v1/stacks', { headers: { authorization: `Bearer ${token}` } })).status, 200);
    }
    // the role the replicas use owns its database and nothing more
    assert.equal(sql(db, "SELECT rolsuper OR rolcreatedb OR rolcreaterole FROM pg_roles WHERE rolname = current_user").trim(), 'f');
  });

  test('concurrent If-Match writers through two replicas: no lost update, contiguous revisions', async (t) => {
    const dir = tempDir();
    t.after(() => removeDir(dir));
    const db = path.join(dir, 'shared.db');
    const servers = await replicas(db, 2);
    t.after(() => stopAll(servers));
    const WRITERS = 6, WRITES = 8;
    let conflicts = 0;
    const writer = async (w) => {
      const rnd = prng(1000 + w);
      for (let done = 0; done < WRITES;) {
        const via = servers[Math.floor(rnd() * 2)];
        const cur = await call(via, 'GET', `${ENV}/dev`);
        assert.equal(cur.status, 200, cur.text);
        const n = Number(cur.json.document.config?.counter ?? '0');
        const to = servers[Math.floor(rnd() * 2)];
        const r = await call(to, 'PATCH', `${ENV}/dev`, { type: MERGE, headers: { 'if-match': cur.headers.get('etag') }, body: { config: { counter: String(n + 1) } } });
        if (r.status === 412) { conflicts++; continue; }
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.revision, cur.json.revision + 1);
        done++;
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    const total = WRITERS * WRITES;
    for (const s of servers) {
      const r = await call(s, 'GET', `${ENV}/dev`);
      assert.equal(r.json.document.config.counter, String(total), 'every acknowledged increment is there');
      assert.equal(r.json.revision, total + 1);
    }
    const revs = [];
    for (let before = 0; ;) {
      const r = await call(servers[1], 'GET', `${ENV}/dev/revisions?limit=100${before ? `&before=${before}` : ''}`);
      revs.push(...r.json.items.map((i) => i.revision));
      if (!r.json.next) break;
      before = r.json.items.at(-1).revision;
    }
    assert.deepEqual(revs, Array.from({ length: total + 1 }, (_, i) => total + 1 - i), 'revisions total+1 .. 1, none missing or repeated');
    for (let rev = 2; rev <= total + 1; rev += 7) {
      const r = await call(servers[0], 'GET', `${ENV}/dev/revisions/${rev}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(JSON.stringify(r.json).includes(`"counter":"${rev - 1}"`), true, `revision ${rev} holds counter ${rev - 1}`);
    }
    assert.ok(conflicts > 0, 'the writers did race (412s seen)');
  });

  test('a write through one replica is read, rendered and enforced through the other at once', async (t) => {
    const dir = tempDir();
    t.after(() => removeDir(dir));
    const db = path.join(dir, 'shared.db');
    const [a, b] = await replicas(db, 2);
    t.after(() => stopAll([a, b]));
    const yaml = `${ENV}/prod/manifests?format=yaml`;
    let before;
    for (let i = 0; i < 3; i++) before = await call(b, 'GET', yaml); // b's render cache holds it now
    for (let i = 0; i < 5; i++) {
      const tag = `2.0.${i}`;
      const w = await call(a, 'PATCH', `${ENV}/prod`, { type: MERGE, body: { image: { tag } } });
      assert.equal(w.status, 200, w.text);
      const doc = await call(b, 'GET', `${ENV}/prod`);
      assert.equal(doc.json.revision, w.json.revision);
      const r = await call(b, 'GET', yaml);
      assert.equal(r.status, 200);
      assert.notEqual(r.headers.get('etag'), before.headers.get('etag'));
      assert.match(r.text, new RegExp(`image: "?[^\\s"]+/order-service:${tag.replaceAll('.', '\\.')}"?\\n`));
      const rendered = await call(b, 'POST', '/render?format=yaml', { body: { stack: 'msa-shop', environment: 'prod' } });
      assert.equal(rendered.text, r.text, 'POST /render through b sees the same write');
      before = r;
    }
    // tokens: created and revoked through the CLI; both replicas follow at once
    const token = execFileSync(binary, ['token', 'create', '--name', 'ci', '--role', 'viewer', '--db', dbTarget(db)], { encoding: 'utf8' }).trim();
    const auth = { authorization: `Bearer ${token}` };
    for (const s of [a, b]) assert.equal((await call(s, 'GET', `${ENV}/dev`, { headers: auth })).status, 200);
    assert.equal(spawnSync(binary, ['token', 'revoke', 'ci', '--db', dbTarget(db)]).status, 0);
    for (const s of [a, b]) problem(assert, await call(s, 'GET', `${ENV}/dev`, { headers: auth }), 401);
  });

  test('SIGKILL of a replica while writing: no acknowledged write is lost', { timeout: 120000 }, async (t) => {
    const dir = tempDir();
    t.after(() => removeDir(dir));
    const db = path.join(dir, 'shared.db');
    let [a, b] = await replicas(db, 2);
    t.after(() => stopAll([a, b]));
    const acked = new Map(); // env -> {revision, marker}
    const unknown = new Map(); // env -> the state an unanswered write would leave
    const envs = Array.from({ length: 6 }, (_, i) => `kill-${i}`);
    for (const e of envs) {
      const r = await call(b, 'PUT', `${ENV}/${e}`, { body: { ...DEV, namespace: `shop-${e}`, config: { ...DEV.config, marker: 'm0' } } });
      assert.equal(r.status, 201, r.text);
      acked.set(e, { revision: 1, marker: 'm0' });
    }
    let counter = 0;
    const lane = async (server, e) => {
      for (;;) {
        const cur = acked.get(e);
        const marker = `m${++counter}`;
        let r;
        try {
          r = await call(server, 'PATCH', `${ENV}/${e}`, { type: MERGE, headers: { 'if-match': `"${cur.revision}"` }, body: { config: { marker } } });
        } catch {
          unknown.set(e, { revision: cur.revision + 1, marker });
          return;
        }
        assert.equal(r.status, 200, `${e}: ${r.text}`);
        acked.set(e, { revision: r.json.revision, marker });
        if (server === b && stopB) return;
      }
    };
    let stopB = false;
    for (let cycle = 0; cycle < 3; cycle++) {
      stopB = false;
      unknown.clear();
      const lanesA = envs.slice(0, 4).map((e) => lane(a, e));
      const lanesB = envs.slice(4).map((e) => lane(b, e));
      await sleep(300 + cycle * 250);
      a.proc.kill('SIGKILL');
      assert.equal((await a.exited).signal, 'SIGKILL');
      await Promise.all(lanesA);
      stopB = true;
      await Promise.all(lanesB);
      for (const e of envs) {
        const r = await call(b, 'GET', `${ENV}/${e}`);
        const got = { revision: r.json.revision, marker: r.json.document.config.marker };
        const want = acked.get(e);
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          assert.deepEqual(got, unknown.get(e), `${e}: neither the acknowledged state nor the unanswered write`);
        }
        acked.set(e, got);
        const count = sql(db, `SELECT count(*) FROM history WHERE stack = 'msa-shop' AND environment = '${e}'`).trim();
        assert.equal(Number(count), got.revision, `${e}: one history row per revision`);
      }
      a = await start({ db });
    }
  });
});

describe('PostgreSQL stopped and started under load', { skip }, () => {
  test('503 problems while it is down, no crash or hang, recovery by itself', { timeout: 120000 }, async (t) => {
    // its own cluster: stopping the shared one would fail the tests running beside this one
    const cluster = tempDir('manifestd-outage-'); // in the temporary directory: nobody may enter it
    t.after(() => removeDir(cluster));
    execFileSync(path.join(root, 'tests/pg-cluster'), ['start', cluster]);
    t.after(() => spawnSync(path.join(root, 'tests/pg-cluster'), ['stop', cluster]));
    const env = Object.fromEntries(readFileSync(path.join(cluster, 'env'), 'utf8').trim().split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^'|'$/g, '')]));
    execFileSync('psql', ['-X', '-q', `${env.PG_ADMIN}`, '-c', 'CREATE DATABASE outage OWNER manifestd']);
    const db = `postgresql://manifestd@127.0.0.1:${env.PG_PORT}/outage`;
    const server = await start({ db, env: { MANIFESTD_SECRET_KEY: randomBytes(32).toString('base64') } });
    const statuses = new Map();
    let running = true;
    const client = async (i) => {
      while (running) {
        const t0 = Date.now();
        const r = i % 2
          ? await call(server, 'GET', `${ENV}/prod/manifests?format=yaml`)
          : await call(server, 'PATCH', `${ENV}/dev`, { type: MERGE, body: { config: { n: String(t0) } } });
        assert.ok(Date.now() - t0 < 20000, 'no request hangs');
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status === 503) {
          problem(assert, r, 503);
          assert.equal(r.headers.get('retry-after'), '1');
        } else {
          assert.equal(r.status, 200, r.text);
        }
        await sleep(5);
      }
    };
    const clients = Array.from({ length: 4 }, (_, i) => client(i));
    await sleep(500);
    execFileSync(path.join(root, 'tests/pg-cluster'), ['pause', cluster]);
    await sleep(1500);
    problem(assert, await call(server, 'GET', '/readyz'), 503);
    assert.equal((await call(server, 'GET', '/healthz')).status, 200, 'alive while the database is not');
    execFileSync(path.join(root, 'tests/pg-cluster'), ['resume', cluster]);
    let ready = false;
    for (let i = 0; i < 100 && !ready; i++) {
      ready = (await call(server, 'GET', '/readyz')).status === 200;
      if (!ready) await sleep(100);
    }
    assert.ok(ready, 'ready again once the database is back');
    await sleep(600); // a connect that failed just before may pause the others 250 ms more
    const after = new Map(statuses);
    await sleep(800);
    running = false;
    await Promise.all(clients);
    assert.ok((statuses.get(503) ?? 0) > 0, `503s while down: ${JSON.stringify([...statuses])}`);
    assert.ok(statuses.get(200) > (after.get(200) ?? 0), 'requests succeed after recovery');
    assert.equal(statuses.get(503), after.get(503), 'no 503 once ready again');
    const { code } = await server.stop();
    assert.equal(code, 0, server.stderr().slice(-3000));
  });
});
