// Upgrade: a database written by the previous release (tests/data/release-0005, made at
// schema migration 0005 with the shape-1 document) is opened by this binary, which
// migrates it. Every stack, environment and history revision comes out in the new shape
// (tests/data/release-0005/migrated/), the tokens still work, every environment renders
// the objects the previous release rendered (with this release's designed changes, see
// common()), and old revisions still roll back.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { keepSqlite, start, tempDir, removeDir } from './lib/server.mjs';
import { call as rawCall } from './lib/client.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const release = path.join(root, 'tests/data/release-0005');
const readJson = (...p) => JSON.parse(readFileSync(path.join(release, ...p), 'utf8'));
const ENVIRONMENTS = [['legacy', 'live'], ['legacy', 'qa'], ['msa-shop', 'dev'], ['msa-shop', 'staging'], ['msa-shop', 'prod']];

// What a render says about where it comes from (revision, bundle hash) is not the object:
// the previous release wrote it on every object.
function withoutProvenance(obj) {
  const o = structuredClone(obj);
  const a = o.metadata.annotations ?? {};
  delete a['manifestd.io/revision'];
  delete a['manifestd.io/bundle-hash'];
  if (Object.keys(a).length === 0) delete o.metadata.annotations;
  return o;
}

// MySQL's init Job is named by a hash of its whole spec now, no longer of its files only.
const id = (o) => `${o.kind}/${o.kind === 'Job' ? o.metadata.name.replace(/^mysql-init-[0-9a-f]{8}$/, 'mysql-init') : o.metadata.name}`;
const byId = (items) => new Map(items.map((o) => [id(o), withoutProvenance(o)]));

// What this release renders differently by design (issue 14), on top of the same objects:
// the provenance ConfigMap <stack>-bundle and a headless Service governing each StatefulSet
// are new objects; a StatefulSet names that Service; a pod's checksums cover only what it
// reads (MySQL's init files moved from its pod to its init Job, which names itself by a
// hash of its spec); pods that can run more than one at a time are spread over nodes. This turns an
// object of either release into what both have in common.
function common(obj) {
  const o = structuredClone(obj);
  if (o.kind === 'StatefulSet') delete o.spec.serviceName;
  const pod = o.spec?.template;
  const a = pod?.metadata?.annotations ?? {};
  for (const k of Object.keys(a)) if (k.startsWith('checksum/')) delete a[k];
  if (o.kind === 'Job') delete o.metadata.name;
  if (pod && Object.keys(a).length === 0) delete pod.metadata.annotations;
  delete pod?.spec?.topologySpreadConstraints;
  return o;
}

describe('a database of the previous release', () => {
  let dir;
  let server;
  const call = (...a) => rawCall(server, ...a);

  before(async () => {
    dir = tempDir();
    // the previous release stored in SQLite only: the file is the database in both stages
    const db = keepSqlite(path.join(dir, 'manifestd.db'));
    copyFileSync(path.join(release, 'manifestd.db'), db);
    copyFileSync(path.join(release, 'manifestd.key'), path.join(dir, 'manifestd.key'));
    chmodSync(path.join(dir, 'manifestd.key'), 0o600);
    // the editor token the previous release made keeps working
    server = await start({ db, token: readFileSync(path.join(release, 'token.txt'), 'utf8').trim() });
  });

  after(async () => {
    await server?.stop();
    removeDir(dir);
  });

  test('every stack and environment is in the new shape', async () => {
    for (const [stack, env] of [['legacy'], ['legacy', 'live'], ['legacy', 'qa'], ['msa-shop'], ['msa-shop', 'staging']]) {
      const p = env ? `/api/v1/stacks/${stack}/environments/${env}` : `/api/v1/stacks/${stack}`;
      const r = await call('GET', p);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json.document, readJson('migrated', env ? `${stack}-${env}.json` : `${stack}.json`), p);
    }
  });

  test('every environment renders what the previous release rendered', async () => {
    for (const [stack, env] of ENVIRONMENTS) {
      const r = await call('GET', `/api/v1/stacks/${stack}/environments/${env}/manifests?format=json`);
      assert.equal(r.status, 200, r.text);
      const want = byId(readJson(`render-${stack}-${env}.json`).items);
      const got = byId(r.json.items);
      const added = [`ConfigMap/${stack}-bundle`, ...[...want.keys()].filter((id) => id.startsWith('StatefulSet/'))
        .map((id) => `Service/${id.slice('StatefulSet/'.length)}-headless`)];
      for (const id of added) assert.ok(got.delete(id), `${stack}/${env}: ${id} is new`);
      assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), `${stack}/${env}: the same objects`);
      for (const [id, obj] of want) assert.deepEqual(common(got.get(id)), common(obj), `${stack}/${env}: ${id}`);
      for (const [id, obj] of got) {
        if (obj.kind === 'StatefulSet') assert.equal(obj.spec.serviceName, `${obj.metadata.name}-headless`, id);
      }
    }
  });

  test('history is intact and every revision is in the new shape', async () => {
    const list = await call('GET', '/api/v1/stacks/legacy/environments/live/revisions');
    assert.deepEqual(list.json.items.map((i) => [i.revision, i.kind]), [[2, 'update'], [1, 'create']]);
    assert.match(list.json.items[0].summary, /services\.web\.replicas set to 3/);
    const first = await call('GET', '/api/v1/stacks/legacy/environments/live/revisions/1');
    assert.deepEqual(first.json.document.services.web.probes.readiness, { httpGet: { path: '/ready' } });
    assert.equal(first.json.document.ingress.rules.main.host, 'legacy.example.com');
    assert.equal(first.json.document.ingress.host, undefined);
  });

  test('an old revision rolls back and renders', async () => {
    const cur = await call('GET', '/api/v1/stacks/legacy/environments/live');
    const r = await call('POST', '/api/v1/stacks/legacy/environments/live/rollback', {
      body: { revision: 1 }, headers: { 'if-match': cur.headers.get('etag') },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.revision, 3);
    assert.equal(r.json.document.services.web.replicas, undefined);
    const m = await call('GET', '/api/v1/stacks/legacy/environments/live/manifests?format=json');
    assert.equal(m.status, 200, m.text);
    const web = m.json.items.find((o) => o.kind === 'Deployment' && o.metadata.name === 'web');
    assert.equal(web.spec.replicas, 2);
    assert.equal(web.spec.template.spec.containers[0].readinessProbe.httpGet.path, '/ready');
  });
});
