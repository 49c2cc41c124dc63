// The preview format (?format=files, what the web form shows in a browser) never carries a
// secret value, plain or base64: stored ones, ones typed as overrides, inline ones (the
// import preview). zip and yaml still do, for editors. And the roles of the routes the web
// form calls for history, diffs, rollback and import (viewer / editor / admin / none).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createToken, removeDir, start, tempDir } from './lib/server.mjs';
import { has, tool } from './lib/bundle.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const STACK = 'msa-shop';
const ENV = `/api/v1/stacks/${STACK}/environments`;
const TYPED = 'typed-in-the-form-8QzR';
const INLINE = 'inline-import-secret-Kx7w';

let dir, server, tokens;

// Every non-empty secret value of the seeded environments.
function seedSecrets() {
  const seed = path.join(root, 'migrations/seed', STACK);
  const out = [];
  for (const f of readdirSync(seed).filter((n) => n.endsWith('.json'))) {
    const doc = JSON.parse(readFileSync(path.join(seed, f), 'utf8'));
    for (const v of Object.values(doc.secrets || {})) if (typeof v === 'string' && v) out.push(v);
  }
  return out;
}

// The value and every way it may show in a manifest: plain, base64, and the part of its
// base64 that stays the same wherever it starts inside a longer encoded string.
function forms(v) {
  const b = Buffer.from(v);
  const out = new Set([v, b.toString('base64')]);
  for (const k of [0, 1, 2]) out.add(Buffer.concat([Buffer.alloc(k), b]).toString('base64').slice(k ? 4 : 0, -4));
  return [...out].filter((s) => s.length >= 6);
}

async function call(method, p, { role = 'admin', body, type = 'application/json' } = {}) {
  const headers = {};
  if (role) headers.authorization = `Bearer ${tokens[role]}`;
  if (body !== undefined) headers['content-type'] = type;
  const res = await fetch(server.url + p, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const buf = Buffer.from(await res.arrayBuffer());
  return { status: res.status, buf, text: buf.toString('utf8') };
}

function assertNoSecret(text, secrets, where) {
  for (const s of secrets) for (const f of forms(s)) assert.ok(!text.includes(f), `${where}: "${f}" (a form of "${s}") is in the output`);
}

before(async () => {
  dir = tempDir('manifestd-preview-');
  const db = path.join(dir, 'm.db');
  tokens = {
    admin: createToken(db, { name: 'admin-test', role: 'admin' }),
    editor: createToken(db, { name: 'editor-test', role: 'editor' }),
    viewer: createToken(db, { name: 'viewer-test', role: 'viewer' }),
  };
  server = await start({ db, token: tokens.admin, autoAuth: false }); // each call names its role
});

after(async () => {
  await server?.stop();
  removeDir(dir);
});

describe('format=files is masked', () => {
  const secrets = seedSecrets();

  test('the seed has secret values to look for', () => {
    assert.ok(secrets.length >= 3, secrets.join(','));
  });

  for (const env of ['dev', 'staging', 'prod']) {
    test(`${env}: POST /render and GET manifests as files hold no secret value, for editor and viewer`, async () => {
      for (const role of ['admin', 'editor', 'viewer']) {
        const r = await call('POST', '/render?format=files', { role, body: { stack: STACK, environment: env } });
        assert.equal(r.status, 200, `${role}: ${r.text}`);
        const files = JSON.parse(r.text).files;
        assert.ok(files.some((f) => /secret/.test(f.name) && /kind: Secret/.test(f.content)), 'a Secret is still rendered');
        assertNoSecret(r.text, secrets, `${env} render files (${role})`);
        const m = await call('GET', `${ENV}/${env}/manifests?format=files`, { role });
        assert.equal(m.status, 200, m.text);
        assertNoSecret(m.text, secrets, `${env} manifests files (${role})`);
      }
    });
  }

  test('a secret typed in the form (an override) and inline documents (the import preview) are masked too', async () => {
    const stack = JSON.parse((await call('GET', `/api/v1/stacks/${STACK}`)).text).document;
    const key = Object.keys(stack.secrets)[0];
    const r = await call('POST', '/render?format=files', { role: 'editor', body: { stack: STACK, environment: 'dev', overrides: { secrets: { [key]: TYPED } } } });
    assert.equal(r.status, 200, r.text);
    assertNoSecret(r.text, [TYPED, ...secrets], 'override');
    // the same override in yaml does carry it (base64): the masking is the format's, not an accident
    const y = await call('POST', '/render?format=yaml', { role: 'editor', body: { stack: STACK, environment: 'dev', overrides: { secrets: { [key]: TYPED } } } });
    assert.equal(y.status, 200, y.text);
    assert.ok(y.text.includes(Buffer.from(TYPED).toString('base64')), 'yaml has the typed value');

    const env = JSON.parse((await call('GET', `${ENV}/dev`)).text).document;
    env.secrets = Object.fromEntries(Object.keys(stack.secrets).map((k) => [k, `${INLINE}-${k}`]));
    const inline = await call('POST', '/render?format=files', { role: 'viewer', body: { stack, stackName: 'preview', environment: env, name: 'dev' } });
    assert.equal(inline.status, 200, inline.text);
    assertNoSecret(inline.text, Object.values(env.secrets), 'inline');
  });

  test('zip and yaml still carry the values for editors; viewers get 403 for them', async () => {
    const y = await call('POST', '/render?format=yaml', { role: 'editor', body: { stack: STACK, environment: 'prod' } });
    assert.equal(y.status, 200);
    const prod = JSON.parse(readFileSync(path.join(root, 'migrations/seed', STACK, 'prod.json'), 'utf8'));
    const values = Object.values(prod.secrets).filter((v) => typeof v === 'string' && v);
    assert.ok(values.length > 0);
    for (const v of values) assert.ok(y.text.includes(Buffer.from(v).toString('base64')), `yaml carries ${v}`);
    if (has('unzip')) {
      const z = await call('POST', '/render?format=zip', { role: 'editor', body: { stack: STACK, environment: 'prod' } });
      assert.equal(z.status, 200);
      const file = path.join(dir, 'prod.zip');
      writeFileSync(file, z.buf);
      const out = tool('unzip', ['-p', file]).out;
      for (const v of values) assert.ok(out.includes(Buffer.from(v).toString('base64')), `zip carries ${v}`);
    }
    for (const format of ['yaml', 'zip']) {
      // an editor's render just filled the cache: a viewer still gets 403, not the cached bundle
      const v = await call('POST', `/render?format=${format}`, { role: 'viewer', body: { stack: STACK, environment: 'prod' } });
      assert.equal(v.status, 403, `${format}: ${v.text}`);
      const m = await call('GET', `${ENV}/prod/manifests?format=${format}`, { role: 'editor' });
      assert.equal(m.status, 200);
      const mv = await call('GET', `${ENV}/prod/manifests?format=${format}`, { role: 'viewer' });
      assert.equal(mv.status, 403, `manifests ${format}: ${mv.text}`);
    }
  });
});

describe('roles of the history, diff, rollback and import routes', () => {
  const compose = readFileSync(path.join(root, 'tests/data/compose/node-app.yml'), 'utf8');

  test('without a token: 401', async () => {
    for (const [m, p] of [['GET', `${ENV}/dev/revisions`], ['GET', `${ENV}/dev/diff`], ['GET', `/api/v1/stacks/${STACK}/diff?from=dev&to=prod`]]) {
      const r = await call(m, p, { role: null });
      assert.equal(r.status, 401, `${m} ${p}`);
    }
  });

  test('a viewer reads history and diffs and asks for a diff before saving; may not roll back', async () => {
    const rev = await call('GET', `${ENV}/staging/revisions`, { role: 'viewer' });
    assert.equal(rev.status, 200, rev.text);
    const n = JSON.parse(rev.text).items[0].revision;
    assert.equal((await call('GET', `${ENV}/staging/revisions/${n}`, { role: 'viewer' })).status, 200);
    assert.equal((await call('GET', `${ENV}/staging/diff?to=${n}`, { role: 'viewer' })).status, 200);
    assert.equal((await call('GET', `/api/v1/stacks/${STACK}/diff?from=dev&to=prod`, { role: 'viewer' })).status, 200);
    const doc = JSON.parse((await call('GET', `${ENV}/staging`, { role: 'viewer' })).text).document;
    doc.namespace = 'viewer-proposes';
    const d = await call('POST', `${ENV}/staging/diff`, { role: 'viewer', body: doc });
    assert.equal(d.status, 200, d.text);
    assert.match(d.text, /\+.*viewer-proposes/);
    assert.equal((await call('POST', `${ENV}/staging/rollback`, { role: 'viewer', body: { revision: n } })).status, 403);
    assert.equal((await call('PATCH', `${ENV}/staging`, { role: 'viewer', body: { namespace: 'x' }, type: 'application/merge-patch+json' })).status, 403);
    assert.equal(JSON.parse((await call('GET', `${ENV}/staging`)).text).revision, n, 'nothing changed');
    assert.equal((await call('POST', `${ENV}/staging/rollback`, { role: 'editor', body: { revision: n } })).status, 200);
  });

  test('import: only an admin converts or saves (it may create a stack)', async () => {
    const type = 'application/yaml';
    for (const role of ['viewer', 'editor']) {
      assert.equal((await call('POST', '/api/v1/import/compose', { role, body: compose, type })).status, 403, role);
      const r = await call('POST', `/api/v1/import/compose?save=1&stack=by-${role}`, { role, body: compose, type });
      assert.equal(r.status, 403, `${role}: ${r.text}`);
      assert.equal((await call('GET', `/api/v1/stacks/by-${role}`)).status, 404, 'not stored');
    }
    assert.equal((await call('POST', '/api/v1/import/compose', { role: 'admin', body: compose, type })).status, 200);
    const ok = await call('POST', '/api/v1/import/compose?save=1&stack=by-admin', { role: 'admin', body: compose, type });
    assert.equal(ok.status, 201, ok.text);
  });
});
