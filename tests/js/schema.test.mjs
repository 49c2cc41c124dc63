// The published JSON Schema (GET /api/v1/schema, `manifestd schema`) checked by an outside
// validator (ajv, draft 2020-12): it accepts the built-in documents, and it rejects what
// the server rejects on a corpus of bad documents — each format's pattern agrees with the
// server's checker on samples of that format. docs/schema.md's field reference is what
// the schema says (tests/regen-docs), and names every field.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import { binary, start, tempDir, removeDir } from './lib/server.mjs';
import { call as rawCall } from './lib/client.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const seed = (name) => JSON.parse(readFileSync(path.join(root, 'migrations/seed/msa-shop', name), 'utf8'));

// A small valid stack; each case puts one value at one place in it.
const BASE = {
  image: { tag: '1.0.0' },
  config: { k: 'v' },
  secrets: { s: 'x' },
  services: {
    web: {
      image: { repository: 'web' },
      ports: { http: { port: 8080 } },
      volumes: { cache: { mountPath: '/cache', emptyDir: {} } },
      envFrom: { all: { configMap: 'shop-config' } },
    },
  },
};

function withValue(pointer, value) {
  const doc = structuredClone(BASE);
  const parts = pointer.slice(1).split('/');
  let o = doc;
  for (const p of parts.slice(0, -1)) o = o[p] ??= {};
  o[parts.at(-1)] = value;
  return doc;
}

// [pointer, samples that must pass, samples that must fail]: every format of schema.json.
const FORMATS = [
  ['/namespace', ['team-a', 'a'], ['Team', 'a_b', '-a', 'a'.repeat(64)]],
  ['/services/web/ports/http/appProtocol', ['http', 'kubernetes.io/ws'], ['a b', '-x']],
  ['/services/web/resources/requests/cpu', ['250m', '0.5', '1e-1', '.5'], ['0', '250x', '5GB', '1 Gi', '-1']],
  ['/services/web/resources/limits/memory', ['512Mi', '1Gi'], ['512mi', '']],
  ['/image/registry', ['ghcr.io/acme', 'localhost:5000', ''], ['https://ghcr.io', 'ghcr.io:x']],
  ['/services/web/image/repository', ['team/web__x.y-z', 'web'], ['Web', 'web_', '']],
  ['/services/web/image/tag', ['1.4.2_rc-1', ''], ['latest', '-1', 'a/b']],
  ['/services/web/image/digest', ['', `sha256:${'a'.repeat(64)}`], ['sha256:abc', `sha256:${'A'.repeat(64)}`]],
  ['/mysql/image', ['mysql:8.0.36', 'registry.example.com:5000/team/mysql:8.0.36'], ['mysql', 'mysql:latest', 'My/SQL:1']],
  ['/services/web/volumes/cache/mountPath', ['/var/cache', '/'], ['cache', '/a:b', '']],
  ['/services/web/workingDir', ['/app', ''], ['app']],
  ['/services/web/volumes/cache/subPath', ['a/b.conf', ''], ['../a', '/a']],
  ['/secretSource/refreshInterval', ['1h', '30m', '1h30m'], ['1d', 'h', '']],
  ['/services/web/podLabels/tier', ['front-end', '', 'v1.2'], ['front end', '-x']],
  ['/services/web/securityContext/capabilities', [['NET_BIND_SERVICE']], [['CAP_net'], ['x']]],
  ['/services/web/cron/schedule', ['*/5 * * * *', '@daily', ''], ['* * *', '@sometimes']],
  ['/services/web/cron/timeZone', ['Europe/Paris', 'UTC', ''], ['3am', 'Europe//Paris']],
  ['/services/web/serviceAccount/name', ['web-sa', 'a.b', ''], ['Web', 'a_b']],
  ['/services/web/envFrom/all/prefix', ['APP_', ''], ['1_', 'A-B']],
  ['/services/web/disruptionBudget/maxUnavailable', [1, '25%'], ['25', 0]],
  ['/ingress/className', ['nginx'], ['NGINX', '']],
  ['/rabbitmq/user', ['shop.app-1'], ['', 'a b']],
  ['/mysql/storage/className', ['fast-ssd.v2', ''], ['Fast']],
];

// Whole documents the server refuses, each for a reason the schema can see.
const BAD = [
  { ...BASE, replcas: 1 },
  withValue('/services/web/replicas', -1),
  withValue('/services/web/replicas', '2'),
  withValue('/services/web/kind', 'Deploy'),
  withValue('/services/web/ports/HTTP', { port: 80 }),
  withValue('/services/web/ports/http/protocol', 'tcp'),
  withValue('/services/web/probes', { readiness: { path: '/ready' } }),
  withValue('/services/web/command', 'web --serve'),
  withValue('/services/web/env', { '1X': { value: 'a' } }),
  withValue('/services/web/env', { X: { value: 5 } }),
  withValue('/config', { ratio: 0.75 }),
  withValue('/ingress', { host: 'a.example.com' }),
  withValue('/ingress/rules/r', { service: 'web', pathType: 'prefix' }),
  withValue('/services/web/scheduling/tolerations', [{ operator: 'Maybe' }]),
  withValue('/services/web/scheduling/affinity', { nodeAfinity: {} }),
  withValue('/services/web/volumes/cache/files', { '../x': { content: 'a' } }),
  withValue('/services/web/volumes/cache/emptyDir/medium', 'memory'),
  withValue('/patches/p', { target: { kind: 'Deployment', name: 'web' }, jsonPatch: [{ op: 'append', path: '/a' }] }),
];

describe('the published JSON Schema', () => {
  let dir;
  let server;
  let validate;
  const call = (...a) => rawCall(server, ...a);
  const serverAccepts = async (doc) => {
    const r = await call('POST', '/render?format=json', { body: { stack: doc, stackName: 'shop', environment: {} } });
    assert.ok([200, 422].includes(r.status), `${r.status}: ${r.text}`);
    return r.status === 200;
  };
  const ajvAccepts = (doc) => validate(doc);

  before(async () => {
    dir = tempDir();
    server = await start({ db: path.join(dir, 'm.db'), noAuth: true });
    const r = await call('GET', '/api/v1/schema');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^application\/schema\+json/);
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    validate = ajv.compile(r.json);
    // the CLI prints the same schema
    const cli = JSON.parse(execFileSync(binary, ['schema']).toString());
    assert.deepEqual(cli, r.json);
  });

  after(async () => {
    await server?.stop();
    removeDir(dir);
  });

  test('accepts the built-in documents and the base document', () => {
    for (const name of ['stack.json', 'dev.json', 'staging.json', 'prod.json'])
      assert.ok(validate(seed(name)), `${name}: ${JSON.stringify(validate.errors)}`);
    assert.ok(validate(BASE), JSON.stringify(validate.errors));
    // a layer may delete anything with null
    assert.ok(validate({ services: { web: { replicas: null, probes: { startup: null } } }, ingress: null }));
  });

  test('rejects what the server rejects', async () => {
    assert.ok(await serverAccepts(BASE));
    for (const doc of BAD) {
      assert.equal(await serverAccepts(doc), false, `server accepted ${JSON.stringify(doc)}`);
      assert.equal(ajvAccepts(doc), false, `the schema accepted ${JSON.stringify(doc)}`);
    }
  });

  test('every format agrees with the server on samples', async () => {
    for (const [pointer, good, bad] of FORMATS) {
      for (const v of good) {
        const doc = withValue(pointer, v);
        assert.ok(await serverAccepts(doc), `server refused ${pointer} = ${JSON.stringify(v)}`);
        assert.ok(ajvAccepts(doc), `schema refused ${pointer} = ${JSON.stringify(v)}: ${JSON.stringify(validate.errors)}`);
      }
      for (const v of bad) {
        const doc = withValue(pointer, v);
        assert.equal(await serverAccepts(doc), false, `server accepted ${pointer} = ${JSON.stringify(v)}`);
        assert.equal(ajvAccepts(doc), false, `schema accepted ${pointer} = ${JSON.stringify(v)}`);
      }
    }
  });
});

test('docs/schema.md: the field reference is current and names every field', () => {
  const doc = readFileSync(path.join(root, 'docs/schema.md'), 'utf8');
  const generated = execFileSync(binary, ['schema', '--markdown']).toString();
  const m = /<!-- BEGIN GENERATED[^\n]*\n([\s\S]*?)<!-- END GENERATED -->/.exec(doc);
  assert.ok(m, 'docs/schema.md has the generated section');
  assert.equal(m[1], generated, 'docs/schema.md is stale: run tests/regen-docs');
  // every property of the schema is a row of the reference
  const schema = JSON.parse(execFileSync(binary, ['schema']).toString());
  const names = new Set();
  const walk = (s) => {
    if (!s || typeof s !== 'object') return;
    for (const [k, v] of Object.entries(s.properties ?? {})) {
      names.add(k);
      walk(v);
    }
    walk(s.additionalProperties);
    walk(s.items);
  };
  walk(schema);
  assert.ok(names.size > 150, `${names.size} fields`);
  for (const name of names) assert.ok(m[1].includes(`| \`${name}\` |`), `${name} is not in the field reference`);
});
