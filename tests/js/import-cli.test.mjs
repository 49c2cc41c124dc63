// `manifestd import` offline: the JSON result on standard output; with --out-dir the stack
// (NAME.json), the environment (ENV.json, 0600: it holds the secret values) and the report,
// which `manifestd render` reads back into a bundle; report entries name their file;
// usage errors, unreadable files and input that is not Kubernetes YAML, by exit status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { root, run, tempDir } from './lib/bundle.mjs';

const app = (name) => {
  const dir = path.join(root, 'tests/data/apps', name);
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => path.join(dir, f));
};

test('the result as JSON on standard output, report entries naming their file', () => {
  const files = app('voting-app');
  const r = run(['import', 'manifests', ...files]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.toString());
  assert.deepEqual(Object.keys(out.stack.services).sort(), ['result', 'vote', 'worker']);
  assert.deepEqual(Object.keys(out.stack.components).sort(), ['db', 'redis']);
  assert.equal(out.environment.secrets['db-root-password'], 'postgres');
  const db = out.report.find((e) => e.object === 'Deployment/db');
  assert.equal(db.source, files[0]);
  for (const e of out.report) assert.ok(files.includes(e.source), JSON.stringify(e));
  // --keep-datastores: today's workloads
  const kept = JSON.parse(run(['import', 'manifests', '--keep-datastores', ...files]).stdout.toString());
  assert.deepEqual(Object.keys(kept.stack.services).sort(), ['db', 'redis', 'result', 'vote', 'worker']);
  assert.equal(kept.stack.components, undefined);
  assert.equal(kept.environment.secrets['postgres-password'], 'postgres');
});

test('--out-dir writes NAME.json, ENV.json (0600) and report.json, which render reads', (t) => {
  const dir = tempDir(t);
  const r = run(['import', 'manifests', '--stack', 'boutique', '--env', 'test', '--out-dir', dir, ...app('online-boutique')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^\/\d+\/\S*: /m, 'the report is printed');
  assert.equal(statSync(path.join(dir, 'test.json')).mode & 0o777, 0o600);
  const stack = JSON.parse(readFileSync(path.join(dir, 'boutique.json'), 'utf8'));
  assert.ok(stack.services.frontend);
  const report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8'));
  assert.ok(report.length > 0);
  const bundle = run(['render', '--stack', path.join(dir, 'boutique.json'), '--env', path.join(dir, 'test.json'), '--format', 'yaml']);
  assert.equal(bundle.status, 0, bundle.stderr);
  const kinds = parseAllDocuments(bundle.stdout.toString()).map((d) => d.toJS()?.kind);
  assert.ok(kinds.filter((k) => k === 'Deployment').length === 11, kinds.join(' ')); // redis-cart: a component
  assert.ok(kinds.filter((k) => k === 'StatefulSet').length === 1, kinds.join(' '));
  assert.ok(kinds.includes('Service'));
});

test('standard input, usage errors, unreadable and wrong input', (t) => {
  const dir = tempDir(t);
  const one = app('cassandra');
  const stdin = run(['import', 'manifests', '-'], { input: one.map((f) => `---\n${readFileSync(f, 'utf8')}`).join('') });
  assert.equal(stdin.status, 0, stdin.stderr);
  assert.ok(JSON.parse(stdin.stdout.toString()).stack.services.cassandra);
  assert.equal(run(['import']).status, 2);
  assert.equal(run(['import', 'helm', 'x.yaml']).status, 2);
  assert.equal(run(['import', 'manifests']).status, 2);
  assert.equal(run(['import', 'manifests', '--stack', 'Bad_Name', one[0]]).status, 2);
  assert.equal(run(['import', 'compose', 'a.yml', 'b.yml']).status, 2);
  assert.equal(run(['import', '--help']).status, 0);
  const missing = run(['import', 'manifests', path.join(dir, 'nope.yaml')]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /cannot read/);
  writeFileSync(path.join(dir, 'compose.yml'), 'services:\n  web:\n    image: nginx:1.27\n');
  const compose = run(['import', 'manifests', path.join(dir, 'compose.yml')]);
  assert.equal(compose.status, 1);
  assert.match(compose.stderr, /docker-compose/);
  // the compose importer, the same way
  const c = run(['import', 'compose', path.join(root, 'tests/data/compose/wordpress.yml')]);
  assert.equal(c.status, 0, c.stderr);
  assert.ok(JSON.parse(c.stdout.toString()).stack.services.wordpress);
  // a result that does not validate: its problems, exit 2, the files written all the same
  writeFileSync(path.join(dir, 'bad.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n'
    + '  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n'
    + '      containers: [{name: web, image: "nginx:-bad"}]\n');
  const bad = run(['import', 'manifests', '--out-dir', path.join(dir, 'out'), path.join(dir, 'bad.yaml')]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^\/services\/web\/image\/tag: /m);
  assert.ok(statSync(path.join(dir, 'out', 'imported.json')).isFile());
});
