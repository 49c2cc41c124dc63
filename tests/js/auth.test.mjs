// Access and secrets against the real binary: bearer tokens and roles (401/403 that do not
// tell whether a resource exists), the first-start admin token, --no-auth only on
// loopback, token revocation, history actors, secrets sealed at rest (the raw database
// and WAL bytes hold no secret value), wrong keys refused, `manifestd rekey`, and the
// secretSource modes (existing, externalSecret) over HTTP.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { binary, createToken, dbFlags, dbTarget, dialect, keyFlags, rawBytes, removeDir, sql, start, tempDir } from './lib/server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const seed = (name) => JSON.parse(readFileSync(path.join(root, 'migrations/seed/msa-shop', name), 'utf8'));
const SEED_SECRETS = ['dev.json', 'staging.json', 'prod.json'].flatMap((f) => Object.values(seed(f).secrets));
const ENV = '/api/v1/stacks/msa-shop/environments';

async function call(server, method, p, { token, body, type = 'application/json', headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (token) init.headers.authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['content-type'] = type;
  }
  const res = await fetch(server.url + p, init);
  const text = await res.text();
  let json;
  if ((res.headers.get('content-type') || '').includes('json') && text) json = JSON.parse(text);
  return { status: res.status, headers: res.headers, text, json };
}

function cli(args, env = {}) {
  const r = spawnSync(binary, args, { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertNoSecrets(buf, values, where) {
  for (const v of values) {
    assert.ok(!buf.includes(Buffer.from(v)), `${where}: secret value '${v}' found`);
    assert.ok(!buf.includes(Buffer.from(Buffer.from(v).toString('base64'))), `${where}: base64 of '${v}' found`);
  }
}

// Waits (up to 10 s) until re matches the server's stderr, which arrives in chunks.
async function stderrMatch(server, re) {
  for (let i = 0; i < 200; i++) {
    const m = re.exec(server.stderr());
    if (m) return m;
    await new Promise((r) => setTimeout(r, 50));
  }
  return null;
}

const yamlObjects = (text) => parseAllDocuments(text).map((d) => d.toJS()).filter(Boolean);

describe('tokens and roles', () => {
  let dir, db, server;
  const tokens = {};
  before(async () => {
    dir = tempDir();
    db = path.join(dir, 'data/manifestd.db');
    server = await start({ db, autoAuth: false });
    tokens.admin = server.token;
    tokens.viewer = createToken(db, { name: 'dash', role: 'viewer' });
    tokens.editor = createToken(db, { name: 'ci-prod', role: 'editor' });
  });
  after(async () => {
    const { code } = await server.stop();
    assert.equal(code, 0, server.stderr());
    removeDir(dir);
  });

  const guarded = [
    ['GET', '/api/v1/stacks'],
    ['GET', '/api/v1/stacks/msa-shop'],
    ['GET', `${ENV}/prod`],
    ['GET', `${ENV}/prod/manifests?format=yaml`],
    ['PUT', `${ENV}/prod`, {}],
    ['PATCH', `${ENV}/prod`, {}],
    ['DELETE', '/api/v1/stacks/msa-shop'],
    ['POST', '/render', { stack: 'msa-shop', environment: 'prod' }],
  ];

  test('no token or a bad one: 401 with WWW-Authenticate, the same for missing resources', async () => {
    for (const [method, p, body] of guarded) {
      for (const token of [undefined, 'mfd_' + '0'.repeat(64), 'garbage']) {
        const r = await call(server, method, p, { token, body });
        assert.equal(r.status, 401, `${method} ${p}: ${r.text}`);
        assert.match(r.headers.get('www-authenticate'), /^Bearer realm="manifestd"/);
        assert.match(r.headers.get('content-type'), /^application\/problem\+json/);
        const missing = await call(server, method, p.replace('msa-shop', 'no-such-stack').replace('prod', 'nope'), { token, body });
        assert.equal(missing.status, 401);
        assert.equal(missing.json.detail, r.json.detail, 'the answer must not depend on existence');
      }
    }
    const bad = await call(server, 'GET', '/api/v1/stacks', { token: 'mfd_' + '0'.repeat(64) });
    assert.match(bad.headers.get('www-authenticate'), /error="invalid_token"/);
  });

  test('health, metrics, the API description and the web form stay open', async () => {
    for (const p of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/']) {
      assert.equal((await call(server, 'GET', p)).status, 200, p);
    }
  });

  test('viewer reads; editor writes environments; admin writes stacks; 403 says nothing of existence', async () => {
    const { viewer, editor, admin } = tokens;
    assert.equal((await call(server, 'GET', `${ENV}/prod`, { token: viewer })).status, 200);
    assert.equal((await call(server, 'GET', '/api/v1/stacks', { token: viewer })).status, 200);
    for (const [stack, env] of [['msa-shop', 'prod'], ['no-such-stack', 'nope']]) {
      const patch = await call(server, 'PATCH', `/api/v1/stacks/${stack}/environments/${env}`, { token: viewer, body: { description: 'x' } });
      assert.equal(patch.status, 403, patch.text);
      assert.match(patch.json.detail, /role viewer.*needs editor/);
      const del = await call(server, 'DELETE', `/api/v1/stacks/${stack}`, { token: editor });
      assert.equal(del.status, 403);
      assert.match(del.json.detail, /role editor.*needs admin/);
    }
    const ok = await call(server, 'PATCH', `${ENV}/staging`, { token: editor, body: { description: 'by ci' }, type: 'application/merge-patch+json' });
    assert.equal(ok.status, 200, ok.text);
    const stack = await call(server, 'GET', '/api/v1/stacks/msa-shop', { token: admin });
    const put = await call(server, 'PUT', '/api/v1/stacks/msa-shop', { token: admin, body: stack.json.document });
    assert.equal(put.status, 200, put.text);
    assert.equal((await call(server, 'PUT', '/api/v1/stacks/msa-shop', { token: editor, body: stack.json.document })).status, 403);
  });

  test('history rows name the token', async () => {
    const r = await call(server, 'PATCH', `${ENV}/dev`, { token: tokens.editor, body: { description: 'actor test' }, type: 'application/merge-patch+json', headers: { 'x-actor': 'spoofed' } });
    assert.equal(r.status, 200, r.text);
    const actor = sql(db, "SELECT actor FROM history WHERE environment = 'dev' ORDER BY id DESC LIMIT 1").trim();
    assert.equal(actor, 'token:ci-prod');
  });

  test('a viewer may not render secret values; an editor may', async () => {
    const v = await call(server, 'GET', `${ENV}/prod/manifests?format=yaml`, { token: tokens.viewer });
    assert.equal(v.status, 403, v.text);
    assert.match(v.json.detail, /secret values/);
    assertNoSecrets(Buffer.from(v.text), SEED_SECRETS, 'viewer 403');
    const vr = await call(server, 'POST', '/render?format=yaml', { token: tokens.viewer, body: { stack: 'msa-shop', environment: 'prod' } });
    assert.equal(vr.status, 403);
    const e = await call(server, 'GET', `${ENV}/prod/manifests?format=yaml`, { token: tokens.editor });
    assert.equal(e.status, 200);
    const secret = yamlObjects(e.text).find((o) => o.kind === 'Secret');
    assert.equal(Buffer.from(secret.data['jwt-secret'], 'base64').toString(), seed('prod.json').secrets['jwt-secret']);
    // the editor's bundles are in the render cache now: a viewer still may not have them
    for (const fmt of ['yaml', 'zip', 'json']) {
      assert.equal((await call(server, 'GET', `${ENV}/prod/manifests?format=${fmt}`, { token: tokens.editor })).status, 200);
      assert.equal((await call(server, 'GET', `${ENV}/prod/manifests?format=${fmt}`, { token: tokens.viewer })).status, 403, fmt);
      const body = { stack: 'msa-shop', environment: 'prod' };
      assert.equal((await call(server, 'POST', `/render?format=${fmt}`, { token: tokens.editor, body })).status, 200);
      assert.equal((await call(server, 'POST', `/render?format=${fmt}`, { token: tokens.viewer, body })).status, 403, fmt);
    }
  });

  test('token list shows last use; a revoked token is refused at once', async () => {
    const list = JSON.parse(cli(['token', 'list', '--json', ...dbFlags(db)]).stdout);
    const byName = Object.fromEntries(list.map((t) => [t.name, t]));
    assert.equal(byName['ci-prod'].role, 'editor');
    assert.match(byName['ci-prod'].lastUsed, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(!JSON.stringify(list).includes(tokens.editor), 'the list shows no token');
    assert.ok(!rawBytes(db).includes(Buffer.from(tokens.editor)), 'only the hash is stored');
    assert.equal((await call(server, 'GET', `${ENV}/dev`, { token: tokens.viewer })).status, 200);
    assert.equal(cli(['token', 'revoke', 'dash', ...dbFlags(db)]).status, 0);
    assert.equal((await call(server, 'GET', `${ENV}/dev`, { token: tokens.viewer })).status, 401);
    assert.equal(cli(['token', 'revoke', 'dash', ...dbFlags(db)]).status, 1);
    assert.equal(cli(['token', 'create', '--name', 'ci-prod', '--role', 'viewer', ...dbFlags(db)]).status, 1, 'names are unique');
    assert.equal(cli(['token', 'create', '--name', 'x', '--role', 'root', ...dbFlags(db)]).status, 2);
  });
});

describe('first start and --no-auth', () => {
  test('a fresh database prints one admin token, once', async (t) => {
    const dir = tempDir();
    t.after(() => removeDir(dir));
    const db = path.join(dir, 'm.db');
    let server = await start({ db, token: false, autoAuth: false });
    t.after(() => server.stop());
    const m = await stderrMatch(server, /manifestd: created the admin token 'admin' \(shown only this once\): (mfd_[0-9a-f]{64})\n/);
    assert.ok(m, server.stderr());
    assert.match(server.stderr(), /^manifestd: listening on /, 'the first line stays the listening line');
    assert.equal((await call(server, 'GET', '/api/v1/stacks', { token: m[1] })).status, 200);
    assert.equal((await call(server, 'DELETE', `${ENV}/dev`, { token: m[1] })).status, 204);
    await server.stop();
    server = await start({ db, token: false, autoAuth: false });
    assert.equal((await call(server, 'GET', '/api/v1/stacks', { token: m[1] })).status, 200);
    assert.ok(await stderrMatch(server, /"GET \/api\/v1\/stacks" 200/), server.stderr());
    assert.ok(!/admin token/.test(server.stderr()), 'printed only the first time');
  });

  test('--no-auth works on loopback and is refused elsewhere', async (t) => {
    const dir = tempDir();
    t.after(() => removeDir(dir));
    const db = path.join(dir, 'm.db');
    const server = await start({ db, noAuth: true, autoAuth: false });
    const r = await call(server, 'PATCH', `${ENV}/dev`, { body: { description: 'open' }, type: 'application/merge-patch+json', headers: { 'x-actor': 'alice' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(sql(db, "SELECT actor FROM history ORDER BY id DESC LIMIT 1").trim(), 'alice');
    assert.equal((await call(server, 'GET', `${ENV}/prod/manifests?format=yaml`)).status, 200);
    await server.stop();
    for (const listen of ['0.0.0.0:0', '[::]:0']) {
      const refused = cli(['serve', '--no-auth', '--listen', listen, ...dbFlags(db)]);
      assert.equal(refused.status, 2, refused.stderr);
      assert.match(refused.stderr, /--no-auth is refused/);
    }
    assert.equal(cli(['serve', '--listen', '0.0.0.0:0', ...dbFlags(db)], { MANIFESTD_NO_AUTH: '1', MANIFESTD_SHUTDOWN_GRACE: 'x' }).status, 2,
      'there is no environment variable that turns authentication off');
  });
});

describe('secrets at rest', () => {
  test('sealed in the database and WAL, masked in responses, history and logs; the key file is 0600', async (t) => {
    const dir = tempDir();
    t.after(() => removeDir(dir));
    const db = path.join(dir, 'data/manifestd.db');
    const server = await start({ db, autoAuth: false });
    const fresh = ['brand-new-jwt-secret-4711', 'another-Value-with-ünïcode'];
    const r = await call(server, 'PATCH', `${ENV}/prod`, {
      token: server.token, type: 'application/merge-patch+json',
      body: { secrets: { 'jwt-secret': fresh[0], 'mysql-password': fresh[1] } },
    });
    assert.equal(r.status, 200, r.text);
    assertNoSecrets(Buffer.from(r.text), [...fresh, ...SEED_SECRETS], 'PATCH response');
    const put = await call(server, 'POST', `${ENV}`, { token: server.token, body: { name: 'qa', document: { image: { tag: '1.0.0' }, secrets: { 'jwt-secret': 'qa-secret-1', 'mysql-root-password': 'qa-secret-2', 'mysql-password': 'qa-secret-3', 'rabbitmq-password': 'qa-secret-4' } } } });
    assert.equal(put.status, 201, put.text);
    const all = [...fresh, ...SEED_SECRETS.filter((v) => !['prod-jwt-secret-change-me', 'prod-app-password-change-me'].includes(v)), 'qa-secret-1', 'qa-secret-2'];
    assertNoSecrets(rawBytes(db), all, 'database files while running');
    const history = sql(db, 'SELECT old_document || new_document FROM history');
    assertNoSecrets(Buffer.from(history), all, 'history');
    assert.match(history, /"sealed"|"set":true/);
    const yaml = await call(server, 'GET', `${ENV}/prod/manifests?format=yaml`, { token: server.token });
    const secret = yamlObjects(yaml.text).find((o) => o.kind === 'Secret');
    assert.equal(Buffer.from(secret.data['jwt-secret'], 'base64').toString(), fresh[0], 'values still render');
    await server.stop();
    assertNoSecrets(rawBytes(db), all, 'database files after stop');
    assertNoSecrets(Buffer.from(server.stderr()), all, 'server log');
    const key = path.join(dir, 'data/manifestd.key');
    assert.equal(statSync(key).mode & 0o777, 0o600);
  });

  // (a copy of a SQLite file; with PostgreSQL the wrong key below is the same case)
  test('a copy of the database alone does not open; a wrong key is refused; MANIFESTD_SECRET_KEY works', { skip: dialect !== 'sqlite' && 'copies a SQLite file' }, async (t) => {
    const dir = tempDir();
    t.after(() => removeDir(dir));
    const db = path.join(dir, 'a/manifestd.db');
    const hexKey = 'ab'.repeat(32);
    let server = await start({ db, env: { MANIFESTD_SECRET_KEY: hexKey } });
    assert.ok(!existsSync(path.join(dir, 'a/manifestd.key')), 'no key file when the variable is set');
    await server.stop();
    mkdirSync(path.join(dir, 'b'));
    copyFileSync(db, path.join(dir, 'b/manifestd.db'));
    const copy = cli(['serve', '--listen', '127.0.0.1:0', '--db', path.join(dir, 'b/manifestd.db')]);
    assert.equal(copy.status, 1);
    assert.match(copy.stderr, /do not open with this key/);
    assertNoSecrets(Buffer.from(copy.stderr), SEED_SECRETS, 'error message');
    const wrong = cli(['serve', '--listen', '127.0.0.1:0', '--db', dbTarget(db)], { MANIFESTD_SECRET_KEY: 'cd'.repeat(32) });
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /do not open with this key/);
    const bad = cli(['serve', '--listen', '127.0.0.1:0', '--db', dbTarget(db)], { MANIFESTD_SECRET_KEY: 'short' });
    assert.match(bad.stderr, /MANIFESTD_SECRET_KEY is not a key/);
    const b64 = Buffer.from(hexKey, 'hex').toString('base64');
    server = await start({ db, env: { MANIFESTD_SECRET_KEY: b64 } });
    const yaml = await call(server, 'GET', `${ENV}/prod/manifests?format=yaml`, { token: server.token });
    assert.equal(yaml.status, 200);
    await server.stop();
  });

  test('manifestd rekey re-encrypts everything under a new key file', async (t) => {
    const dir = tempDir();
    t.after(() => removeDir(dir));
    const db = path.join(dir, 'manifestd.db');
    const keyFile = path.join(dir, 'manifestd.key');
    let server = await start({ db, autoAuth: false });
    const before = await call(server, 'GET', `${ENV}/staging/manifests?format=json`, { token: server.token });
    await server.stop();
    const oldKey = readFileSync(keyFile, 'utf8');
    const oldRows = sql(db, 'SELECT document FROM environments ORDER BY name');
    const r = cli(['rekey', ...dbFlags(db), ...keyFlags(db)]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /re-encrypted the secrets of \d+ documents/);
    const newKey = readFileSync(keyFile, 'utf8');
    assert.notEqual(newKey, oldKey);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.ok(!existsSync(`${keyFile}.new`));
    assert.notEqual(sql(db, 'SELECT document FROM environments ORDER BY name'), oldRows);
    assertNoSecrets(rawBytes(db), SEED_SECRETS, 'after rekey');
    const old = cli(['serve', '--listen', '127.0.0.1:0', '--db', dbTarget(db)], { MANIFESTD_SECRET_KEY: oldKey.trim() });
    assert.match(old.stderr, /do not open with this key/, 'the old key no longer opens');
    server = await start({ db, token: createToken(db, { name: 'after-rekey' }), autoAuth: false });
    const after = await call(server, 'GET', `${ENV}/staging/manifests?format=json`, { token: server.token });
    assert.equal(after.text, before.text, 'the same bundle, byte for byte');
    await server.stop();
  });
});

describe('secretSource', () => {
  let dir, db, server;
  before(async () => {
    dir = tempDir();
    db = path.join(dir, 'manifestd.db');
    server = await start({ db, autoAuth: false });
  });
  after(async () => {
    await server.stop();
    removeDir(dir);
  });
  const keys = Object.keys(seed('prod.json').secrets);
  const emptied = Object.fromEntries(keys.map((k) => [k, '']));

  test('existing: no Secret rendered, references point at the named Secret, no values needed', async () => {
    const viewer = createToken(db, { name: 'viewer-1', role: 'viewer' });
    const r = await call(server, 'PATCH', `${ENV}/prod`, { token: server.token, type: 'application/merge-patch+json', body: { secretSource: { type: 'existing', name: 'shop-secrets' }, secrets: emptied } });
    assert.equal(r.status, 200, r.text);
    const y = await call(server, 'GET', `${ENV}/prod/manifests?format=yaml`, { token: viewer });
    assert.equal(y.status, 200, 'a viewer may render: there are no values');
    const objects = yamlObjects(y.text);
    assert.ok(!objects.some((o) => o.kind === 'Secret'));
    const refs = objects.flatMap((o) => (o.spec?.template?.spec?.containers ?? []).flatMap((c) => c.env ?? [])).filter((e) => e.valueFrom?.secretKeyRef);
    assert.ok(refs.length > 3);
    assert.ok(refs.every((e) => e.valueFrom.secretKeyRef.name === 'shop-secrets'));
    const withValue = await call(server, 'PATCH', `${ENV}/prod`, { token: server.token, type: 'application/merge-patch+json', body: { secrets: { 'jwt-secret': 'x' } } });
    assert.equal(withValue.status, 422);
    assert.ok(withValue.json.errors.some((e) => e.pointer === '/secrets/jwt-secret' && /would not be used/.test(e.detail)));
  });

  test('externalSecret: an ExternalSecret with a remoteRef per key', async () => {
    const body = { secretSource: { type: 'externalSecret', name: 'msa-shop-secrets', secretStore: 'vault', secretStoreKind: 'SecretStore', remoteKey: 'teams/shop/prod' } };
    const r = await call(server, 'PATCH', `${ENV}/prod`, { token: server.token, type: 'application/merge-patch+json', body });
    assert.equal(r.status, 200, r.text);
    const y = await call(server, 'GET', `${ENV}/prod/manifests?format=yaml`, { token: server.token });
    const es = yamlObjects(y.text).filter((o) => o.kind === 'ExternalSecret');
    assert.equal(es.length, 1);
    assert.equal(es[0].apiVersion, 'external-secrets.io/v1beta1');
    assert.deepEqual(es[0].spec.secretStoreRef, { name: 'vault', kind: 'SecretStore' });
    assert.deepEqual(es[0].spec.data.map((d) => d.secretKey), [...keys].sort());
    assert.ok(es[0].spec.data.every((d) => d.remoteRef.key === 'teams/shop/prod' && d.remoteRef.property === d.secretKey));
    const noStore = await call(server, 'PATCH', `${ENV}/prod`, { token: server.token, type: 'application/merge-patch+json', body: { secretSource: { secretStore: '' } } });
    assert.equal(noStore.status, 422);
    assert.ok(noStore.json.errors.some((e) => e.pointer === '/secretSource/secretStore'));
  });
});
