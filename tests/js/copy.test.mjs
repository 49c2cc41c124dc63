// `manifestd copy` between SQLite and PostgreSQL, both ways (runs in the js-pg stage;
// skipped on SQLite alone): a populated SQLite database (stacks, environments with
// secrets and several revisions, a deleted environment, tokens, stored component types
// with their history) is copied to PostgreSQL and back to a new SQLite file. Every
// document, revision, history row, token, secret and type is identical afterwards: the
// API answers and the rendered bundles (secret values included) are byte for byte the
// same through a server on each copy, and the round trip gives back every row of every
// table. A target that holds data (a change of its catalog too) is refused without
// --force.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { call } from './lib/client.mjs';
import { binary, createToken, dbTarget, dialect, keepSqlite, removeDir, sql, start, tempDir } from './lib/server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const seed = (name) => JSON.parse(readFileSync(path.join(root, 'migrations/seed/msa-shop', name), 'utf8'));
const skip = dialect !== 'postgres' && 'needs PostgreSQL (MANIFESTD_TEST_PG, stage js-pg)';
const MERGE = 'application/merge-patch+json';

function copy(from, to, ...more) {
  return spawnSync(binary, ['copy', '--from', from, '--to', to, ...more], { encoding: 'utf8', timeout: 60000 });
}

function sqlite(db, query) {
  const r = spawnSync('sqlite3', ['-batch', '-noheader', db, query], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

// Every row of every table but schema_migrations, in key order, as text.
function rows(db) {
  const tables = sqlite(db, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'schema_migrations' ORDER BY name").trim().split('\n');
  return Object.fromEntries(tables.map((t) => [t, sqlite(db, `SELECT * FROM "${t}" ORDER BY 1, 2`)]));
}

// What a reader sees through server: every stack and environment, their revisions and
// history, the token list, and each environment's bundle with its secret values.
async function everything(server, token) {
  const get = async (p) => {
    const r = await call(server, 'GET', p, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200, `${p}: ${r.text}`);
    return r;
  };
  const out = { stacks: (await get('/api/v1/stacks')).json, catalog: (await get('/api/v1/catalog')).json };
  for (const t of out.catalog.items.filter((i) => i.source !== 'builtin')) {
    out[`catalog/${t.name}`] = (await get(`/api/v1/catalog/${t.name}`)).json;
    out[`catalog/${t.name}/revisions`] = (await get(`/api/v1/catalog/${t.name}/revisions`)).json;
    out[`catalog/${t.name}/r1`] = (await get(`/api/v1/catalog/${t.name}/revisions/1`)).json;
  }
  for (const s of out.stacks.items) {
    out[s.name] = (await get(`/api/v1/stacks/${s.name}`)).json;
    const envs = (await get(`/api/v1/stacks/${s.name}/environments?limit=1000`)).json.items;
    for (const e of envs) {
      const base = `/api/v1/stacks/${s.name}/environments/${e.name}`;
      out[`${s.name}/${e.name}`] = (await get(base)).json;
      out[`${s.name}/${e.name}/revisions`] = (await get(`${base}/revisions?limit=1000`)).json;
      out[`${s.name}/${e.name}/r1`] = (await get(`${base}/revisions/1`)).json;
      out[`${s.name}/${e.name}/yaml`] = (await get(`${base}/manifests?format=yaml`)).text;
    }
  }
  return out;
}

test('manifestd copy: SQLite to PostgreSQL and back, everything identical', { skip, timeout: 120000 }, async (t) => {
  const dir = tempDir();
  t.after(() => removeDir(dir));
  const lite = keepSqlite(path.join(dir, 'lite/manifestd.db'));
  const key = path.join(dir, 'lite/manifestd.key');
  let server = await start({ db: lite, args: ['--key-file', key] });
  const admin = server.token;
  // populate: a second stack, environments with secrets, revisions, a delete, tokens
  const h = { authorization: `Bearer ${admin}` };
  const stack = await call(server, 'GET', '/api/v1/stacks/msa-shop', { headers: h });
  let r = await call(server, 'PUT', '/api/v1/stacks/shop-b', { headers: h, body: { ...stack.json.document, description: 'copied stack' } });
  assert.equal(r.status, 201, r.text);
  for (const [i, env] of ['qa', 'perf', 'gone'].entries()) {
    r = await call(server, 'PUT', `/api/v1/stacks/shop-b/environments/${env}`, { headers: h, body: { ...seed('staging.json'), namespace: `b-${env}`, secrets: { ...seed('staging.json').secrets, 'jwt-secret': `jwt-${env}-ünï-${i}` } } });
    assert.equal(r.status, 201, r.text);
    for (let n = 0; n < 3; n++) {
      r = await call(server, 'PATCH', `/api/v1/stacks/shop-b/environments/${env}`, { headers: h, type: MERGE, body: { config: { step: String(n) }, secrets: { 'mysql-password': `pw-${env}-${n}` } } });
      assert.equal(r.status, 200, r.text);
    }
  }
  assert.equal((await call(server, 'DELETE', '/api/v1/stacks/shop-b/environments/gone', { headers: h })).status, 204);
  // the catalog: an override of a built-in type with two revisions, a type of its own, one deleted
  const mysql = (await call(server, 'GET', '/api/v1/catalog/mysql', { headers: h })).json.document;
  for (const tag of ['8.0.40', '8.0.41']) {
    mysql.params.image.properties.tag.default = tag;
    r = await call(server, 'PUT', '/api/v1/catalog/mysql', { headers: h, body: mysql });
    assert.ok([200, 201].includes(r.status), r.text);
  }
  const memcached = (await call(server, 'GET', '/api/v1/catalog/memcached', { headers: h })).json.document;
  for (const name of ['kv', 'kv-gone']) assert.equal((await call(server, 'PUT', `/api/v1/catalog/${name}`, { headers: h, body: { ...memcached, description: `ünï ${name}` } })).status, 201);
  assert.equal((await call(server, 'DELETE', '/api/v1/catalog/kv-gone', { headers: h })).status, 204);
  const viewer = createToken(lite, { name: 'dash', role: 'viewer' });
  const before = await everything(server, admin);
  await server.stop();

  // SQLite -> PostgreSQL
  const pgPath = path.join(dir, 'pg.db'); // stands for a PostgreSQL database
  const pg = dbTarget(pgPath);
  let c = copy(lite, pg);
  assert.equal(c.status, 0, c.stderr);
  // the seeded msa-shop (3 environments) and manifestd (2), and the test's own stack
  for (const part of [/copied \d+ rows from SQLite to PostgreSQL:/, /environments 7\b/, /stacks 3\b/, /tokens 2\b/, /history \d+/, /catalog 2\b/, /catalog_history 5\b/]) assert.match(c.stderr, part);
  assert.doesNotMatch(c.stderr, /pw-qa|jwt-qa/, 'copy never shows a secret');
  server = await start({ db: pgPath, token: admin, args: ['--key-file', key] });
  const onPg = await everything(server, admin);
  assert.deepEqual(onPg, before, 'the same documents, revisions, history, bundles (secrets included) and types on PostgreSQL');
  assert.match(before['msa-shop/dev/yaml'], /mysql:8\.0\.36/);
  assert.equal(before['catalog/mysql'].revision, 2);
  assert.equal((await call(server, 'GET', '/api/v1/stacks/shop-b/environments/qa', { headers: { authorization: `Bearer ${viewer}` } })).status, 200, 'tokens came along');
  // the copy keeps working as a database: a write continues the revisions
  r = await call(server, 'PATCH', '/api/v1/stacks/shop-b/environments/qa', { headers: h, type: MERGE, body: { config: { step: 'pg' } } });
  assert.equal(r.json.revision, before['shop-b/qa'].revision + 1);
  r = await call(server, 'PUT', '/api/v1/catalog/kv', { headers: { ...h, 'If-Match': '"1"' }, body: memcached });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.revision, 2, 'and a type\'s');
  await server.stop();

  // a target that holds data is refused, unless --force
  c = copy(lite, pg);
  assert.equal(c.status, 1);
  assert.match(c.stderr, /holds data.*--force/);
  c = copy(lite, pg, '--force');
  assert.equal(c.status, 0, c.stderr);

  // PostgreSQL -> a new SQLite file: every row of every table as it was
  const back = keepSqlite(path.join(dir, 'back/manifestd.db'));
  c = copy(pg, back);
  assert.equal(c.status, 0, c.stderr);
  assert.deepEqual(rows(back), rows(lite));
  server = await start({ db: back, token: admin, args: ['--key-file', key] });
  assert.deepEqual(await everything(server, admin), before, 'and the same through a server on the copy');
  await server.stop();

  // a target whose only change is one of the catalog holds data too
  const fresh = path.join(dir, 'fresh.db');
  server = await start({ db: fresh, noAuth: true, args: ['--key-file', key] });
  assert.equal((await call(server, 'PUT', '/api/v1/catalog/kv3', { body: memcached })).status, 201);
  await server.stop();
  assert.equal(sql(fresh, 'SELECT count(*) FROM tokens').trim(), '0');
  c = copy(lite, dbTarget(fresh));
  assert.equal(c.status, 1);
  assert.match(c.stderr, /holds data/);

  const same = copy(lite, lite);
  assert.equal(same.status, 2);
  assert.equal(copy(path.join(dir, 'nowhere/x.db'), pg, '--force', '--bogus').status, 2);
});
