// docker-compose import against the real binary: the three compose files of
// tests/data/compose convert with a report whose paths name real places in the file
// (checked with the `yaml` package), save as a stack + environment that render into
// objects kubernetes-models accepts (strict), secrets stay out of the stack; content
// types, query errors, hostile YAML (alias bombs, depth, size), 409 on an existing stack.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { problem, pointer } from './lib/client.mjs';
import { importServer, refusesBadRequests } from './lib/importer.mjs';
import { modelFor, schemaErrors, unknownFields } from './lib/k8s-strict.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const compose = (name) => readFileSync(path.join(root, 'tests/data/compose', name), 'utf8');
const FILES = ['msa-shop.yml', 'wordpress.yml', 'node-app.yml'];
const IMPORT = '/api/v1/import/compose';

// a body limit above the importer's own 1 MiB, so that limit is what answers
const { call, post } = importServer(IMPORT, 4 * 1024 * 1024);

/* Every value of the environment's secrets is absent from the stack and from every
 * env "value" of the stack's services. */
function assertSecretsSeparate(result) {
  const stackText = JSON.stringify(result.stack);
  for (const [k, v] of Object.entries(result.environment.secrets ?? {})) {
    assert.equal(result.stack.secrets[k], '', `stack secret ${k} is empty`);
    if (v !== 'change-me') assert.ok(!stackText.includes(v), `secret ${k} leaked into the stack`);
  }
}

describe('conversion', () => {
  for (const file of FILES) {
    test(`${file}: stack, environment and a report with real paths`, async () => {
      const text = compose(file);
      const r = await post(text);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.errors, undefined, JSON.stringify(r.json.errors));
      const doc = parse(text, { merge: true });
      assert.ok(r.json.report.length > 0);
      for (const item of r.json.report) {
        assert.notEqual(pointer(doc, item.path), undefined, `${item.path} is not in ${file}`);
        assert.ok(item.detail.length > 10);
      }
      assertSecretsSeparate(r.json);
      assert.ok(Object.keys(r.json.stack.services).length >= 1);
    });
  }

  test('the msa-shop compose becomes the built-in MySQL and RabbitMQ plus six services', async () => {
    const r = await post(compose('msa-shop.yml'));
    const s = r.json.stack;
    assert.deepEqual(Object.keys(s.services).sort(), ['api-gateway', 'order-service', 'payment-service',
      'product-service', 'settlement-service', 'user-service']);
    assert.equal(s.components.mysql.type, 'mysql');
    assert.equal(s.components.rabbitmq.type, 'rabbitmq');
    assert.equal(s.ingress.rules.main.service, 'api-gateway');
    assert.deepEqual(s.services['order-service'].uses, { mysql: { database: 'orderdb', user: 'order_service' } });
    assert.deepEqual(s.services['settlement-service'].uses.rabbitmq, {});
    assert.equal(s.services['api-gateway'].uses, undefined);
    assert.deepEqual(s.services['user-service'].env.SPRING_DATASOURCE_PASSWORD, { secret: 'mysql-password' });
    assert.equal(r.json.environment.image.tag, '1.0.0');
  });

  test('content types, methods and query errors', async () => {
    await refusesBadRequests({ call, post }, IMPORT, compose('wordpress.yml'));
  });

  test('what is not a compose file', async () => {
    problem(assert, await post('- just\n- a list\n'), 422);
    problem(assert, await post('services: {}\n'), 422);
    const syntax = await post('services:\n  a: [1, 2\n');
    problem(assert, syntax, 422);
    assert.match(syntax.json.detail, /line \d+, column \d+/);
    problem(assert, await post('a: 1\n---\nb: 2\n'), 422);
  });
});

describe('hostile YAML', () => {
  test('an alias bomb is refused quickly', async () => {
    let text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    for (const [prev, name] of [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e'], ['e', 'f'], ['f', 'g'], ['g', 'h'], ['h', 'i']]) {
      text += `${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]\n`;
    }
    text += 'services: {x: {image: "x:1", environment: *i}}\n';
    const t0 = Date.now();
    const r = await post(text);
    problem(assert, r, 422);
    assert.match(r.json.detail, /nodes/);
    assert.ok(Date.now() - t0 < 5000);
  });

  test('deep nesting and oversized bodies', async () => {
    problem(assert, await post(`services: ${'['.repeat(200)}`), 422);
    const big = `services:\n  a:\n    image: x:1\n# ${'x'.repeat(1024 * 1024)}\n`;
    const r = await post(big);
    problem(assert, r, 422);
    assert.match(r.json.detail, /larger than 1048576 bytes/);
  });

  test('NUL bytes and binary garbage', async () => {
    problem(assert, await post('services:\n  a:\n    image: "x\\0y"\n'), 422);
    const r = await post(Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0a]));
    assert.ok(r.status === 422 || r.status === 400, r.text);
  });
});

describe('saving', () => {
  for (const file of FILES) {
    test(`${file}: saved, rendered, valid Kubernetes objects`, async () => {
      const name = `imp-${file.replace(/\.yml$/, '')}`;
      const r = await post(compose(file), `?save=1&stack=${name}&environment=test`);
      assert.equal(r.status, 201, r.text);
      assert.equal(r.headers.get('location'), `/api/v1/stacks/${name}`);
      assert.deepEqual(r.json.saved, { stack: name, environment: 'test' });
      const env = await call('GET', `/api/v1/stacks/${name}/environments/test`);
      assert.equal(env.status, 200);
      for (const v of Object.values(env.json.document.secrets)) assert.deepEqual(v, { set: true });
      const m = await call('GET', `/api/v1/stacks/${name}/environments/test/manifests?format=json`);
      assert.equal(m.status, 200, m.text);
      assert.ok(m.json.items.length > 5);
      for (const obj of m.json.items) {
        const Model = await modelFor(obj.apiVersion, obj.kind);
        assert.ok(Model, `no model for ${obj.apiVersion} ${obj.kind}`);
        assert.deepEqual(schemaErrors(Model, obj), [], `${obj.kind}/${obj.metadata.name}`);
        assert.deepEqual(unknownFields(Model, obj), [], `${obj.kind}/${obj.metadata.name}`);
      }
      const ingress = m.json.items.find((o) => o.kind === 'Ingress');
      // node-app publishes on 127.0.0.1 only: no entry point
      if (file === 'node-app.yml') assert.equal(ingress, undefined);
      else assert.ok(ingress, 'the published port became the Ingress');
      // history has the creation, secrets masked
      const revs = await call('GET', `/api/v1/stacks/${name}/environments/test/revisions`);
      assert.deepEqual(revs.json.items.map((x) => x.summary), ['created']);
      // a second import under the same name is a conflict and changes nothing
      problem(assert, await post(compose(file), `?save=1&stack=${name}`), 409);
      const again = await call('GET', `/api/v1/stacks/${name}`);
      assert.equal(again.json.revision, 1);
    });
  }

  test('the default environment is dev', async () => {
    const r = await post(compose('wordpress.yml'), '?save=1&stack=wp-default');
    assert.equal(r.status, 201, r.text);
    assert.equal((await call('GET', '/api/v1/stacks/wp-default/environments/dev')).status, 200);
  });

  test('a result that does not validate is not stored', async () => {
    // a CPU limit that is no quantity passes the mapping but not validation
    const text = 'services:\n  web:\n    image: nginx:1.25\n    ports: ["80:80"]\n    deploy: {resources: {limits: {cpus: "lots"}}}\n';
    const dry = await post(text);
    assert.equal(dry.status, 200);
    assert.ok(dry.json.errors.some((e) => e.pointer.startsWith('/services/web/resources')), JSON.stringify(dry.json.errors));
    const r = await post(text, '?save=1&stack=broken');
    problem(assert, r, 422);
    assert.ok(Array.isArray(r.json.errors) && Array.isArray(r.json.report));
    assert.equal((await call('GET', '/api/v1/stacks/broken')).status, 404);
  });
});
