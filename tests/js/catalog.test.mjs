// The catalog API (docs/components.md, docs/api.md) against the real binary: the list and
// a type's document with its ETag; roles (viewers read, only admins write); If-Match with
// "0" for a built-in type; a type checked when stored (422 with pointers into it: an
// unknown placeholder, a bad param schema, a placeholder cycle, hostile documents); every
// stack that uses a type resolved again (422 naming the stack and environment, nothing
// stored); an override of a built-in type that changes what a stack renders and, deleted,
// brings the built-in one back; 409 on deleting a stored type still used; revisions.
// Then `manifestd catalog` offline on the same database, with the same checks.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { call as rawCall, problem } from './lib/client.mjs';
import { binary, createToken, dbFlags, keyFlags, removeDir, start, tempDir } from './lib/server.mjs';

let dir;
let db;
let server;
const tokens = {};

const call = (...a) => rawCall(server, ...a);
const as = (role) => ({ authorization: `Bearer ${tokens[role]}` });
const CAT = '/api/v1/catalog';
const clone = (v) => JSON.parse(JSON.stringify(v));

// A stack of its own: an api that uses a MySQL with the type's default image.
const SHOP = {
  secrets: { 'db-root-password': '', 'db-password': '' },
  components: { db: { type: 'mysql' } },
  services: {
    api: {
      image: { repository: 'api', tag: '1.0' }, port: 8080, uses: { db: {} },
      env: { DB_URL: { component: 'db', output: 'jdbcUrl' } },
    },
  },
};
const SHOP_DEV = { namespace: 'shop-dev', secrets: { 'db-root-password': 'r', 'db-password': 'p' } };

let mysql; // the built-in document

async function mysqlImages(stack = 'shop', env = 'dev') {
  const r = await call('GET', `/api/v1/stacks/${stack}/environments/${env}/manifests?format=yaml`);
  assert.equal(r.status, 200, r.text);
  return [...new Set([...r.text.matchAll(/image: (mysql:\S+)/g)].map((m) => m[1]))];
}

function withTag(tag) {
  const d = clone(mysql);
  d.params.image.properties.tag.default = tag;
  return d;
}

before(async () => {
  dir = tempDir();
  db = path.join(dir, 'data/manifestd.db');
  server = await start({ db });
  tokens.admin = server.token;
  tokens.viewer = createToken(db, { name: 'viewer', role: 'viewer' });
  tokens.editor = createToken(db, { name: 'editor', role: 'editor' });
  let r = await call('PUT', '/api/v1/stacks/shop', { body: SHOP });
  assert.equal(r.status, 201, r.text);
  r = await call('PUT', '/api/v1/stacks/shop/environments/dev', { body: SHOP_DEV });
  assert.equal(r.status, 201, r.text);
  r = await call('GET', `${CAT}/mysql`);
  mysql = r.json.document;
});

after(async () => {
  if (server) {
    const { code, signal } = await server.stop();
    assert.equal(signal, null, server.stderr());
    assert.equal(code, 0, server.stderr());
  }
  removeDir(dir);
});

describe('reading', () => {
  test('the list: every built-in type, with its description and category', async () => {
    const r = await call('GET', CAT, { headers: as('viewer') });
    assert.equal(r.status, 200, r.text);
    const names = r.json.items.map((t) => t.name);
    assert.deepEqual(names, [...names].sort());
    for (const n of ['kafka', 'mariadb', 'memcached', 'mongodb', 'mysql', 'postgres', 'rabbitmq', 'redis', 'zipkin']) assert.ok(names.includes(n), n);
    const my = r.json.items.find((t) => t.name === 'mysql');
    assert.deepEqual({ ...my, description: undefined }, { name: 'mysql', description: undefined, category: 'database', source: 'builtin', revision: null, updated: null });
    assert.match(my.description, /MySQL/);
  });

  test('a type: its document with ETag "0" while built in; 404 for no such type', async () => {
    const r = await call('GET', `${CAT}/mysql`, { headers: as('viewer') });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('etag'), '"0"');
    assert.equal(r.json.source, 'builtin');
    assert.equal(r.json.revision, 0);
    assert.equal(r.json.document.params.image.properties.tag.default, '8.0.36');
    problem(assert, await call('GET', `${CAT}/nosuch`), 404);
    const h = await call('GET', `${CAT}/mysql/revisions`);
    assert.deepEqual(h.json, { items: [], next: null }, 'a built-in type never stored has no revisions');
    problem(assert, await call('GET', `${CAT}/nosuch/revisions`), 404);
    problem(assert, await call('GET', `${CAT}/mysql/revisions/1`), 404);
    problem(assert, await call('GET', `${CAT}/mysql/revisions/x`), 400);
  });
});

describe('roles', () => {
  test('viewers and editors read but may not write (403); nothing changes', async () => {
    for (const role of ['viewer', 'editor']) {
      assert.equal((await call('GET', `${CAT}/redis`, { headers: as(role) })).status, 200);
      problem(assert, await call('PUT', `${CAT}/mysql`, { headers: as(role), body: withTag('8.0.40') }), 403);
      problem(assert, await call('DELETE', `${CAT}/mysql`, { headers: as(role) }), 403);
    }
    problem(assert, await call('GET', CAT, { headers: { authorization: 'Bearer mfd_nope' } }), 401);
    assert.equal((await call('GET', `${CAT}/mysql`)).json.source, 'builtin');
  });
});

describe('checked when stored', () => {
  const put = (name, body, headers = {}) => call('PUT', `${CAT}/${name}`, { body, headers });
  const pointers = (r) => r.json.errors.map((e) => e.pointer);

  test('an unknown placeholder, at its pointer', async () => {
    const d = clone(mysql);
    d.workload.env.X = { value: 'at ${bogus.x}' };
    const r = await put('mysql', d);
    problem(assert, r, 422);
    assert.deepEqual(pointers(r), ['/workload/env/X/value']);
    assert.match(r.json.errors[0].detail, /bogus\.x/);
  });

  test('a bad param schema, at its pointer', async () => {
    const d = clone(mysql);
    d.params.maxConn = { type: 'strin' };
    let r = await put('mysql', d);
    problem(assert, r, 422);
    assert.deepEqual(pointers(r), ['/params/maxConn']);
    d.params.maxConn = { type: 'integer', minimum: 'one' };
    r = await put('mysql', d);
    problem(assert, r, 422);
    assert.ok(pointers(r).every((p) => p.startsWith('/params/maxConn')), JSON.stringify(r.json.errors));
    const e = clone(mysql);
    e.params.type = { type: 'string', default: 'x' };
    r = await put('mysql', e);
    problem(assert, r, 422);
    assert.deepEqual(pointers(r), ['/params/type'], 'a reserved name');
  });

  test('a placeholder cycle (and a chain) between param defaults', async () => {
    const d = clone(mysql);
    d.params.a = { type: 'string', default: '${params.b}' };
    d.params.b = { type: 'string', default: '${sh:params.a}' };
    d.workload.env.A = { value: '${params.a}' };
    let r = await put('mysql', d);
    problem(assert, r, 422);
    assert.deepEqual(pointers(r).sort(), ['/params/a/default', '/params/b/default']);
    assert.match(r.json.errors[0].detail, /no chains, no cycles/);
    d.params.b = { type: 'string', default: 'x-${name}' };
    r = await put('mysql', d);
    problem(assert, r, 422);
    assert.deepEqual(pointers(r), ['/params/a/default']);
    d.params.b = { type: 'string', default: 'plain' };
    d.params.a.default = 'x-$${params.b}-${params.b}'; // $${ is text, ${params.b} plain
    r = await put('kv-chain', d);
    assert.equal(r.status, 201, r.text);
    assert.equal((await call('DELETE', `${CAT}/kv-chain`)).status, 204);
  });

  test('hostile documents: not an object, a bad name, deep, huge, many members', async () => {
    let r = await put('mysql', [1, 2]);
    problem(assert, r, 422);
    assert.deepEqual(pointers(r), ['']);
    r = await put('Bad_Name', mysql);
    problem(assert, r, 422);
    let deep = 'x';
    for (let i = 0; i < 200; i++) deep = { d: deep };
    const d = clone(mysql);
    d.workload.annotations = deep;
    r = await put('mysql', d);
    problem(assert, r, 422);
    assert.match(r.json.errors[0].pointer, /^\/workload\/annotations(\/d)+$/);
    r = await call('PUT', `${CAT}/mysql`, { body: `${'['.repeat(5000)}${']'.repeat(5000)}` });
    assert.ok([400, 422].includes(r.status), r.text);
    const huge = clone(mysql);
    huge.description = 'x'.repeat(2 << 20);
    problem(assert, await put('mysql', huge), 413);
    const wide = clone(mysql);
    for (let i = 0; i < 5000; i++) wide.params[`p${i}`] = { type: 'string', default: '${params.p' + (i + 1) + '}' };
    r = await put('mysql', wide);
    problem(assert, r, 422);
    const long = clone(mysql);
    long.workload.env.X = { value: '${'.repeat(30000) };
    r = await put('mysql', long);
    problem(assert, r, 422);
    assert.equal((await call('GET', '/healthz')).status, 200);
    assert.equal((await call('GET', `${CAT}/mysql`)).json.source, 'builtin', 'nothing was stored');
  });

  test('a type that breaks a stack that uses it: 422 naming stack and environment, nothing stored', async () => {
    const d = clone(mysql);
    d.consumer.database.enum = ['orders'];
    d.consumer.database.default = 'orders';
    const r = await put('mysql', d);
    problem(assert, r, 422);
    assert.deepEqual(r.json.stacks, ['msa-shop']);
    assert.match(r.json.detail, /stacks that use type 'mysql'/);
    const e = r.json.errors.find((x) => x.pointer === '/services/order-service/uses/mysql/database');
    assert.match(e.detail, /^stack 'msa-shop': with environment '(dev|prod|staging)': must be one of "orders"/);
    for (const env of ['dev', 'staging', 'prod']) assert.ok(r.json.errors.some((x) => x.detail.includes(`environment '${env}'`)), env);
    assert.equal((await call('GET', `${CAT}/mysql`)).json.source, 'builtin');
  });
});

describe('an override of a built-in type', () => {
  test('a new default tag renders in the stacks that use it; If-Match; revisions; delete brings the built-in back', async () => {
    assert.deepEqual(await mysqlImages(), ['mysql:8.0.36']);
    problem(assert, await call('PUT', `${CAT}/mysql`, { body: withTag('8.0.40'), headers: { 'If-Match': 'nonsense' } }), 400);
    problem(assert, await call('PUT', `${CAT}/mysql`, { body: withTag('8.0.40'), headers: { 'If-Match': '"3"' } }), 412);
    let r = await call('PUT', `${CAT}/mysql`, { body: withTag('8.0.40'), headers: { 'If-Match': '"0"' } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get('etag'), '"1"');
    assert.equal(r.headers.get('location'), '/api/v1/catalog/mysql');
    assert.equal(r.json.source, 'override');
    assert.deepEqual(await mysqlImages(), ['mysql:8.0.40'], 'the stack renders the new default tag');
    assert.deepEqual(await mysqlImages('msa-shop', 'prod'), ['mysql:8.0.36'], 'a stack that sets its tag keeps it');

    // the built-in ETag is stale now
    r = await call('PUT', `${CAT}/mysql`, { body: withTag('8.0.41'), headers: { 'If-Match': '"0"' } });
    problem(assert, r, 412);
    assert.equal(r.json.currentRevision, 1);
    r = await call('PUT', `${CAT}/mysql`, { body: withTag('8.0.41'), headers: { 'If-Match': '"1"' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('etag'), '"2"');
    assert.deepEqual(await mysqlImages(), ['mysql:8.0.41']);

    const list = (await call('GET', CAT)).json.items.find((t) => t.name === 'mysql');
    assert.equal(list.source, 'override');
    assert.equal(list.revision, 2);
    r = await call('GET', `${CAT}/mysql/revisions`, { headers: as('viewer') });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.items.map((i) => [i.revision, i.kind]), [[2, 'update'], [1, 'create']]);
    assert.match(r.json.items[0].summary, /params\.image\.properties\.tag\.default "8\.0\.40" -> "8\.0\.41"/);
    assert.match(r.json.items[0].actor, /^token:/);
    r = await call('GET', `${CAT}/mysql/revisions?limit=1`);
    assert.equal(r.json.items.length, 1);
    assert.equal(r.json.next, 2);
    r = await call('GET', `${CAT}/mysql/revisions?limit=1&cursor=2`);
    assert.deepEqual(r.json.items.map((i) => i.revision), [1]);
    assert.equal(r.json.next, null);
    r = await call('GET', `${CAT}/mysql/revisions/1`);
    assert.equal(r.status, 200);
    assert.equal(r.json.name, 'mysql');
    assert.equal(r.json.document.params.image.properties.tag.default, '8.0.40');

    problem(assert, await call('DELETE', `${CAT}/mysql`, { headers: { 'If-Match': '"1"' } }), 412);
    assert.equal((await call('DELETE', `${CAT}/mysql`, { headers: { 'If-Match': '"2"' } })).status, 204);
    assert.deepEqual(await mysqlImages(), ['mysql:8.0.36'], 'the built-in type is back');
    r = await call('GET', `${CAT}/mysql`);
    assert.equal(r.json.source, 'builtin');
    assert.equal(r.headers.get('etag'), '"0"');
    assert.deepEqual((await call('GET', `${CAT}/mysql/revisions`)).json.items, []);
    r = await call('DELETE', `${CAT}/mysql`);
    problem(assert, r, 409);
    assert.match(r.json.detail, /built in/);
  });

  test('deleting an override is refused when a stack is valid only with it', async () => {
    // the override adds a param that a stack then uses
    const d = clone(mysql);
    d.params.charset = { type: 'string', default: 'utf8mb4' };
    let r = await call('PUT', `${CAT}/mysql`, { body: d });
    assert.equal(r.status, 201, r.text);
    r = await call('PUT', '/api/v1/stacks/shop', { body: { ...SHOP, components: { db: { type: 'mysql', charset: 'latin1' } } } });
    assert.equal(r.status, 200, r.text);
    r = await call('DELETE', `${CAT}/mysql`);
    problem(assert, r, 422);
    assert.deepEqual(r.json.stacks, ['shop']);
    assert.ok(r.json.errors.some((e) => e.pointer === '/components/db/charset' && /^stack 'shop': with environment 'dev'/.test(e.detail)), JSON.stringify(r.json.errors));
    assert.equal((await call('GET', `${CAT}/mysql`)).json.source, 'override', 'still stored');
    r = await call('PUT', '/api/v1/stacks/shop', { body: SHOP });
    assert.equal(r.status, 200, r.text);
    assert.equal((await call('DELETE', `${CAT}/mysql`)).status, 204);
  });
});

describe('a type of its own', () => {
  test('stored, used by a stack, refused to delete while used (409), then deleted', async () => {
    const memcached = (await call('GET', `${CAT}/memcached`)).json.document;
    problem(assert, await call('PUT', `${CAT}/kv`, { body: memcached, headers: { 'If-Match': '*' } }), 412);
    let r = await call('PUT', `${CAT}/kv`, { body: { ...memcached, description: 'our cache' } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.source, 'stored');
    const item = (await call('GET', CAT)).json.items.find((t) => t.name === 'kv');
    assert.deepEqual([item.source, item.revision, item.description], ['stored', 1, 'our cache']);
    const stack = { services: { web: { image: { repository: 'web', tag: '2' }, port: 80, uses: { cache: {} } } }, components: { cache: { type: 'kv' } } };
    r = await call('POST', '/api/v1/stacks', { body: { name: 'kv-user', document: stack } });
    assert.equal(r.status, 201, r.text);
    r = await call('DELETE', `${CAT}/kv`);
    problem(assert, r, 409);
    assert.deepEqual(r.json.stacks, ['kv-user']);
    assert.match(r.json.detail, /kv-user/);
    assert.equal((await call('DELETE', '/api/v1/stacks/kv-user?force=1')).status, 204);
    assert.equal((await call('DELETE', `${CAT}/kv`)).status, 204);
    problem(assert, await call('GET', `${CAT}/kv`), 404);
    problem(assert, await call('GET', `${CAT}/kv/revisions`), 404);
    problem(assert, await call('DELETE', `${CAT}/kv`), 404);
  });
});

describe('manifestd catalog (offline, same database)', () => {
  const cli = (args, input) => spawnSync(binary, ['catalog', ...args, ...dbFlags(db), ...keyFlags(db)], { encoding: 'utf8', input, timeout: 60000 });

  test('list, show, put (file and stdin), delete, with the checks of the API', async () => {
    let r = cli(['list']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^NAME\s+SOURCE\s+REVISION\s+CATEGORY\n/);
    assert.match(r.stdout, /^mysql\s+builtin\s+-\s+database$/m);
    r = cli(['list', '--json']);
    assert.equal(JSON.parse(r.stdout).find((t) => t.name === 'redis').source, 'builtin');
    r = cli(['show', 'mysql']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), mysql);

    const file = path.join(dir, 'mysql.json');
    writeFileSync(file, JSON.stringify(withTag('8.0.42')));
    r = cli(['put', 'mysql', file, '--revision', '1']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /is at revision 0, not 1/);
    r = cli(['put', 'mysql', file, '--revision', '0']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /type 'mysql' stored \(revision 1\)/);
    assert.deepEqual(await mysqlImages(), ['mysql:8.0.42'], 'the running server renders what the CLI stored');
    const rev = (await call('GET', `${CAT}/mysql/revisions/1`)).json;
    assert.match(rev.actor, /^cli:/);
    r = cli(['put', 'mysql', '-'], JSON.stringify(withTag('8.0.43')));
    assert.equal(r.status, 0, r.stderr);
    assert.match(cli(['list']).stdout, /^mysql\s+override\s+2\s+database$/m);

    // the same checks as the API: a bad document, a stack it would break
    const bad = withTag('8.0.44');
    bad.workload.env.X = { value: '${bogus}' };
    r = cli(['put', 'mysql'], JSON.stringify(bad));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^\/workload\/env\/X\/value: /m);
    const breaks = withTag('8.0.44');
    breaks.consumer.database.enum = ['orders'];
    breaks.consumer.database.default = 'orders';
    r = cli(['put', 'mysql'], JSON.stringify(breaks));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^\/services\/order-service\/uses\/mysql\/database: stack 'msa-shop': with environment/m);
    r = cli(['put', 'mysql'], '{"a": ');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /line 1/);
    let deep = '1';
    for (let i = 0; i < 100; i++) deep = `{"d": ${deep}}`;
    r = cli(['put', 'mysql'], deep);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /nested deeper/);
    assert.match(cli(['list']).stdout, /^mysql\s+override\s+2\s+database$/m, 'nothing stored');

    // a type of its own, used: delete refused; the override: deleted, the built-in back
    const memcached = JSON.parse(cli(['show', 'memcached']).stdout);
    assert.equal(cli(['put', 'kv2'], JSON.stringify(memcached)).status, 0);
    let resp = await call('PUT', '/api/v1/stacks/kv2-user', { body: { services: { web: { image: { repository: 'web', tag: '2' }, port: 80, uses: { c: {} } } }, components: { c: { type: 'kv2' } } } });
    assert.equal(resp.status, 201, resp.text);
    r = cli(['delete', 'kv2']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /used by stacks \["kv2-user"\]/);
    resp = await call('DELETE', '/api/v1/stacks/kv2-user');
    assert.equal(resp.status, 204, resp.text);
    assert.equal(cli(['delete', 'kv2']).status, 0);
    assert.equal(cli(['delete', 'mysql', '--revision', '1']).status, 1);
    r = cli(['delete', 'mysql', '--revision', '2']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(await mysqlImages(), ['mysql:8.0.36']);
    r = cli(['delete', 'mysql']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /built in and not stored/);
    assert.equal(cli(['show', 'nosuch']).status, 1);
    assert.equal(cli(['delete', 'nosuch']).status, 1);

    // usage
    for (const args of [[], ['frob'], ['show'], ['list', 'x'], ['delete'], ['show', 'a', 'b'], ['put', 'a', 'f', 'g'], ['put', 'mysql', '--revision', 'x']]) {
      assert.equal(cli(args).status, 2, args.join(' '));
    }
    assert.equal(spawnSync(binary, ['catalog', '--help']).status, 0);
  });
});
