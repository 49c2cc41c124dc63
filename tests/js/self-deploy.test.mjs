// The built-in stack `manifestd` (migrations/seed/manifestd/) deploys manifestd itself:
// two replicas with a PodDisruptionBudget behind a Service and an Ingress, on the postgres
// component (prod) or an external database named by a URL in the Secret (external-db),
// the secret key from the environment's Secret. The seeded secret key is a placeholder the
// binary refuses (it cannot run on a key everyone knows); the rendered Deployment's own
// command line and environment, given a real key, start the real binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { binary, dbTarget, pgAdmin, removeDir, tempDir } from './lib/server.mjs';

const render = (env) => JSON.parse(execFileSync(binary, ['render', '--stack', 'manifestd', '--env', env, '--format', 'json']).toString()).items;
const find = (items, kind, name) => items.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const envOf = (c) => Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));
const SECRET = 'manifestd-secrets';

test('prod: two replicas, a PDB, probes on /readyz and /healthz, the secret key and the database password from the Secret', () => {
  const items = render('prod');
  const dep = find(items, 'Deployment', 'manifestd');
  assert.equal(dep.spec.replicas, 2);
  assert.ok(find(items, 'PodDisruptionBudget', 'manifestd'));
  const pod = dep.spec.template.spec;
  const c = pod.containers.find((x) => x.name === 'manifestd');
  assert.equal(c.image, 'ghcr.io/manifestd/manifestd:0.1.0');
  assert.deepEqual(c.args, ['serve']);
  assert.equal(c.readinessProbe.httpGet.path, '/readyz');
  assert.equal(c.livenessProbe.httpGet.path, '/healthz');
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.equal(pod.securityContext.runAsUser, 10001);
  const env = envOf(c);
  assert.equal(env.MANIFESTD_LISTEN, '0.0.0.0:8080');
  assert.equal(env.MANIFESTD_LOG_FORMAT, 'json');
  assert.deepEqual(env.MANIFESTD_SECRET_KEY, { secretKeyRef: { name: SECRET, key: 'secret-key' } });
  assert.deepEqual(env.PGPASSWORD, { secretKeyRef: { name: SECRET, key: 'db-password' } });
  assert.equal(env.MANIFESTD_DB, 'host=db port=5432 dbname=manifestd user=manifestd connect_timeout=5');
  const secret = find(items, 'Secret', SECRET);
  assert.deepEqual(Object.keys(secret.data).sort(), ['db-password', 'db-root-password', 'secret-key']);
  // PostgreSQL as a component, its consumer provisioned, waited for
  const db = find(items, 'StatefulSet', 'db');
  assert.match(db.spec.template.spec.containers[0].image, /^postgres:16/);
  assert.equal(db.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '20Gi');
  assert.ok(items.some((o) => o.kind === 'Job' && /^db-provision-[0-9a-f]{8}$/.test(o.metadata.name)));
  assert.ok(pod.initContainers.some((x) => x.name === 'wait-for-db'));
  // reached through the Ingress over TLS, the database only from its consumers
  const ing = find(items, 'Ingress');
  assert.equal(ing.spec.rules[0].host, 'manifestd.example.com');
  assert.equal(ing.spec.rules[0].http.paths[0].backend.service.name, 'manifestd');
  assert.deepEqual(ing.spec.tls[0].hosts, ['manifestd.example.com']);
  assert.ok(items.filter((o) => o.kind === 'NetworkPolicy').length > 2);
});

test('external-db: no database in the cluster; the connection string from the Secret', () => {
  const items = render('external-db');
  assert.equal(find(items, 'StatefulSet'), undefined);
  assert.equal(items.filter((o) => o.kind === 'Job').length, 0);
  const c = find(items, 'Deployment', 'manifestd').spec.template.spec;
  const env = envOf(c.containers.find((x) => x.name === 'manifestd'));
  assert.deepEqual(env.MANIFESTD_DB, { secretKeyRef: { name: SECRET, key: 'database-url' } });
  assert.equal(env.PGPASSWORD, undefined);
  assert.deepEqual(c.initContainers ?? [], []);
  assert.deepEqual(Object.keys(find(items, 'Secret', SECRET).data).sort(), ['database-url', 'secret-key']);
});

test('the seeded secret key is a placeholder the binary refuses to run with', () => {
  const items = render('prod');
  const key = Buffer.from(find(items, 'Secret', SECRET).data['secret-key'], 'base64').toString();
  assert.match(key, /change-me/);
  const dir = tempDir();
  try {
    execFileSync(binary, ['serve', '--listen', '127.0.0.1:0', '--db', path.join(dir, 'm.db')], {
      env: { ...process.env, MANIFESTD_SECRET_KEY: key }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20000,
    });
    assert.fail('manifestd started with the placeholder key');
  } catch (e) {
    assert.equal(e.status, 1);
    assert.match(e.stderr.toString(), /MANIFESTD_SECRET_KEY is not a key/);
  } finally {
    removeDir(dir);
  }
});

// The container as Kubernetes would start it, on this machine: its args, its literal env,
// the Secret's keys given values, the database and address swapped for local ones.
async function startAsDeployed(container, { db, secrets }) {
  const env = { PATH: process.env.PATH, ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? 'detect_leaks=1' };
  for (const e of container.env) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef) env[e.name] = secrets[e.valueFrom.secretKeyRef.key];
  }
  env.MANIFESTD_LISTEN = '127.0.0.1:0';
  env.MANIFESTD_DB = db;
  const proc = spawn(binary, container.args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`did not start:\n${err}`)), 20000);
    proc.stderr.on('data', (chunk) => {
      err += chunk;
      const m = /"listening on http:\/\/127\.0\.0\.1:(\d+)"|listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
      if (m) { clearTimeout(timer); resolve(Number(m[1] ?? m[2])); }
    });
    exited.then((code) => reject(new Error(`exited with ${code}:\n${err}`)));
  });
  return { url: `http://127.0.0.1:${port}`, stderr: () => err, stop: () => { proc.kill('SIGTERM'); return exited; } };
}

test("the prod Deployment's command line and environment start manifestd, ready and logging JSON", async () => {
  const dir = tempDir();
  const c = find(render('prod'), 'Deployment', 'manifestd').spec.template.spec.containers.find((x) => x.name === 'manifestd');
  const dbPath = path.join(dir, 'm.db');
  // PostgreSQL when the suite has a cluster (its role has no password: PGPASSWORD stays empty)
  const db = pgAdmin ? dbTarget(dbPath) : dbPath;
  const server = await startAsDeployed(c, { db, secrets: { 'secret-key': randomBytes(32).toString('base64'), 'db-password': '' } });
  try {
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    // the built-in stack is there to render itself
    const r = await fetch(`${server.url}/api/v1/stacks/manifestd/environments/prod/manifests?format=json`);
    assert.equal(r.status, 401); // authentication stays on
    await new Promise((resolve) => setTimeout(resolve, 200));
    const lines = server.stderr().split('\n').filter((l) => l.startsWith('{'));
    assert.ok(lines.length > 0, server.stderr());
    for (const l of lines) JSON.parse(l);
  } finally {
    assert.equal(await server.stop(), 0, server.stderr());
    removeDir(dir);
  }
});
