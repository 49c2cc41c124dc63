// Kubernetes YAML import against the real binary, on the real applications of
// tests/data/apps: each imports (the report's paths name places in the input, read with the
// `yaml` package as YAML 1.1; no secret value in the stack), saves, and renders objects the
// strict Kubernetes schema accepts; the round trip (input -> import -> render) keeps at
// least 95% of the workloads' facts (lib/fidelity.mjs) and the report lists every
// difference. Then the API's edges: content types, query errors, what is not Kubernetes,
// hostile YAML, 409 on an existing stack, a result that does not validate.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { problem, pointer } from './lib/client.mjs';
import { importServer, refusesBadRequests, refusesHostileYaml } from './lib/importer.mjs';
import { modelFor, schemaErrors, unknownFields } from './lib/k8s-strict.mjs';
import { fidelity, listedIn, objectsOf } from './lib/fidelity.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const APPS_DIR = path.join(root, 'tests/data/apps');
const APPS = readdirSync(APPS_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
const IMPORT = '/api/v1/import/manifests';
/* The workloads of each application that run an official datastore image: components. */
const DATASTORES = {
  'voting-app': ['db', 'redis'],
  'sock-shop': ['carts-db', 'orders-db', 'rabbitmq', 'session-db'],
  'aks-store': ['rabbitmq'],
  'aks-store-ingress': ['rabbitmq'],
  'online-boutique': ['redis-cart'],
};

/* An application's files as one stream, as a user would send them: each file a document
 * of its own (cat with a "---" between). */
function appText(app) {
  const dir = path.join(APPS_DIR, app);
  return readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()
    .map((f) => `---\n${readFileSync(path.join(dir, f), 'utf8')}\n`).join('');
}

/* The stream as Kubernetes reads it: one value per document (null for an empty one). */
const documents = (text) => parseAllDocuments(text, { version: '1.1' }).map((d) => d.toJS({ maxAliasCount: -1 }));

const { call, post } = importServer(IMPORT, 16 * 1024 * 1024);

/* No value of the environment's secrets is in the stack, unless the input writes it in the
 * open too (an argument, a ConfigMap); the stack has each key with "". */
function assertSecretsSeparate(result, docs) {
  const open = new Set();
  const walk = (v, hidden) => {
    if (typeof v === 'string') { if (!hidden) open.add(v); return; }
    if (v === null || typeof v !== 'object') return;
    const secretObject = v.kind === 'Secret';
    const secretVar = typeof v.name === 'string' && /PASS|SECRET|TOKEN|KEY|CREDENTIAL/i.test(v.name);
    for (const [k, x] of Object.entries(v))
      walk(x, hidden || (secretObject && (k === 'data' || k === 'stringData')) || (secretVar && k === 'value'));
  };
  walk(docs, false);
  const inStack = new Set();
  const collect = (v) => {
    if (typeof v === 'string') inStack.add(v);
    else if (v && typeof v === 'object') Object.values(v).forEach(collect);
  };
  collect(result.stack);
  for (const [k, v] of Object.entries(result.environment.secrets ?? {})) {
    assert.equal(result.stack.secrets[k], '', `stack secret ${k} is empty`);
    assert.ok(!inStack.has(v) || open.has(v), `secret ${k} leaked into the stack`);
  }
}

async function assertStrict(objects, what) {
  for (const obj of objects) {
    const Model = await modelFor(obj.apiVersion, obj.kind);
    assert.ok(Model, `${what}: no model for ${obj.apiVersion} ${obj.kind}`);
    assert.deepEqual(schemaErrors(Model, obj), [], `${what}: ${obj.kind}/${obj.metadata.name}`);
    assert.deepEqual(unknownFields(Model, obj), [], `${what}: ${obj.kind}/${obj.metadata.name}`);
  }
}

describe('real applications', () => {
  for (const app of APPS) {
    test(`${app}: imported, rendered, the same workloads (>= 95%), every difference reported`, async () => {
      const text = appText(app);
      const docs = documents(text);
      const r = await post(text, `?stack=${app}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.errors, undefined, JSON.stringify(r.json.errors));
      for (const item of r.json.report) {
        assert.notEqual(pointer(docs, item.path), undefined, `${item.path} is not in ${app}`);
        assert.ok(item.detail.length > 10);
        assert.match(item.object, /^[A-Za-z]+\/.+$/);
      }
      assertSecretsSeparate(r.json, docs);
      const rendered = await call('POST', '/render?format=json', {
        body: { stack: r.json.stack, stackName: app, environment: r.json.environment, name: 'dev' },
      });
      assert.equal(rendered.status, 200, rendered.text);
      const objects = rendered.json.items;
      await assertStrict(objects, app);
      const components = new Set(Object.keys(r.json.stack.components ?? {}));
      const f = fidelity(objectsOf(docs), objects, { components });
      const unlisted = f.differences.filter((d) => !listedIn(d, r.json.report));
      assert.deepEqual(unlisted, [], `${app}: differences the report does not list`);
      assert.ok(f.score >= 0.95, `${app}: ${f.matched}/${f.total} facts kept: ${JSON.stringify(f.differences.slice(0, 20))}`);
      console.log(`fidelity ${app}: ${f.matched}/${f.total} (${(100 * f.score).toFixed(1)}%), components: ${[...components].join(', ') || 'none'}`);
      for (const name of components)
        assert.ok(r.json.report.some((i) => i.kind === 'guess' && i.detail.includes(`the component '${name}'`)), `${app}: ${name} reported`);
      assert.deepEqual([...components].sort(), DATASTORES[app] ?? [], `${app}: the datastores that are components`);
    });

    test(`${app}: ?datastores=workloads keeps datastores as workloads (>= 95%)`, async () => {
      const text = appText(app);
      const docs = documents(text);
      const r = await post(text, `?stack=${app}&datastores=workloads`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.stack.components, undefined);
      for (const name of DATASTORES[app] ?? []) assert.ok(r.json.stack.services[name], `${app}: ${name} is a service`);
      const rendered = await call('POST', '/render?format=json', {
        body: { stack: r.json.stack, stackName: app, environment: r.json.environment, name: 'dev' },
      });
      assert.equal(rendered.status, 200, rendered.text);
      const f = fidelity(objectsOf(docs), rendered.json.items);
      assert.deepEqual(f.differences.filter((d) => !listedIn(d, r.json.report)), [], `${app}: differences the report does not list`);
      assert.ok(f.score >= 0.95, `${app}: ${f.matched}/${f.total} facts kept`);
      console.log(`fidelity ${app} (datastores=workloads): ${f.matched}/${f.total} (${(100 * f.score).toFixed(1)}%)`);
    });
  }

  test('datastore components: type, secrets, storage, consumers', async () => {
    const voting = (await post(appText('voting-app'), '?stack=voting')).json;
    assert.deepEqual(voting.stack.components.db, { type: 'postgres', image: { repository: 'postgres', tag: '15' } });
    assert.deepEqual(voting.stack.components.redis, { type: 'redis', auth: false });
    assert.equal(voting.environment.secrets['db-root-password'], 'postgres');
    assert.equal(voting.environment.secrets['db-password'], 'postgres');
    assert.ok(!voting.stack.services.db && !voting.stack.services.redis);
    assert.ok(!Object.keys(voting.stack.patches ?? {}).some((k) => k.startsWith('db-') || k.startsWith('redis-')));
    const store = (await post(appText('aks-store'), '?stack=store')).json;
    assert.equal(store.stack.components.rabbitmq.type, 'rabbitmq');
    assert.equal(store.stack.components.rabbitmq.image.tag, '4.3.2-management');
    assert.equal(store.stack.components.rabbitmq.passwordSecret, 'RABBITMQ_DEFAULT_PASS');
    assert.deepEqual(store.stack.services['order-service'].uses, { rabbitmq: {} });
    assert.deepEqual(store.stack.services['makeline-service'].uses, { rabbitmq: {} });
    const boutique = (await post(appText('online-boutique'), '?stack=boutique')).json;
    assert.deepEqual(boutique.stack.services.cartservice.uses, { 'redis-cart': {} });
    const text = 'apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: pg}\nspec:\n  serviceName: pg\n'
      + '  selector: {matchLabels: {app: pg}}\n  template:\n    metadata: {labels: {app: pg}}\n    spec:\n'
      + '      containers: [{name: pg, image: "postgres:16.4", ports: [{containerPort: 5432}], env: [{name: POSTGRES_DB, value: shop}],\n'
      + '        resources: {requests: {cpu: 100m, memory: 256Mi}, limits: {memory: 1Gi}}, volumeMounts: [{name: data, mountPath: /var/lib/postgresql/data}]}]\n'
      + '  volumeClaimTemplates: [{metadata: {name: data}, spec: {accessModes: [ReadWriteOnce], storageClassName: fast, resources: {requests: {storage: 20Gi}}}}]\n---\n'
      + 'apiVersion: v1\nkind: Service\nmetadata: {name: pg}\nspec: {selector: {app: pg}, ports: [{port: 5433, targetPort: 5432}]}\n---\n'
      + 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  selector: {matchLabels: {app: api}}\n  template:\n'
      + '    metadata: {labels: {app: api}}\n    spec:\n      containers: [{name: api, image: "api:1.0", env: [{name: DATABASE_URL, value: "postgres://pg:5433/orders"}]}]\n';
    const r = await post(text);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.errors, undefined, JSON.stringify(r.json.errors));
    const pg = r.json.stack.components.pg;
    assert.deepEqual(pg.storage, { size: '20Gi', className: 'fast' });
    assert.deepEqual(pg.resources, { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '100m', memory: '1Gi' } });
    assert.deepEqual(r.json.stack.services.api.uses, { pg: { database: 'orders' } });
    assert.equal(r.json.stack.services.api.env.DATABASE_URL.value, 'postgres://pg:5433/orders');
    assert.ok(r.json.report.some((i) => i.path === '/1/spec/ports/0' && /port 5433/.test(i.detail)), JSON.stringify(r.json.report));
    assert.ok(r.json.environment.secrets['pg-root-password'] === 'change-me');
  });

  test('saved with the stack and the environment, secrets write-only, 409 the second time', async () => {
    const text = appText('aks-store');
    const r = await post(text, '?save=1&stack=store&environment=test');
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get('location'), '/api/v1/stacks/store');
    assert.deepEqual(r.json.saved, { stack: 'store', environment: 'test' });
    const env = await call('GET', '/api/v1/stacks/store/environments/test');
    assert.equal(env.status, 200);
    assert.ok(Object.keys(env.json.document.secrets).length >= 3);
    for (const v of Object.values(env.json.document.secrets)) assert.deepEqual(v, { set: true });
    const m = await call('GET', '/api/v1/stacks/store/environments/test/manifests?format=json');
    assert.equal(m.status, 200, m.text);
    const secret = m.json.items.find((o) => o.kind === 'Secret');
    assert.equal(Buffer.from(secret.data['ORDER_QUEUE_PASSWORD'], 'base64').toString(), 'password');
    problem(assert, await post(text, '?save=1&stack=store'), 409);
    assert.equal((await call('GET', '/api/v1/stacks/store')).json.revision, 1);
  });
});

describe('the API', () => {
  const small = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n'
    + '  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: "nginx:1.27"}]\n';

  test('content types, methods and query errors', async () => {
    await refusesBadRequests({ call, post }, IMPORT, small);
    const ds = await post(small, '?datastores=maybe');
    problem(assert, ds, 400);
    assert.match(ds.json.detail, /datastores/);
    assert.equal((await post(small, '?datastores=components')).status, 200);
  });

  test('what is not Kubernetes YAML', async () => {
    const compose = await post('services:\n  web:\n    image: nginx:1.27\n');
    problem(assert, compose, 422);
    assert.match(compose.json.detail, /docker-compose/);
    problem(assert, await post('- a\n- b\n'), 422);
    problem(assert, await post('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n'), 422);
    const syntax = await post('apiVersion: v1\nkind: [\n');
    problem(assert, syntax, 422);
    assert.match(syntax.json.detail, /line \d+, column \d+/);
  });

  test('hostile YAML: an alias bomb, deep nesting, binary', async () => {
    await refusesHostileYaml(post, 'kind');
  });

  test('a result that does not render is not stored: a Service with the name of one manifestd renders', async () => {
    const text = 'apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n  serviceName: db\n'
      + '  selector: {matchLabels: {app: db}}\n  template:\n    metadata: {labels: {app: db}}\n    spec:\n'
      + '      containers: [{name: db, image: "postgres:16", ports: [{containerPort: 5432}]}]\n---\n'
      + 'apiVersion: v1\nkind: Service\nmetadata: {name: db-headless}\nspec:\n  selector: {app: other}\n  ports: [{port: 1}]\n';
    const dry = await post(text);
    assert.equal(dry.status, 200, dry.text);
    assert.ok(dry.json.errors?.some((e) => e.pointer.startsWith('/extraObjects/service-db-headless')), JSON.stringify(dry.json.errors));
    const r = await post(text, '?save=1&stack=clash');
    problem(assert, r, 422);
    assert.equal((await call('GET', '/api/v1/stacks/clash')).status, 404);
  });

  test('a result that does not validate is not stored', async () => {
    // an image tag Kubernetes would not pull (it starts with '-'): mapped as written, refused by validation
    const text = small.replace('containers: [{name: web, image: "nginx:1.27"}]', 'containers: [{name: web, image: "nginx:-bad"}]');
    const dry = await post(text);
    assert.equal(dry.status, 200, dry.text);
    assert.ok(dry.json.errors?.some((e) => e.pointer === '/services/web/image/tag'), JSON.stringify(dry.json));
    const r = await post(text, '?save=1&stack=broken');
    problem(assert, r, 422);
    assert.ok(Array.isArray(r.json.errors) && Array.isArray(r.json.report));
    assert.equal((await call('GET', '/api/v1/stacks/broken')).status, 404);
  });
});
