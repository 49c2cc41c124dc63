// History of environments against the real binary: revision lists (pages, summaries),
// revision documents (secrets masked), unified and JSON diffs of the rendered manifests
// between revisions and between environments (secret values never shown, not even as
// base64), rollback (a new revision equal to the old one, If-Match honoured), errors.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createToken, start, tempDir, removeDir } from './lib/server.mjs';
import { call as rawCall, problem, pointer } from './lib/client.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const seed = (name) => JSON.parse(readFileSync(path.join(root, 'migrations/seed/msa-shop', name), 'utf8'));
const ENV = '/api/v1/stacks/msa-shop/environments/prod';
const NEW_JWT = 'rotated-jwt-secret-value-42';
const SECRETS = [...Object.values(seed('prod.json').secrets), ...Object.values(seed('staging.json').secrets), NEW_JWT];
const b64 = (s) => Buffer.from(s).toString('base64');

let dir;
let server;
const tokens = {};
const call = (...a) => rawCall(server, ...a);

function assertNoSecrets(text) {
  for (const v of SECRETS) {
    assert.ok(!text.includes(v), `secret value ${v} leaked`);
    assert.ok(!text.includes(b64(v)), `secret value ${v} leaked as base64`);
  }
}

const patch = (body, headers = {}) =>
  call('PATCH', ENV, { body, type: 'application/merge-patch+json', headers: { authorization: `Bearer ${tokens.alice}`, ...headers } });

/* Checks the shape of a unified diff: file headers, hunk line counts, at most 3 lines of
 * context before and after the changes of each hunk. Returns the files named. */
function checkUnified(text) {
  const lines = text.split('\n');
  assert.equal(lines.pop(), '', 'the diff ends with a newline');
  const files = [];
  let i = 0;
  while (i < lines.length) {
    assert.match(lines[i], /^--- (a\/\S+|\/dev\/null)$/, `line ${i + 1}: ${lines[i]}`);
    assert.match(lines[i + 1], /^\+\+\+ (b\/\S+|\/dev\/null)$/);
    files.push((lines[i + 1].startsWith('+++ b/') ? lines[i + 1] : lines[i]).slice(6));
    i += 2;
    while (i < lines.length && lines[i].startsWith('@@')) {
      const m = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$/.exec(lines[i]);
      assert.ok(m, `bad hunk header ${lines[i]}`);
      let old = m[2] === undefined ? 1 : Number(m[2]);
      let neu = m[4] === undefined ? 1 : Number(m[4]);
      i++;
      const marks = [];
      while (old > 0 || neu > 0) {
        const c = lines[i][0];
        assert.ok(c === ' ' || c === '-' || c === '+', `bad hunk line ${lines[i]}`);
        if (c !== '+') old--;
        if (c !== '-') neu--;
        marks.push(c);
        i++;
        if (lines[i] === '\\ No newline at end of file') i++;
      }
      assert.equal(old, 0);
      assert.equal(neu, 0);
      const lead = marks.findIndex((c) => c !== ' ');
      const trail = [...marks].reverse().findIndex((c) => c !== ' ');
      assert.ok(lead >= 0 && lead <= 3 && trail <= 3, `context ${lead}/${trail}`);
    }
  }
  return files;
}

before(async () => {
  dir = tempDir();
  server = await start({ db: path.join(dir, 'data/manifestd.db') });
  // the history names the token of each change
  tokens.alice = createToken(path.join(dir, 'data/manifestd.db'), { name: 'alice', role: 'editor' });
  tokens.bob = createToken(path.join(dir, 'data/manifestd.db'), { name: 'bob', role: 'editor' });
  // revision 2: replicas and a config value; 3: a secret rotated; 4: image tag
  let r = await patch({ services: { 'user-service': { replicas: 4 } }, config: { 'db-host': 'mysql-primary' } });
  assert.equal(r.status, 200, r.text);
  r = await patch({ secrets: { 'jwt-secret': NEW_JWT } });
  assert.equal(r.status, 200, r.text);
  r = await patch({ image: { tag: '1.4.3' } });
  assert.equal(r.status, 200, r.text);
});

after(async () => {
  if (server) {
    const { code } = await server.stop();
    assert.equal(code, 0, server.stderr());
  }
  removeDir(dir);
});

describe('revisions', () => {
  test('newest first with time, actor and a one-line summary', async () => {
    const r = await call('GET', `${ENV}/revisions`);
    assert.equal(r.status, 200, r.text);
    const revs = r.json.items.map((x) => x.revision);
    assert.deepEqual(revs.slice(0, 4), [4, 3, 2, 1]);
    const [r4, r3, r2, r1] = r.json.items;
    assert.equal(r1.kind, 'create');
    assert.equal(r1.summary, 'created');
    assert.equal(r1.actor, 'migration:0002_seed_msa_shop');
    assert.equal(r2.actor, 'token:alice', 'the actor is the name of the token');
    assert.match(r2.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(r2.summary, /services\.user-service\.replicas set to 4/);
    assert.match(r2.summary, /config\.db-host (added|changed)/);
    assert.equal(r3.summary, 'secrets.jwt-secret changed');
    assert.equal(r4.summary, 'image.tag "1.4.2" -> "1.4.3"');
    assert.equal(r.json.next, null);
    assertNoSecrets(r.text);
  });

  test('pages walk every revision once', async () => {
    const seen = [];
    let cursor = '';
    for (let n = 0; n < 10; n++) {
      const r = await call('GET', `${ENV}/revisions?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.items.length, 1);
      seen.push(r.json.items[0].revision);
      if (r.json.next === null) break;
      assert.equal(r.json.next, r.json.items[0].revision);
      cursor = r.json.next;
    }
    assert.deepEqual(seen, [4, 3, 2, 1]);
  });

  test('errors: bad limit or cursor, unknown stack or environment', async () => {
    problem(assert, await call('GET', `${ENV}/revisions?limit=0`), 400);
    problem(assert, await call('GET', `${ENV}/revisions?limit=1001`), 400);
    problem(assert, await call('GET', `${ENV}/revisions?cursor=x`), 400);
    problem(assert, await call('GET', '/api/v1/stacks/nope/environments/prod/revisions'), 404);
    problem(assert, await call('GET', '/api/v1/stacks/msa-shop/environments/nope/revisions'), 404);
    problem(assert, await call('POST', `${ENV}/revisions`), 405);
  });

  test('one revision: the document as it was, secrets masked', async () => {
    const r = await call('GET', `${ENV}/revisions/1`);
    assert.equal(r.status, 200, r.text);
    const want = seed('prod.json');
    for (const k of Object.keys(want.secrets)) want.secrets[k] = { set: true };
    assert.deepEqual(r.json.document, want);
    assert.equal(r.json.revision, 1);
    assert.equal(r.json.stack, 'msa-shop');
    assert.equal(r.json.name, 'prod');
    assertNoSecrets(r.text);
    const r3 = await call('GET', `${ENV}/revisions/3`);
    assert.deepEqual(r3.json.document.secrets['jwt-secret'], { set: true });
    problem(assert, await call('GET', `${ENV}/revisions/99`), 404);
    problem(assert, await call('GET', `${ENV}/revisions/0`), 400);
    problem(assert, await call('GET', `${ENV}/revisions/abc`), 400);
  });
});

describe('diffs', () => {
  test('unified diff of the rendered manifests between revisions', async () => {
    const r = await call('GET', `${ENV}/diff?from=1&to=2`);
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type'), /^text\/x-diff/);
    const files = checkUnified(r.text);
    assert.ok(files.includes('10-config.yaml'), files.join());
    assert.ok(files.includes('50-user-service.yaml'));
    assert.match(r.text, /^-  db-host: mysql$/m);
    assert.match(r.text, /^\+  db-host: mysql-primary$/m);
    assert.match(r.text, /^-  replicas: 3$/m); // prod's serviceDefaults
    assert.match(r.text, /^\+  replicas: 4$/m);
    assert.doesNotMatch(r.text, /manifestd\.io\/(revision|bundle-hash)/);
    // to defaults to the current revision, from to the one before
    const d = await call('GET', `${ENV}/diff`);
    assert.equal(d.status, 200);
    assert.match(d.text, /^\+ +image: ghcr\.io\/msa-shop\/order-service:1\.4\.3$/m);
    checkUnified(d.text);
    // revision 1 (and from=0) diffs against nothing: every file is added
    for (const q of ['/api/v1/stacks/msa-shop/environments/dev/diff', `${ENV}/diff?from=0&to=1`]) {
      const first = await call('GET', q);
      assert.equal(first.status, 200, first.text);
      assert.match(first.text, /^--- \/dev\/null\n\+\+\+ b\/00-namespace\.yaml\n@@ -0,0 \+1,\d+ @@$/m);
      assert.doesNotMatch(first.text, /^(?!--- \/dev\/null$)[- ]/m);
      checkUnified(first.text);
      assertNoSecrets(first.text);
    }
    const same = await call('GET', `${ENV}/diff?from=2&to=2`);
    assert.equal(same.status, 200);
    assert.equal(same.text, '');
  });

  test('a rotated secret changes no manifest text and never shows', async () => {
    const r = await call('GET', `${ENV}/diff?from=2&to=3`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, '');
    const all = await call('GET', `${ENV}/diff?from=1&to=4`);
    assertNoSecrets(all.text);
    const j = await call('GET', `${ENV}/diff?from=1&to=4&format=json`);
    assertNoSecrets(j.text);
  });

  test('structured diff: changed objects and fields', async () => {
    const r = await call('GET', `${ENV}/diff?from=1&to=2&format=json`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.from, { environment: 'prod', revision: 1 });
    assert.deepEqual(r.json.to, { environment: 'prod', revision: 2 });
    const cm = r.json.changes.find((c) => c.kind === 'ConfigMap' && c.name === 'msa-shop-config');
    assert.equal(cm.change, 'modified');
    assert.equal(cm.file, '10-config.yaml');
    assert.deepEqual(cm.fields, [{ path: '/data/db-host', from: 'mysql', to: 'mysql-primary' }]);
    const dep = r.json.changes.find((c) => c.kind === 'Deployment' && c.name === 'user-service');
    assert.deepEqual(dep.fields.find((f) => f.path === '/spec/replicas'), { path: '/spec/replicas', from: 3, to: 4 });
    assert.ok(!r.json.changes.some((c) => c.kind === 'Secret'));
    for (const c of r.json.changes) for (const f of c.fields) assert.notEqual(pointer({}, f.path), null);
  });

  test('diff between two environments', async () => {
    const r = await call('GET', '/api/v1/stacks/msa-shop/diff?from=staging&to=prod');
    assert.equal(r.status, 200, r.text);
    const files = checkUnified(r.text);
    assert.ok(files.includes('00-namespace.yaml'));
    assert.match(r.text, /^-  name: msa-shop-staging$/m);
    assert.match(r.text, /^\+  name: msa-shop-prod$/m);
    assertNoSecrets(r.text);
    const j = await call('GET', '/api/v1/stacks/msa-shop/diff?from=staging&to=prod&format=json');
    assert.equal(j.status, 200);
    assert.equal(j.json.from.environment, 'staging');
    assert.ok(j.json.changes.some((c) => c.kind === 'HorizontalPodAutoscaler' && c.change === 'added'));
    assertNoSecrets(j.text);
    const self = await call('GET', '/api/v1/stacks/msa-shop/diff?from=prod&to=prod');
    assert.equal(self.text, '');
  });

  test('diff of a proposed document against the current revision, nothing stored', async () => {
    const cur = await call('GET', ENV);
    const doc = structuredClone(cur.json.document);
    doc.services = { ...(doc.services ?? {}), 'product-service': { replicas: 5 } };
    doc.secrets['jwt-secret'] = 'proposed-secret-value-77';
    const r = await call('POST', `${ENV}/diff`, { body: doc });
    assert.equal(r.status, 200, r.text);
    checkUnified(r.text);
    assert.match(r.text, /^\+  replicas: 5$/m);
    assert.ok(!r.text.includes('proposed-secret-value-77'));
    assert.ok(!r.text.includes(b64('proposed-secret-value-77')));
    const j = await call('POST', `${ENV}/diff?format=json`, { body: doc });
    assert.deepEqual(j.json.to, { environment: 'prod', revision: null });
    assert.equal(j.json.from.revision, cur.json.revision);
    assert.deepEqual(j.json.changes.map((c) => `${c.kind}/${c.name}`), ['Deployment/product-service']);
    assert.equal((await call('GET', ENV)).json.revision, cur.json.revision);
    const bad = await call('POST', `${ENV}/diff`, { body: { replicaz: 1 } });
    problem(assert, bad, 422);
    assert.equal(bad.json.errors[0].pointer, '/replicaz');
    problem(assert, await call('POST', `${ENV}/diff`, { body: { services: { nope: { port: 1 } } } }), 422);
    problem(assert, await call('POST', '/api/v1/stacks/msa-shop/environments/nope/diff', { body: {} }), 404);
  });

  test('diff errors', async () => {
    problem(assert, await call('GET', `${ENV}/diff?from=1&to=99`), 404);
    problem(assert, await call('GET', `${ENV}/diff?from=x`), 400);
    problem(assert, await call('GET', `${ENV}/diff?from=1&format=html`), 400);
    problem(assert, await call('GET', `${ENV}/diff?from=-1`), 400);
    problem(assert, await call('GET', '/api/v1/stacks/nope/environments/prod/diff?from=1'), 404);
    problem(assert, await call('GET', '/api/v1/stacks/msa-shop/diff?from=staging'), 400);
    problem(assert, await call('GET', '/api/v1/stacks/msa-shop/diff?from=staging&to=nope'), 404);
    problem(assert, await call('GET', '/api/v1/stacks/nope/diff?from=a&to=b'), 404);
  });
});

describe('rollback', () => {
  test('a new revision whose document equals the old one; secrets keep their values', async () => {
    const before = await call('GET', ENV);
    const cur = before.json.revision;
    problem(assert, await call('POST', `${ENV}/rollback`, { body: { revision: 1 }, headers: { 'If-Match': `"${cur - 1}"` } }), 412);
    const r = await call('POST', `${ENV}/rollback`, { body: { revision: 1 }, headers: { 'If-Match': `"${cur}"`, authorization: `Bearer ${tokens.bob}` } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.revision, cur + 1);
    assert.equal(r.headers.get('etag'), `"${cur + 1}"`);
    const rev1 = await call('GET', `${ENV}/revisions/1`);
    assert.deepEqual(r.json.document, rev1.json.document);
    const now = await call('GET', ENV);
    assert.deepEqual(now.json.document, rev1.json.document);
    // append-only: every earlier revision is still there, the new one on top
    const list = await call('GET', `${ENV}/revisions`);
    assert.deepEqual(list.json.items.map((x) => x.revision), [cur + 1, ...Array.from({ length: cur }, (_, i) => cur - i)]);
    assert.equal(list.json.items[0].actor, 'token:bob');
    // the rotated jwt secret (stored after revision 1) is the value rendered now
    const m = await call('GET', `${ENV}/manifests?format=json`);
    const secret = m.json.items.find((o) => o.kind === 'Secret');
    const data = { ...(secret.data ?? {}) };
    for (const [k, v] of Object.entries(secret.stringData ?? {})) data[k] = b64(v);
    assert.equal(data['jwt-secret'], b64(NEW_JWT));
    // and the diff to the rolled-back revision is empty
    const d = await call('GET', `${ENV}/diff?from=1&to=${cur + 1}`);
    assert.equal(d.text, '');
  });

  test('rollback errors', async () => {
    problem(assert, await call('POST', `${ENV}/rollback`, { body: { revision: 999 } }), 404);
    problem(assert, await call('POST', `${ENV}/rollback`, { body: { revision: 0 } }), 422);
    problem(assert, await call('POST', `${ENV}/rollback`, { body: { revision: 1, extra: true } }), 422);
    problem(assert, await call('POST', `${ENV}/rollback`, { body: {} }), 422);
    problem(assert, await call('POST', `${ENV}/rollback`, { body: 'revision=1', type: 'text/plain' }), 415);
    problem(assert, await call('POST', `${ENV}/rollback`, { body: { revision: 1 }, headers: { 'If-Match': 'nonsense' } }), 400);
    problem(assert, await call('POST', '/api/v1/stacks/msa-shop/environments/nope/rollback', { body: { revision: 1 } }), 404);
  });

  test('an environment created again starts a new history', async () => {
    const E = '/api/v1/stacks/msa-shop/environments/scratch';
    let r = await call('POST', '/api/v1/stacks/msa-shop/environments', { body: { name: 'scratch', from: 'staging' } });
    assert.equal(r.status, 201, r.text);
    r = await call('PATCH', E, { body: { image: { tag: '9.9.9' } }, type: 'application/merge-patch+json' });
    assert.equal(r.status, 200, r.text);
    assert.equal((await call('DELETE', E)).status, 204);
    problem(assert, await call('GET', `${E}/revisions`), 404);
    r = await call('POST', '/api/v1/stacks/msa-shop/environments', { body: { name: 'scratch', from: 'dev' } });
    assert.equal(r.status, 201, r.text);
    r = await call('GET', `${E}/revisions`);
    assert.deepEqual(r.json.items.map((x) => x.revision), [1]);
    problem(assert, await call('GET', `${E}/revisions/2`), 404);
  });
});
