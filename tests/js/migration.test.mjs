// Upgrade: databases written by earlier releases (tests/data/release-0005, made at schema
// migration 0005 with the shape-1 document; tests/data/release-0006, made by the release
// before components, shape 2) are opened by this binary, which migrates them. Every
// stack, environment and history revision comes out in the new shape
// (tests/data/release-0005/migrated/), the tokens still work, every environment renders
// the objects the release rendered (with this release's designed changes, see common()
// and sameObjects()), and old revisions still roll back.
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
  if (o.kind === 'ConfigMap' && o.metadata.name.endsWith('-bundle')) delete o.data.bundleHash;
  const a = o.metadata.annotations ?? {};
  delete a['manifestd.io/revision'];
  delete a['manifestd.io/bundle-hash'];
  if (Object.keys(a).length === 0) delete o.metadata.annotations;
  return o;
}

const id = (o) => `${o.kind}/${o.metadata.name}`;
const byId = (items) => new Map(items.map((o) => [id(o), withoutProvenance(o)]));

// What this release renders differently by design (issue 14), on top of the same objects:
// the provenance ConfigMap <stack>-bundle and a headless Service governing each StatefulSet
// are new objects; a StatefulSet names that Service; a pod's checksums cover only what it
// reads; pods that can run more than one at a time are spread over nodes; the containers
// that wait for a database or broker mount a writable /tmp. This turns an object of either
// release into what both have in common.
function common(obj) {
  const o = structuredClone(obj);
  if (o.kind === 'StatefulSet') delete o.spec.serviceName;
  const pod = o.spec?.template;
  const a = pod?.metadata?.annotations ?? {};
  for (const k of Object.keys(a)) if (k.startsWith('checksum/')) delete a[k];
  if (pod && Object.keys(a).length === 0) delete pod.metadata.annotations;
  delete pod?.spec?.topologySpreadConstraints;
  for (const c of pod?.spec?.initContainers ?? []) delete c.volumeMounts;
  return o;
}

// MySQL, RabbitMQ and Zipkin became components (issue 13): their workloads are the catalog
// types' (the software's own probes, a provisioning Job <name>-provision with its ConfigMap
// and ServiceAccount instead of MySQL's init Job and ConfigMap mysql-initdb). What must not
// change, so that the upgrade keeps the data and the consumers' connections, is what
// identifies them: names, labels, selectors, claims, images, ports, the secret keys read,
// and their Services.
const COMPONENTS = ['mysql', 'rabbitmq', 'zipkin'];
const ofComponent = (key) => COMPONENTS.some((c) => key.endsWith(`/${c}`) || key.includes(`/${c}-provision`)) ||
  key === 'ConfigMap/mysql-initdb' || /^Job\/mysql-init-[0-9a-f]{8}$/.test(key);
function identity(obj) {
  const pod = obj.spec.template.spec;
  const secretKeys = new Set(pod.containers.flatMap((c) => (c.env ?? []).map((e) => e.valueFrom?.secretKeyRef?.key).filter(Boolean)));
  return {
    labels: obj.metadata.labels, selector: obj.spec.selector, claims: obj.spec.volumeClaimTemplates,
    containers: pod.containers.map((c) => [c.name, c.image, c.ports]), serviceAccount: pod.serviceAccountName,
    secretKeys: [...secretKeys].sort(),
  };
}

// What the release rendered (wantItems) against what this binary renders (gotItems) for
// stack: the same objects but for the designed changes above (component workloads by what
// identifies them; their provisioning objects in place of MySQL's init Job and ConfigMap);
// issue 14's new objects (the bundle ConfigMap, headless Services) when since0005.
function sameObjects(label, stack, wantItems, gotItems, since0005) {
  const want = byId(wantItems);
  const got = byId(gotItems);
  for (const key of [...want.keys()]) {
    if (!ofComponent(key)) continue;
    const w = want.get(key), g = got.get(key);
    want.delete(key);
    if (!g) continue;
    got.delete(key);
    if (w.kind === 'StatefulSet' || w.kind === 'Deployment') assert.deepEqual(identity(g), identity(w), `${label}: ${key}`);
    else assert.deepEqual(common(g), common(w), `${label}: ${key}`);
  }
  const provisioned = COMPONENTS.filter((c) => got.has(`ConfigMap/${c}-provision`));
  assert.equal(provisioned.includes('mysql'), wantItems.some((o) => id(o) === 'ConfigMap/mysql-initdb'), `${label}: MySQL's provisioning`);
  for (const c of provisioned) {
    const job = [...got.keys()].find((k) => new RegExp(`^Job/${c}-provision-[0-9a-f]{8}$`).test(k));
    assert.ok(job, `${label}: ${c}'s provisioning Job`);
    for (const k of [`ConfigMap/${c}-provision`, `ServiceAccount/${c}-provision`, job]) got.delete(k);
  }
  const added = since0005 ? [`ConfigMap/${stack}-bundle`, ...gotItems.map(id).filter((k) => k.startsWith('StatefulSet/'))
    .map((k) => `Service/${k.slice('StatefulSet/'.length)}-headless`)] : [];
  for (const k of added) assert.ok(got.delete(k), `${label}: ${k} is new`);
  assert.deepEqual([...got.keys()].filter((k) => !ofComponent(k)).sort(), [...want.keys()].sort(), `${label}: the same objects`);
  for (const [k, obj] of want) assert.deepEqual(common(got.get(k)), common(obj), `${label}: ${k}`);
  for (const obj of gotItems) {
    if (obj.kind === 'StatefulSet') assert.equal(obj.spec.serviceName, `${obj.metadata.name}-headless`, `${label}: ${id(obj)}`);
  }
}

// A copy of the database of the release in folder (with its key) in dir, served by this
// binary with the token that release made. Those releases stored in SQLite only: the file
// is the database in both stages.
async function openRelease(folder, dir) {
  const db = keepSqlite(path.join(dir, 'manifestd.db'));
  copyFileSync(path.join(folder, 'manifestd.db'), db);
  copyFileSync(path.join(folder, 'manifestd.key'), path.join(dir, 'manifestd.key'));
  chmodSync(path.join(dir, 'manifestd.key'), 0o600);
  return start({ db, token: readFileSync(path.join(folder, 'token.txt'), 'utf8').trim() });
}

describe('a database of the previous release', () => {
  let dir;
  let server;
  const call = (...a) => rawCall(server, ...a);

  before(async () => {
    dir = tempDir();
    server = await openRelease(release, dir);
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
      sameObjects(`${stack}/${env}`, stack, readJson(`render-${stack}-${env}.json`).items, r.json.items, true);
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

describe('a database of the release before components (schema 0006)', () => {
  const folder = path.join(root, 'tests/data/release-0006');
  const read = (name) => JSON.parse(readFileSync(path.join(folder, name), 'utf8'));
  let dir;
  let server;
  const call = (...a) => rawCall(server, ...a);

  before(async () => {
    dir = tempDir();
    server = await openRelease(folder, dir);
  });

  after(async () => {
    await server?.stop();
    removeDir(dir);
  });

  test("MySQL and RabbitMQ become components, each service's database and broker its uses; the built-in manifestd stack is added", async () => {
    const r = await call('GET', '/api/v1/stacks/shop2');
    assert.equal(r.status, 200, r.text);
    const doc = r.json.document;
    assert.equal(doc.mysql, undefined);
    assert.equal(doc.rabbitmq, undefined);
    assert.equal(doc.components.mysql.type, 'mysql');
    assert.equal(doc.components.mysql.storage.size, '7Gi');
    assert.equal(doc.components.rabbitmq.type, 'rabbitmq');
    assert.deepEqual(doc.services.worker.uses, { mysql: { database: 'workerdb', user: 'worker' }, rabbitmq: {} });
    assert.deepEqual(doc.services.worker.command, read('shop2-stack.json').services.worker.command);
    assert.equal(doc.services.worker.database, undefined);
    const stacks = await call('GET', '/api/v1/stacks');
    assert.deepEqual(stacks.json.items.map((i) => i.name), ['manifestd', 'msa-shop', 'shop2']);
  });

  test('every environment renders what that release rendered, but for the components', async () => {
    for (const [stack, env] of [['msa-shop', 'dev'], ['msa-shop', 'staging'], ['msa-shop', 'prod'], ['shop2', 'prod']]) {
      const r = await call('GET', `/api/v1/stacks/${stack}/environments/${env}/manifests?format=json`);
      assert.equal(r.status, 200, r.text);
      sameObjects(`${stack}/${env}`, stack, read(`render-${stack}-${env}.json`).items, r.json.items, false);
    }
  });

  test('history is intact; the revision before the patch rolls back', async () => {
    const p = '/api/v1/stacks/msa-shop/environments/staging';
    const list = await call('GET', `${p}/revisions`);
    assert.deepEqual(list.json.items.map((i) => [i.revision, i.kind]), [[2, 'update'], [1, 'create']]);
    const cur = await call('GET', p);
    assert.equal(cur.json.document.services['order-service'].replicas, 3);
    const r = await call('POST', `${p}/rollback`, { body: { revision: 1 }, headers: { 'if-match': cur.headers.get('etag') } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.document.services?.['order-service']?.replicas, undefined);
    assert.equal((await call('GET', `${p}/manifests?format=json`)).status, 200);
  });
});
