// The HTTP API against the real binary on an ephemeral port with a temporary database:
// every endpoint and error status, hostile requests, bundle contents, restart on the same
// database, If-Match races between concurrent writers. The server must exit 0 on SIGTERM.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { call as rawCall, problem } from './lib/client.mjs';
import { start, tempDir, removeDir } from './lib/server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const seed = (name) => JSON.parse(readFileSync(path.join(root, 'migrations/seed/msa-shop', name), 'utf8'));
const SEED_SECRETS = Object.values(seed('prod.json').secrets);

let dir;
let server;

// The current server's token goes with every request (lib/server.mjs).
const call = (...a) => rawCall(server, ...a);

// A request whose path is sent exactly as written (fetch would normalise "..").
function rawRequest(line) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(server.port, '127.0.0.1', () => {
      sock.write(`${line}\r\nHost: x\r\nConnection: close\r\n\r\n`);
    });
    let data = '';
    sock.on('data', (d) => { data += d; });
    sock.on('end', () => resolve({ status: Number(data.split(' ')[1]), text: data }));
    sock.on('error', reject);
  });
}

const assertProblem = (r, status) => problem(assert, r, status);

function assertNoSecretValues(text) {
  for (const v of SEED_SECRETS) assert.ok(!text.includes(v), `secret value ${v} leaked`);
}

const ENV = '/api/v1/stacks/msa-shop/environments';

before(async () => {
  dir = tempDir();
  server = await start({ db: path.join(dir, 'data/manifestd.db') });
});

after(async () => {
  if (server) {
    const { code, signal } = await server.stop();
    assert.equal(signal, null, server.stderr());
    assert.equal(code, 0, server.stderr());
  }
  removeDir(dir);
});

describe('health, metrics, openapi, static files', () => {
  test('healthz and readyz', async () => {
    let r = await call('GET', '/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { status: 'ok' });
    r = await call('GET', '/readyz');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { status: 'ready' });
  });

  test('metrics count requests by route and status, renders and bundle bytes', async () => {
    await call('GET', `${ENV}/dev/manifests?format=zip`);
    await call('GET', '/api/v1/stacks/nope');
    // a request is counted when libmicrohttpd says it completed, just after its answer
    // went out: the next request may come first, so read the counters until it shows
    let r;
    for (let i = 0; i < 50; i++) {
      r = await call('GET', '/metrics');
      if (/route="\/api\/v1\/stacks\/\{stack\}",method="GET",status="404"/.test(r.text)) break;
      await new Promise((done) => setTimeout(done, 20));
    }
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/plain/);
    assert.match(r.text, /manifestd_http_requests_total\{route="\/api\/v1\/stacks\/\{stack\}",method="GET",status="404"\} [1-9]/);
    assert.match(r.text, /manifestd_render_duration_seconds_count\{format="zip"\} [1-9]/);
    assert.match(r.text, /manifestd_render_duration_seconds_bucket\{format="zip",le="\+Inf"\} [1-9]/);
    assert.match(r.text, /manifestd_bundle_bytes_total\{format="zip"\} [1-9]\d*/);
    assert.match(r.text, /manifestd_db_errors_total 0/);
  });

  test('openapi.json is OpenAPI 3.1 and every documented operation is routed', async () => {
    const r = await call('GET', '/openapi.json');
    assert.equal(r.status, 200);
    assert.equal(r.json.openapi, '3.1.0');
    const query = { '/api/v1/stacks/{stack}/diff': '?from=dev&to=prod' };
    // a stored component type, so that its revision 1 exists
    const memcached = (await call('GET', '/api/v1/catalog/memcached')).json.document;
    assert.equal((await call('PUT', '/api/v1/catalog/kv-openapi', { body: memcached })).status, 201);
    const fill = (p) => p.replace('{stack}', 'msa-shop').replace('{env}', 'dev').replace('{file}', 'index.html')
      .replace('{type}', 'kv-openapi').replace('{n}', '1') + (query[p] ?? '');
    let ops = 0;
    for (const [p, item] of Object.entries(r.json.paths)) {
      for (const method of ['get', 'put', 'post', 'patch', 'delete']) {
        if (!item[method]) continue;
        ops++;
        // Writes are sent in a form that cannot change anything: a wrong content type
        // (415) or a stale If-Match (412). A 404/405 would mean the route is missing.
        const opts = method === 'get' ? {}
          : method === 'delete' ? { headers: { 'if-match': '"999999"' } }
          : { body: '{}', type: 'text/plain' };
        const res = await call(method.toUpperCase(), fill(p), opts);
        const want = method === 'get' ? 200 : method === 'delete' ? 412 : 415;
        assert.equal(res.status, want, `${method} ${p}: ${res.text.slice(0, 200)}`);
      }
    }
    assert.ok(ops >= 23);
    assert.equal((await call('DELETE', '/api/v1/catalog/kv-openapi')).status, 204);
  });

  test('static files: the form, content types, 404, no path traversal', async () => {
    let r = await call('GET', '/');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/html/);
    assert.match(r.text, /<html/i);
    r = await call('GET', '/index.html');
    assert.equal(r.status, 200);
    r = await call('GET', '/no-such-file.js');
    assertProblem(r, 404);
    for (const p of ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc%2fpasswd',
      '/./index.html', '//etc/passwd', '/static/../../../etc/passwd', '/%5c..%5cetc%5cpasswd']) {
      const raw = await rawRequest(`GET ${p} HTTP/1.1`);
      assert.equal(raw.status, 404, `${p}: ${raw.text.slice(0, 200)}`);
      assert.ok(!raw.text.includes('root:'), p);
    }
  });
});

describe('errors', () => {
  test('unknown path is 404 problem+json', async () => {
    assertProblem(await call('GET', '/api/v1/nothing'), 404);
    assertProblem(await call('GET', '/api/v1/stacks/msa-shop/environments/nope'), 404);
    assertProblem(await call('GET', '/api/v1/stacks/nope/environments'), 404);
  });

  test('wrong method is 405 with Allow; unknown methods too', async () => {
    let r = await call('POST', '/healthz', { body: {} });
    assertProblem(r, 405);
    assert.equal(r.headers.get('allow'), 'GET, HEAD');
    r = await call('PATCH', '/api/v1/stacks/msa-shop', { body: {} });
    assertProblem(r, 405);
    assert.deepEqual(r.headers.get('allow').split(', ').sort(), ['DELETE', 'GET', 'HEAD', 'PUT']);
    const raw = await rawRequest('BREW /api/v1/stacks HTTP/1.1');
    assert.equal(raw.status, 405);
    assert.match(raw.text, /\r\nAllow: GET, HEAD, POST\r\n/i);
  });

  test('bad JSON is 400 with line and column', async () => {
    const r = await call('PUT', `${ENV}/dev`, { body: '{\n  "config": {\n    "a": 1,,\n  }\n}' });
    assertProblem(r, 400);
    assert.equal(r.json.line, 3);
    assert.equal(typeof r.json.column, 'number');
    assert.match(r.json.detail, /line 3, column \d+/);
    assertProblem(await call('POST', '/render', { body: '' }), 400);
  });

  test('wrong content type is 415', async () => {
    assertProblem(await call('PUT', `${ENV}/dev`, { body: '{}', type: 'text/plain' }), 415);
    assertProblem(await call('PATCH', `${ENV}/dev`, { body: '{}', type: 'application/x-www-form-urlencoded' }), 415);
    assertProblem(await call('POST', '/render', { body: '{}', type: null }), 415);
  });

  test('oversize body is 413, announced or chunked, and the server goes on', async () => {
    const big = 'x'.repeat(1024 * 1024 + 10);
    assertProblem(await call('POST', '/render', { body: JSON.stringify({ stack: big }) }), 413);
    // chunked: no Content-Length, the limit is found while reading
    const status = await new Promise((resolve, reject) => {
      const req = http.request(`${server.url}/render`, { method: 'POST', headers: { ...server.headers, 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', reject);
      for (let i = 0; i < 20; i++) req.write('y'.repeat(64 * 1024));
      req.end();
    });
    assert.equal(status, 413);
    assert.equal((await call('GET', '/healthz')).status, 200);
  });

  test('an oversize body announced with Expect: 100-continue is refused before it is sent', async () => {
    // without a token the 401 comes first (nothing of the body is asked for either)
    for (const [headers, want] of [[server.headers, 413], [{}, 401]]) {
      const got = await new Promise((resolve, reject) => {
        const req = http.request(`${server.url}/render`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json', 'content-length': String(4 * 1024 * 1024), expect: '100-continue' },
        }, (res) => { res.resume(); resolve({ status: res.statusCode, continued }); });
        let continued = false;
        req.on('continue', () => { continued = true; req.destroy(); });
        req.on('error', (e) => (continued ? resolve({ status: 0, continued }) : reject(e)));
        req.flushHeaders();
      });
      assert.deepEqual(got, { status: want, continued: false });
    }
    assert.equal((await call('GET', '/healthz')).status, 200);
  });

  test('malformed If-Match is 400', async () => {
    assertProblem(await call('PATCH', `${ENV}/dev`, { body: {}, type: 'application/merge-patch+json', headers: { 'if-match': 'abc' } }), 400);
  });
});

describe('stacks', () => {
  test('list and read; secrets masked', async () => {
    let r = await call('GET', '/api/v1/stacks');
    assert.equal(r.status, 200);
    const shop = r.json.items.find((s) => s.name === 'msa-shop');
    assert.ok(shop);
    assert.equal(shop.environments, 3);
    assert.equal(typeof shop.description, 'string');
    r = await call('GET', '/api/v1/stacks/msa-shop');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('etag'), `"${r.json.revision}"`);
    assert.deepEqual(r.json.document.secrets['jwt-secret'], { set: false });
    assert.deepEqual(Object.keys(r.json.document.services).sort(),
      Object.keys(seed('stack.json').services).sort());
    assert.match(r.json.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test('create, conflict, replace with If-Match, delete with and without force', async () => {
    const got = await call('GET', '/api/v1/stacks/msa-shop');
    const document = got.json.document; // masked secrets: {"set": false} keeps them unset
    let r = await call('POST', '/api/v1/stacks', { body: { name: 'shop2', document } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get('location'), '/api/v1/stacks/shop2');
    assert.equal(r.headers.get('etag'), '"1"');
    assert.equal(r.json.revision, 1);
    assertProblem(await call('POST', '/api/v1/stacks', { body: { name: 'shop2', document } }), 409);
    r = await call('POST', '/api/v1/stacks', { body: { name: 'Bad_Name', document, extra: 1 } });
    assertProblem(r, 422);
    assert.deepEqual(r.json.errors.map((e) => e.pointer).sort(), ['/extra', '/name']);

    const changed = { ...document, description: 'second' };
    r = await call('PUT', '/api/v1/stacks/shop2', { body: changed, headers: { 'if-match': '"7"' } });
    assertProblem(r, 412);
    assert.equal(r.json.currentRevision, 1);
    r = await call('PUT', '/api/v1/stacks/shop2', { body: changed, headers: { 'if-match': '"1"' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.revision, 2);
    assert.equal(r.json.document.description, 'second');

    r = await call('PUT', '/api/v1/stacks/shop2', { body: { ...document, services: { 'api-gateway': { port: 99999 } } } });
    assertProblem(r, 422);
    assert.ok(r.json.errors.length >= 1);
    assert.ok(r.json.errors.every((e) => typeof e.pointer === 'string' && typeof e.detail === 'string'));
    assert.equal((await call('GET', '/api/v1/stacks/shop2')).json.revision, 2, 'a refused write changes nothing');

    r = await call('POST', '/api/v1/stacks/shop2/environments', { body: { name: 'qa', document: seed('staging.json') } });
    assert.equal(r.status, 201, r.text);
    assertProblem(await call('DELETE', '/api/v1/stacks/shop2'), 409);
    assertProblem(await call('DELETE', '/api/v1/stacks/shop2?force=1', { headers: { 'if-match': '"1"' } }), 412);
    r = await call('DELETE', '/api/v1/stacks/shop2?force=1');
    assert.equal(r.status, 204);
    assertProblem(await call('GET', '/api/v1/stacks/shop2'), 404);
    assertProblem(await call('GET', '/api/v1/stacks/shop2/environments/qa'), 404);
    assertProblem(await call('DELETE', '/api/v1/stacks/shop2'), 404);
  });

  test('PUT creates a stack that does not exist', async () => {
    const r = await call('PUT', '/api/v1/stacks/shop3', { body: seed('stack.json') });
    assert.equal(r.status, 201, r.text);
    assert.equal((await call('DELETE', '/api/v1/stacks/shop3')).status, 204);
  });

  test('a stack change that breaks an environment is refused', async () => {
    const stack = (await call('GET', '/api/v1/stacks/msa-shop')).json;
    const doc = structuredClone(stack.document);
    delete doc.config['db-host']; // referenced by services' env
    const r = await call('PUT', '/api/v1/stacks/msa-shop', { body: doc });
    assertProblem(r, 422);
    assert.ok(r.json.errors.some((e) => /environment '(dev|staging|prod)'/.test(e.detail)), r.text);
  });
});

describe('environments', () => {
  test('pagination', async () => {
    let r = await call('GET', `${ENV}?limit=2`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.items.map((e) => e.name), ['dev', 'prod']);
    assert.equal(r.json.next, 'prod');
    r = await call('GET', `${ENV}?limit=2&cursor=${r.json.next}`);
    assert.deepEqual(r.json.items.map((e) => e.name), ['staging']);
    assert.equal(r.json.next, null);
    assertProblem(await call('GET', `${ENV}?limit=0`), 400);
    assertProblem(await call('GET', `${ENV}?limit=x`), 400);
  });

  test('create from another, duplicates, unknown source, bad name', async () => {
    let r = await call('POST', ENV, { body: { name: 'qa', from: 'staging' } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get('location'), `${ENV}/qa`);
    const staging = await call('GET', `${ENV}/staging`);
    assert.deepEqual(r.json.document, staging.json.document);
    assertProblem(await call('POST', ENV, { body: { name: 'qa', from: 'staging' } }), 409);
    assertProblem(await call('POST', ENV, { body: { name: 'qa2', from: 'nope' } }), 404);
    assertProblem(await call('POST', '/api/v1/stacks/nope/environments', { body: { name: 'qa', document: {} } }), 404);
    r = await call('POST', ENV, { body: { name: 'QA!', document: {} } });
    assertProblem(r, 422);
    assert.equal(r.json.errors[0].pointer, '/name');
    assertProblem(await call('POST', ENV, { body: { name: 'qa3' } }), 422);
  });

  test('a service that may run as root is saved with a warning', async () => {
    const body = seed('dev.json');
    body.services = { 'order-service': { securityContext: { runAsNonRoot: false, runAsUser: 0 } } };
    let r = await call('PUT', `${ENV}/rooted`, { body });
    assert.equal(r.status, 201, r.text);
    assert.match(r.headers.get('warning') ?? '', /^299 - "\/services\/order-service\/securityContext\/runAsNonRoot: is false: the service may run as root/);
    r = await call('PUT', `${ENV}/rooted`, { body: seed('dev.json'), headers: { 'if-match': r.headers.get('etag') } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('warning'), null);
    assert.equal((await call('DELETE', `${ENV}/rooted`)).status, 204);
  });

  test('a secret or an image tag that still holds an import\'s placeholder "change-me" is saved with a warning naming it', async () => {
    const body = seed('dev.json');
    body.secrets = { ...body.secrets, 'mysql-password': 'change-me' };
    body.services = { 'order-service': { image: { tag: 'change-me' } } };
    let r = await call('PUT', `${ENV}/imported`, { body });
    assert.equal(r.status, 201, r.text);
    const warning = r.headers.get('warning') ?? '';
    assert.match(warning, /\/secrets\/mysql-password: is \\?"change-me\\?", the placeholder an import wrote/);
    assert.match(warning, /\/services\/order-service\/image\/tag: is \\?"change-me\\?"/);
    body.secrets['mysql-password'] = 'a-real-one';
    body.services = {};
    r = await call('PUT', `${ENV}/imported`, { body, headers: { 'if-match': r.headers.get('etag') } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('warning'), null);
    assert.equal((await call('DELETE', `${ENV}/imported`)).status, 204);
  });

  test('a change Kubernetes refuses on a running environment is 422 naming the field; a stack change too', async () => {
    const before = (await call('GET', `${ENV}/prod`)).json;
    let r = await call('PATCH', `${ENV}/prod`, { type: 'application/merge-patch+json', body: { components: { mysql: { storage: { size: '10Gi' } } } } });
    assertProblem(r, 422);
    assert.deepEqual(r.json.errors.map((e) => e.pointer), ['/components/mysql/storage/size']);
    assert.match(r.json.errors[0].detail, /smaller than before \("50Gi"\)/);
    r = await call('PATCH', `${ENV}/prod`, { type: 'application/merge-patch+json', body: { components: { mysql: { storage: { className: 'premium' } } } } });
    assertProblem(r, 422);
    assert.equal(r.json.errors[0].pointer, '/components/mysql/storage/className');
    assert.equal((await call('GET', `${ENV}/prod`)).json.revision, before.revision);
    // dev keeps the stack's 1Gi for RabbitMQ: a stack that shrinks it is refused for dev
    const stack = (await call('GET', '/api/v1/stacks/msa-shop')).json;
    const doc = structuredClone(stack.document);
    doc.components.rabbitmq.storage.size = '512Mi';
    r = await call('PUT', '/api/v1/stacks/msa-shop', { body: doc });
    assertProblem(r, 422);
    assert.ok(r.json.errors.some((e) => e.pointer === '/components/rabbitmq/storage/size' && /environment 'dev'/.test(e.detail)), r.text);
    // growing is fine
    r = await call('PATCH', `${ENV}/prod`, { type: 'application/merge-patch+json', body: { components: { mysql: { storage: { size: '60Gi' } } } } });
    assert.equal(r.status, 200, r.text);
    r = await call('PATCH', `${ENV}/prod`, { type: 'application/merge-patch+json', body: { components: { mysql: { storage: { size: '50Gi' } } } } });
    assertProblem(r, 422);
  });

  test('PUT replaces (201 when new), PATCH merges, DELETE removes', async () => {
    let r = await call('PUT', `${ENV}/preview`, { body: seed('dev.json') });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.revision, 1);
    r = await call('PATCH', `${ENV}/preview`, {
      type: 'application/merge-patch+json',
      body: { config: { 'feature-x': 'on' }, ingress: { host: null } },
      headers: { 'if-match': '"1"' },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.revision, 2);
    assert.equal(r.headers.get('etag'), '"2"');
    assert.equal(r.json.document.config['feature-x'], 'on');
    assert.equal(r.json.document.config['spring-profiles-active'], 'k8s,dev');
    assert.equal(r.json.document.ingress.host, undefined);
    r = await call('PUT', `${ENV}/preview`, { body: { namespace: 'msa-shop-preview', image: { tag: '2.0.0' }, secrets: r.json.document.secrets } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.revision, 3);
    assert.equal(r.json.document.config, undefined);
    assertProblem(await call('DELETE', `${ENV}/preview`, { headers: { 'if-match': '"2"' } }), 412);
    assert.equal((await call('DELETE', `${ENV}/preview`, { headers: { 'if-match': '"3"' } })).status, 204);
    assertProblem(await call('GET', `${ENV}/preview`), 404);
    assertProblem(await call('PATCH', `${ENV}/preview`, { body: {}, type: 'application/merge-patch+json' }), 404);
  });

  test('validation: 422 lists every problem with its pointer; nothing stored', async () => {
    const before = (await call('GET', `${ENV}/dev`)).json;
    const r = await call('PATCH', `${ENV}/dev`, {
      type: 'application/merge-patch+json',
      body: { services: { 'order-service': { replicas: -2 }, 'user-service': { port: 0 } } },
    });
    assertProblem(r, 422);
    const pointers = r.json.errors.map((e) => e.pointer);
    assert.ok(pointers.includes('/services/order-service/replicas'), r.text);
    assert.ok(pointers.includes('/services/user-service/port'), r.text);
    const typo = await call('PATCH', `${ENV}/dev`, { type: 'application/merge-patch+json', body: { namespce: 'x' } });
    assertProblem(typo, 422);
    assert.match(typo.json.errors[0].detail, /did you mean/);
    const afterDoc = (await call('GET', `${ENV}/dev`)).json;
    assert.equal(afterDoc.revision, before.revision);
  });

  test('If-Match: stale is 412 with currentRevision, bare and * accepted', async () => {
    const cur = (await call('GET', `${ENV}/staging`)).json;
    const patch = (tag, v) => call('PATCH', `${ENV}/staging`, {
      type: 'application/merge-patch+json', body: { config: { marker: v } }, headers: { 'if-match': tag },
    });
    let r = await patch(`"${cur.revision + 5}"`, 'a');
    assertProblem(r, 412);
    assert.equal(r.json.currentRevision, cur.revision);
    r = await patch(String(cur.revision), 'b');
    assert.equal(r.status, 200, r.text);
    r = await patch('*', 'c');
    assert.equal(r.status, 200);
    assert.equal(r.json.revision, cur.revision + 2);
    r = await call('PUT', `${ENV}/does-not-exist`, { body: {}, headers: { 'if-match': '"1"' } });
    assertProblem(r, 412);
  });

  test('secrets are write-only: masked, kept by {"set": true}, set by a string', async () => {
    const prod = await call('GET', `${ENV}/prod`);
    for (const v of Object.values(prod.json.document.secrets)) assert.deepEqual(v, { set: true });
    assertNoSecretValues(prod.text);
    // writing back what GET returned keeps every stored value
    let r = await call('PUT', `${ENV}/prod`, { body: prod.json.document, headers: { 'if-match': `"${prod.json.revision}"` } });
    assert.equal(r.status, 200, r.text);
    assertNoSecretValues(r.text);
    let list = (await call('GET', `${ENV}/prod/manifests?format=json`)).json;
    let secret = list.items.find((o) => o.kind === 'Secret');
    const values = JSON.stringify(secret);
    const decoded = Object.values(secret.data || {}).map((b) => Buffer.from(b, 'base64').toString()).concat(Object.values(secret.stringData || {}));
    assert.ok(decoded.includes(seed('prod.json').secrets['jwt-secret']), values);
    // a string sets; the response still masks it
    r = await call('PATCH', `${ENV}/prod`, { type: 'application/merge-patch+json', body: { secrets: { 'jwt-secret': 'rotated-value-42', 'rabbitmq-password': { set: true } } } });
    assert.equal(r.status, 200, r.text);
    assert.ok(!r.text.includes('rotated-value-42'));
    assert.deepEqual(r.json.document.secrets['jwt-secret'], { set: true });
    list = (await call('GET', `${ENV}/prod/manifests?format=json`)).json;
    secret = list.items.find((o) => o.kind === 'Secret');
    const now = Object.values(secret.data || {}).map((b) => Buffer.from(b, 'base64').toString()).concat(Object.values(secret.stringData || {}));
    assert.ok(now.includes('rotated-value-42'));
    assert.ok(now.includes(seed('prod.json').secrets['rabbitmq-password']));
    // {"set": true} for a secret that has no stored value cannot be kept
    r = await call('PUT', `${ENV}/prod`, { body: { ...prod.json.document, secrets: { ...prod.json.document.secrets, 'new-one': { set: true } } } });
    assertProblem(r, 422);
    assert.equal(r.json.errors[0].pointer, '/secrets/new-one');
    // no list or representation anywhere carries a value
    for (const p of ['/api/v1/stacks', '/api/v1/stacks/msa-shop', ENV, `${ENV}/dev`, `${ENV}/staging`]) {
      const t = (await call('GET', p)).text;
      assertNoSecretValues(t);
      assert.ok(!t.includes('rotated-value-42'));
    }
  });
});

async function validateObjects(objects) {
  for (const obj of objects) {
    const mod = await import(`kubernetes-models/${obj.apiVersion}`);
    const Model = mod[obj.kind];
    assert.ok(Model, `no model for ${obj.apiVersion} ${obj.kind}`);
    new Model(obj).validate();
  }
}

describe('manifests and render', () => {
  const M = `${ENV}/staging/manifests`;

  test('zip: file list, apply.sh 0755, objects valid, Content-Disposition, ETag/304', async () => {
    const r = await call('GET', M);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/zip');
    assert.equal(r.headers.get('content-disposition'), 'attachment; filename="msa-shop-staging.zip"');
    const zip = path.join(dir, 'staging.zip');
    writeFileSync(zip, r.body);
    const names = execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8' }).trim().split('\n');
    for (const f of ['msa-shop-staging/apply.sh', 'msa-shop-staging/kustomization.yaml', 'msa-shop-staging/README.md', 'msa-shop-staging/00-namespace.yaml']) {
      assert.ok(names.includes(f), `${f} in ${names}`);
    }
    const listing = execFileSync('unzip', ['-Z', zip], { encoding: 'utf8' });
    assert.match(listing, /^-rwxr-xr-x .* msa-shop-staging\/apply\.sh$/m);
    const out = path.join(dir, 'unzipped');
    mkdirSync(out);
    execFileSync('unzip', ['-q', zip, '-d', out]);
    assert.equal(statSync(path.join(out, 'msa-shop-staging/apply.sh')).mode & 0o777, 0o755);
    const objects = [];
    for (const f of names.filter((n) => /\/\d\d-.*\.yaml$/.test(n))) {
      for (const d of parseAllDocuments(readFileSync(path.join(out, f), 'utf8'))) objects.push(d.toJS());
    }
    assert.ok(objects.some((o) => o.kind === 'Deployment'));
    await validateObjects(objects);
    const etag = r.headers.get('etag');
    assert.match(etag, /^"[0-9a-f]{16,}-zip"$/);
    const again = await call('GET', M, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    const same = await call('GET', M);
    assert.ok(same.body.equals(r.body), 'same input, same bytes');
  });

  test('tar.gz: apply.sh 0755 and the same file list', async () => {
    const r = await call('GET', `${M}?format=tar.gz`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/gzip');
    assert.equal(r.headers.get('content-disposition'), 'attachment; filename="msa-shop-staging.tar.gz"');
    const tgz = path.join(dir, 'staging.tar.gz');
    writeFileSync(tgz, r.body);
    const listing = execFileSync('tar', ['-tvzf', tgz], { encoding: 'utf8' });
    assert.match(listing, /^-rwxr-xr-x .* msa-shop-staging\/apply\.sh$/m);
    assert.match(listing, /msa-shop-staging\/kustomization\.yaml$/m);
  });

  // POST /render?format=yaml through node:http, which shows how the body was framed.
  function renderYaml(body) {
    return new Promise((resolve, reject) => {
      const req = http.request(`${server.url}/render?format=yaml`, {
        method: 'POST', headers: { ...server.headers, 'content-type': 'application/json' },
      }, (res) => {
        const parts = [];
        res.on('data', (d) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }));
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  }

  // The msa-shop stack with n services (copies of its own, renamed, each with its own
  // database: bench/gen-stack.py), rendering alone.
  function bigStack(n) {
    const stack = seed('stack.json');
    const templates = Object.entries(stack.services);
    stack.services = {};
    for (let i = 0; i < n; i++) {
      const [name, svc] = templates[i % templates.length];
      const copy = structuredClone(svc);
      const id = String(i).padStart(5, '0');
      if (i >= templates.length && copy.uses?.mysql) copy.uses = { ...copy.uses, mysql: { database: `db${id}`, user: `user${id}` } };
      stack.services[i < templates.length ? name : `svc-${id}`] = copy;
    }
    stack.secrets = seed('prod.json').secrets;
    return stack;
  }

  test('yaml: a short bundle is sent whole with a Content-Length, the same bytes as built for the cache', async () => {
    const body = { stack: 'msa-shop', environment: 'staging', overrides: { image: { tag: 'whole-1' } } };
    const first = await renderYaml(body); // asked for once: streamed, read whole
    assert.equal(first.status, 200, first.body.toString());
    assert.equal(first.headers['transfer-encoding'], undefined);
    assert.equal(Number(first.headers['content-length']), first.body.length);
    assert.equal(first.headers['content-type'], 'application/yaml');
    assert.equal(first.headers['content-disposition'], 'attachment; filename="msa-shop-staging.yaml"');
    const second = await renderYaml(body); // asked for again: built whole and kept
    assert.equal(second.status, 200);
    assert.ok(second.body.equals(first.body));
    const docs = parseAllDocuments(first.body.toString()).map((d) => d.toJS());
    assert.equal(docs[0].kind, 'Namespace');
    assert.ok(docs.length > 10);
    await validateObjects(docs);
  });

  test('yaml: a bundle past 256 KiB is streamed chunked, the same bytes as built for the cache', async () => {
    const body = { stack: bigStack(60), stackName: 'big' };
    const first = await renderYaml(body);
    assert.equal(first.status, 200, first.body.toString());
    assert.equal(first.headers['transfer-encoding'], 'chunked');
    assert.equal(first.headers['content-length'], undefined);
    assert.equal(first.headers['content-disposition'], 'attachment; filename="big-inline.yaml"');
    assert.ok(first.body.length > 256 * 1024, `${first.body.length} bytes`);
    const second = await renderYaml(body);
    assert.equal(second.status, 200);
    assert.equal(Number(second.headers['content-length']), second.body.length);
    assert.ok(second.body.equals(first.body));
    const docs = parseAllDocuments(first.body.toString()).map((d) => d.toJS());
    assert.ok(docs.filter((d) => d.kind === 'Deployment').length >= 60);
  });

  test('Accept picks the format; unknown format 400, unknown Accept 406', async () => {
    const cases = [['application/zip', 'application/zip'], ['application/gzip', 'application/gzip'],
      ['application/yaml', 'application/yaml'], ['application/json', 'application/json'], ['*/*', 'application/zip']];
    for (const [accept, type] of cases) {
      const r = await call('GET', M, { headers: { accept } });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), type, accept);
    }
    const list = (await call('GET', M, { headers: { accept: 'application/json' } })).json;
    assert.equal(list.kind, 'List');
    assertProblem(await call('GET', `${M}?format=rar`), 400);
    assertProblem(await call('GET', M, { headers: { accept: 'text/html' } }), 406);
    assertProblem(await call('GET', `${ENV}/nope/manifests`), 404);
  });

  test('format=files for the form preview', async () => {
    const r = await call('GET', `${M}?format=files`);
    assert.equal(r.status, 200);
    const names = r.json.files.map((f) => f.name);
    for (const f of ['apply.sh', 'kustomization.yaml', 'README.md', '00-namespace.yaml']) assert.ok(names.includes(f), names.join());
    assert.equal(r.headers.get('content-disposition'), null);
  });

  test('POST /render with stored names and overrides that are not stored', async () => {
    const before = (await call('GET', `${ENV}/prod`)).json;
    const r = await call('POST', '/render?format=yaml', { body: { stack: 'msa-shop', environment: 'prod', overrides: { image: { tag: '1.4.3' } } } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('content-disposition'), 'attachment; filename="msa-shop-prod.yaml"');
    const docs = parseAllDocuments(r.text).map((d) => d.toJS());
    const dep = docs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'order-service');
    assert.match(dep.spec.template.spec.containers[0].image, /:1\.4\.3$/);
    const afterDoc = (await call('GET', `${ENV}/prod`)).json;
    assert.equal(afterDoc.revision, before.revision);
    assert.equal(afterDoc.document.image.tag, before.document.image.tag);
    const zip = await call('POST', '/render', { body: { stack: 'msa-shop', environment: 'prod' } });
    assert.equal(zip.status, 200);
    assert.equal(zip.headers.get('content-type'), 'application/zip');
    const etag = zip.headers.get('etag');
    const again = await call('POST', '/render', { body: { stack: 'msa-shop', environment: 'prod' }, headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
  });

  test('POST /render with inline documents needs no stored data', async () => {
    const r = await call('POST', '/render?format=json', {
      body: { stack: seed('stack.json'), stackName: 'shop', environment: seed('staging.json'), name: 'preview' },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('content-disposition'), 'attachment; filename="shop-preview.json"');
    assert.equal(r.json.kind, 'List');
    await validateObjects(r.json.items);
  });

  test('POST /render errors: 422 with every problem, 404 for unknown names', async () => {
    let r = await call('POST', '/render', { body: { stack: 'msa-shop', environment: 'prod', overrides: { services: { 'order-service': { replicas: -1 } }, image: { tag: 'latest' } } } });
    assertProblem(r, 422);
    assert.ok(r.json.errors.length >= 2, r.text);
    assertProblem(await call('POST', '/render', { body: { stack: 'nope', environment: 'prod' } }), 404);
    assertProblem(await call('POST', '/render', { body: { stack: 'msa-shop', environment: 'nope' } }), 404);
    r = await call('POST', '/render', { body: { stack: {}, environment: 'prod', colour: 1 } });
    assertProblem(r, 422);
    assert.ok(r.json.errors.length >= 2);
    assertProblem(await call('POST', '/render', { body: [] }), 422);
  });

  test('render problems (patches, two objects with one name) are 422s too, before and on save', async () => {
    const overrides = {
      patches: {
        missing: { target: { kind: 'Deployment', name: 'order-servce' }, merge: { spec: {} } },
        failing: { target: { kind: 'Service', name: 'order-service' }, jsonPatch: [{ op: 'remove', path: '/spec/nope' }] },
      },
      extraObjects: { clash: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'user-service' }, spec: { ports: [{ port: 1 }] } } },
    };
    const r = await call('POST', '/render', { body: { stack: 'msa-shop', environment: 'prod', overrides } });
    assertProblem(r, 422);
    const byPointer = Object.fromEntries(r.json.errors.map((e) => [e.pointer, e.detail]));
    assert.match(byPointer['/patches/missing/target'] ?? '', /does not render; did you mean "order-service"\?/, r.text);
    assert.match(byPointer['/patches/failing/jsonPatch/0/path'] ?? '', /names nothing in the rendered object/, r.text);
    assert.match(byPointer['/extraObjects/clash/metadata/name'] ?? '', /which \/services\/user-service renders too/, r.text);
    const before = (await call('GET', `${ENV}/dev`)).json;
    const save = await call('PATCH', `${ENV}/dev`, { type: 'application/merge-patch+json', body: overrides });
    assertProblem(save, 422);
    assert.ok(save.json.errors.some((e) => e.pointer === '/patches/missing/target'), save.text);
    assert.equal((await call('GET', `${ENV}/dev`)).json.revision, before.revision);
  });
});

describe('concurrency', () => {
  test('8 writers PATCHing with If-Match: no lost update, every loser gets 412', async () => {
    const url = `${ENV}/dev`;
    let r = await call('PATCH', url, { type: 'application/merge-patch+json', body: { config: { counter: '0' } } });
    assert.equal(r.status, 200, r.text);
    const startRevision = r.json.revision;
    const deadline = Date.now() + 6000;
    const tally = { ok: 0, stale: 0, other: [] };
    async function writer() {
      while (Date.now() < deadline) {
        const cur = await call('GET', url);
        const n = Number(cur.json.document.config.counter);
        const res = await call('PATCH', url, {
          type: 'application/merge-patch+json',
          body: { config: { counter: String(n + 1) } },
          headers: { 'if-match': cur.headers.get('etag') },
        });
        if (res.status === 200) tally.ok++;
        else if (res.status === 412) {
          tally.stale++;
          assert.equal(typeof res.json.currentRevision, 'number');
        } else tally.other.push(`${res.status} ${res.text}`);
      }
    }
    await Promise.all(Array.from({ length: 8 }, writer));
    assert.deepEqual(tally.other, []);
    assert.ok(tally.ok > 0);
    const final = await call('GET', url);
    assert.equal(Number(final.json.document.config.counter), tally.ok, JSON.stringify(tally));
    assert.equal(final.json.revision, startRevision + tally.ok);
  });
});

describe('restart', () => {
  test('a restarted server on the same database finds everything kept', async () => {
    const before = {
      stacks: (await call('GET', '/api/v1/stacks')).json,
      qa: (await call('GET', `${ENV}/qa`)).json,
      prod: (await call('GET', `${ENV}/prod`)).json,
    };
    assert.equal(before.qa.name, 'qa');
    // SIGTERM while responses are under way: they still arrive whole
    const pending = await Promise.all(Array.from({ length: 6 }, () => fetch(`${server.url}${ENV}/prod/manifests?format=yaml`, { headers: server.headers })));
    const stopped = server.stop();
    for (const res of pending) {
      assert.equal(res.status, 200);
      const docs = parseAllDocuments(await res.text());
      assert.ok(docs.length > 10 && docs.every((d) => d.errors.length === 0));
    }
    const { code } = await stopped;
    assert.equal(code, 0, server.stderr());
    assert.match(server.stderr(), /"GET \/api\/v1\/stacks" 200 \d+ [\d.]+ms/);
    // second run: JSON access log and a static dir override
    const web = path.join(dir, 'web');
    mkdirSync(web);
    writeFileSync(path.join(web, 'index.html'), '<html>override</html>');
    writeFileSync(path.join(dir, 'secret.txt'), 'outside');
    server = await start({ db: path.join(dir, 'data/manifestd.db'), args: ['--static-dir', web], env: { MANIFESTD_LOG_FORMAT: 'json' } });
    assert.deepEqual((await call('GET', '/api/v1/stacks')).json, before.stacks);
    assert.deepEqual((await call('GET', `${ENV}/qa`)).json, before.qa);
    assert.deepEqual((await call('GET', `${ENV}/prod`)).json, before.prod);
    const page = await call('GET', '/');
    assert.equal(page.text, '<html>override</html>');
    const raw = await rawRequest('GET /../secret.txt HTTP/1.1');
    assert.equal(raw.status, 404);
    assert.ok(!raw.text.includes('outside'));
    const line = server.stderr().split('\n').find((l) => l.startsWith('{'));
    const entry = JSON.parse(line);
    assert.equal(entry.method, 'GET');
    assert.equal(typeof entry.status, 'number');
    assert.equal(typeof entry.bytes, 'number');
    assert.equal(typeof entry.duration_ms, 'number');
  });
});
