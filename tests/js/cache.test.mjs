// The render cache seen from outside: repeated renders give the same bytes, a write to the
// environment or the stack gives new bytes and a new ETag at once (never a cached bundle
// of the old document), an old ETag is not answered with 304, and overrides that differ
// are never served each other's bundle.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { start, tempDir, removeDir } from './lib/server.mjs';

let dir;
let server;

before(async () => {
  dir = tempDir();
  server = await start({ db: path.join(dir, 'db.sqlite') });
});

after(async () => {
  const { code } = await server.stop();
  removeDir(dir);
  assert.equal(code, 0);
});

async function get(p, headers = {}) {
  const res = await fetch(server.url + p, { headers });
  return { status: res.status, etag: res.headers.get('etag'), body: Buffer.from(await res.arrayBuffer()) };
}

async function post(p, body, headers = {}) {
  const res = await fetch(server.url + p, {
    method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers },
  });
  return { status: res.status, etag: res.headers.get('etag'), body: Buffer.from(await res.arrayBuffer()) };
}

async function patch(p, body) {
  const res = await fetch(server.url + p, {
    method: 'PATCH', body: JSON.stringify(body), headers: { 'content-type': 'application/merge-patch+json' },
  });
  assert.equal(res.status, 200, await res.text());
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const prodSeed = JSON.parse(readFileSync(path.join(root, 'migrations/seed/msa-shop/prod.json'), 'utf8'));

// PUT the stack back with config key k set to v.
async function setStackConfig(k, v) {
  const rep = await (await fetch(server.url + STACK)).json();
  rep.document.config[k] = v;
  const res = await fetch(server.url + STACK, {
    method: 'PUT', body: JSON.stringify(rep.document), headers: { 'content-type': 'application/json' },
  });
  assert.equal(res.status, 200, await res.text());
}

const ENV = '/api/v1/stacks/msa-shop/environments/staging';
const STACK = '/api/v1/stacks/msa-shop';

for (const format of ['yaml', 'zip', 'json']) {
  test(`manifests (${format}): same bytes when repeated, new bytes right after a write`, async () => {
    const url = `${ENV}/manifests?format=${format}`;
    const a = await get(url);
    const b = await get(url);
    assert.equal(a.status, 200);
    assert.ok(a.body.equals(b.body));
    assert.equal(a.etag, b.etag);
    assert.equal((await get(url, { 'if-none-match': a.etag })).status, 304);

    const replicas = 2 + Math.floor(Math.random() * 5);
    await patch(ENV, { services: { 'order-service': { replicas } } });
    const c = await get(url);
    assert.equal(c.status, 200);
    assert.notEqual(c.etag, a.etag);
    assert.ok(!c.body.equals(a.body));
    if (format === 'json') {
      const deploy = JSON.parse(c.body).items.find((o) => o.kind === 'Deployment' && o.metadata.name === 'order-service');
      assert.equal(deploy.spec.replicas, replicas);
    }
    const old = await get(url, { 'if-none-match': a.etag });
    assert.equal(old.status, 200);
    assert.ok(old.body.equals(c.body));
  });
}

test('a stack write changes the bundles of its environments at once', async () => {
  const url = `${ENV}/manifests?format=json`;
  const a = await get(url);
  await setStackConfig('cache-test', 'value-1');
  const b = await get(url);
  assert.notEqual(b.etag, a.etag);
  const cm = JSON.parse(b.body).items.find((o) => o.kind === 'ConfigMap' && o.data && 'cache-test' in o.data);
  assert.equal(cm.data['cache-test'], 'value-1');
  await setStackConfig('cache-test', 'value-2');
  const c = JSON.parse((await get(url)).body).items.find((o) => o.kind === 'ConfigMap' && o.data && 'cache-test' in o.data);
  assert.equal(c.data['cache-test'], 'value-2');
});

test('POST /render: identical bodies share a bundle, different overrides never do', async () => {
  const body = (tag) => ({ stack: 'msa-shop', environment: 'prod', overrides: { image: { tag } } });
  const a1 = await post('/render?format=yaml', body('9.9.1'));
  const a2 = await post('/render?format=yaml', body('9.9.1'));
  const b = await post('/render?format=yaml', body('9.9.2'));
  assert.equal(a1.status, 200);
  assert.ok(a1.body.equals(a2.body));
  assert.equal(a1.etag, a2.etag);
  assert.ok(a1.body.toString().includes(':9.9.1'));
  assert.ok(b.body.toString().includes(':9.9.2'));
  assert.ok(!b.body.toString().includes(':9.9.1'));
  // the same overrides in another key order are the same request
  const reordered = await post('/render?format=yaml', { overrides: { image: { tag: '9.9.1' } }, environment: 'prod', stack: 'msa-shop' });
  assert.ok(reordered.body.equals(a1.body));
  // formats are kept apart
  const zip = await post('/render?format=zip', body('9.9.1'));
  assert.equal(zip.body.subarray(0, 2).toString(), 'PK');
  assert.equal((await post('/render?format=yaml', body('9.9.1'), { 'if-none-match': a1.etag })).status, 304);
  // inline documents are part of the key too
  const inline = (ns) => ({ stack: 'msa-shop', environment: { ...prodSeed, namespace: ns } });
  const i1 = await post('/render?format=yaml', inline('cache-a'));
  const i2 = await post('/render?format=yaml', inline('cache-b'));
  assert.equal(i1.status, 200);
  assert.ok(i1.body.toString().includes('namespace: cache-a'));
  assert.ok(i2.body.toString().includes('namespace: cache-b'));
});

test('--cache-size 0 renders every time, with the same bytes', async () => {
  const d = tempDir();
  const s = await start({ db: path.join(d, 'db.sqlite'), args: ['--cache-size', '0'] });
  try {
    const url = `${s.url}${ENV}/manifests?format=yaml`;
    const a = Buffer.from(await (await fetch(url)).arrayBuffer());
    const b = Buffer.from(await (await fetch(url)).arrayBuffer());
    assert.ok(a.equals(b));
    const mine = await get(`${ENV}/manifests?format=yaml`);
    assert.ok(mine.body.length > 1000);
  } finally {
    assert.equal((await s.stop()).code, 0);
    removeDir(d);
  }
});
