// docker-compose import of real applications (tests/data/compose-apps, see its README):
// each compose file imports, saves (validated with the stored catalog), renders into
// objects kubernetes-models accepts, and the render is measured against the compose file
// itself: per service its image, command/entrypoint, ports and Service, env names,
// healthcheck -> probe, volumes -> storage or files, the published entry point -> the
// Ingress; each datastore a component of the right type and version whose workload runs
// with the uid, fsGroup, data volume and probe of its catalog type. Fidelity >= 95% and
// every miss is in the report.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { start, tempDir, removeDir } from './lib/server.mjs';
import { call as rawCall } from './lib/client.mjs';
import { modelFor, schemaErrors, unknownFields } from './lib/k8s-strict.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const APPS = path.join(root, 'tests/data/compose-apps');
const apps = readdirSync(APPS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
// the datastores each compose file has, by compose service name -> [type, image tag run]
const STORES = {
  'gitea-postgres': { db: ['postgres', null] },
  mattermost: { postgres: ['postgres', null] },
  'n8n-postgres-worker': { postgres: ['postgres', '16'], redis: ['redis', '7'] },
  'nextcloud-redis-mariadb': { redis: ['redis', null], db: ['mariadb', '10.5'] },
  'nginx-flask-mongo': { mongo: ['mongodb', null] },
  'prometheus-grafana': {},
  'react-express-mongodb': { mongo: ['mongodb', null] },
  'sock-shop': { 'carts-db': ['mongodb', null], 'orders-db': ['mongodb', null], rabbitmq: ['rabbitmq', null] },
  'voting-app': { redis: ['redis', null], db: ['postgres', '15'] },
  'wordpress-mysql': { db: ['mariadb', '10.6.4-focal'] },
  zulip: { memcached: ['memcached', null], rabbitmq: ['rabbitmq', '4.2-management'], redis: ['redis', null] },
};

let dir;
let server;
const call = (...a) => rawCall(server, ...a);

before(async () => {
  dir = tempDir();
  server = await start({ db: path.join(dir, 'data/manifestd.db') });
});

after(async () => {
  if (server) {
    const { code } = await server.stop();
    assert.equal(code, 0, server.stderr());
  }
  removeDir(dir);
});

const composeFile = (app) => readdirSync(path.join(APPS, app)).find((f) => /\.ya?ml$/.test(f));
const list = (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const envNames = (env) => (Array.isArray(env) ? env.map((e) => String(e).split('=')[0]) : Object.keys(env ?? {}));
const targetPort = (p) => {
  const t = typeof p === 'object' ? String(p.target) : String(p).split('/')[0].split(':').pop();
  return /^\d+$/.test(t) ? Number(t) : null;
};
const podOf = (o) => (o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.spec : o.spec.template.spec);
const isWorkload = (o) => ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'].includes(o.kind);
const dns = (n) => n.toLowerCase().replace(/[_.]/g, '-');

/* The checks of one compose service against the rendered objects: [aspect, ok]. */
function serviceChecks(name, c, objs, ingress) {
  const w = objs.find((o) => isWorkload(o) && o.metadata.labels?.['app.kubernetes.io/name'] === name);
  if (!w) return [['workload', false]];
  const ctr = podOf(w).containers.find((x) => x.name === name) ?? podOf(w).containers[0];
  const checks = [];
  if (c.image) {
    // as compose reads it with no variable set: ${VAR:-default} is the default; what
    // follows a variable without one is unknown, so only the text before it is compared
    const image = c.image.replace(/\$\{\w+:?-([^}]*)\}/g, '$1').replace(/^docker\.io\//, '');
    const known = image.split('$')[0];
    const [repo, tag] = image.split(/:(?=[^/]*$)/);
    checks.push(['image', known !== image ? ctr.image.replace(/^docker\.io\//, '').startsWith(known)
      : ctr.image.includes(repo) && (!tag || tag === 'latest' || ctr.image.endsWith(`:${tag}`))]);
  } // built from source only: no image to compare (the placeholder is a reported guess)
  const words = (v) => (Array.isArray(v) ? v : v.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g).map((x) => x.replace(/^["']|["']$/g, '')));
  if (c.entrypoint) checks.push(['entrypoint', JSON.stringify(ctr.command) === JSON.stringify(words(c.entrypoint))]);
  if (c.command) checks.push(['command', JSON.stringify(ctr.args) === JSON.stringify(words(c.command))]);
  const ports = [...list(c.ports), ...list(c.expose)].map(targetPort).filter((p) => p);
  const svc = objs.find((o) => o.kind === 'Service' && o.metadata.name === name);
  for (const p of new Set(ports)) {
    checks.push([`port ${p}`, (ctr.ports ?? []).some((x) => x.containerPort === p) &&
      (svc?.spec.ports ?? []).some((x) => x.port === p)]);
  }
  if (!ports.length) checks.push(['worker', !svc]);
  const have = new Set((ctr.env ?? []).map((e) => e.name));
  for (const v of envNames(c.environment)) checks.push([`env ${v}`, have.has(v)]);
  if (c.healthcheck && !c.healthcheck.disable) {
    const probe = ctr.readinessProbe;
    const test = list(c.healthcheck.test).join(' ');
    const http = /https?:\/\/(localhost|127\.0\.0\.1)/.test(test);
    checks.push(['healthcheck', !!probe && (http ? !!probe.httpGet : !!probe.exec)]);
  }
  // storage: named volumes; files: bind-mounted files (a host directory or an anonymous
  // volume has no counterpart in a pod: reported, not counted)
  for (const v of list(c.volumes)) {
    const s = typeof v === 'string' ? v : `${v.source ?? ''}:${v.target}`;
    const [source, target] = s.split(':');
    const named = target && !/^[./~]/.test(source);
    const file = target && /^[./~]/.test(source) && /\.[a-z0-9]+$/i.test(source.split('/').pop()) && !source.endsWith('.sock');
    if (named || file) checks.push([`volume ${target}`, (ctr.volumeMounts ?? []).some((m) => m.mountPath === target)]);
  }
  if (list(c.ports).some((p) => String(p).split(':').length > 1 && !/^127\.0\.0\.1:/.test(String(p))) && ingress) {
    const backends = ingress.spec.rules.flatMap((r) => r.http.paths.map((p) => p.backend.service.name));
    checks.push(['entry point', backends.includes(name)]);
  }
  return checks;
}

/* A datastore: its component's workload runs the type's uid, fsGroup, data volume and
 * probe, and the image of the right version. */
function storeChecks(name, c, [type, tag], objs, stack) {
  const checks = [['component type', stack.components?.[name]?.type === type]];
  const w = objs.find((o) => isWorkload(o) && o.metadata.name === name);
  if (!w) return [...checks, ['workload', false]];
  const def = JSON.parse(readFileSync(path.join(root, 'server/catalog', `${type}.json`), 'utf8'));
  const pod = podOf(w);
  const ctr = pod.containers[0];
  const sc = def.workload.securityContext;
  checks.push(['uid', pod.securityContext.runAsUser === sc.runAsUser && pod.securityContext.fsGroup === sc.fsGroup]);
  const data = def.workload.volumes?.data;
  if (data) {
    checks.push(['data volume', ctr.volumeMounts.some((m) => m.mountPath === data.mountPath) &&
      (w.spec.volumeClaimTemplates ?? []).length > 0]);
  }
  const kind = Object.keys(def.workload.probes.readiness).find((k) => ['exec', 'httpGet', 'tcpSocket', 'grpc'].includes(k));
  checks.push(['probe', !!ctr.readinessProbe?.[kind]]);
  const ref = c.image.split(':')[0];
  checks.push(['image', ctr.image.startsWith(`${ref}:`) || ctr.image.startsWith(`docker.io/${ref}:`) ||
    ctr.image.includes(`/${ref}:`)]);
  if (tag) checks.push(['version', ctr.image.endsWith(`:${tag}`)]);
  return checks;
}

describe('real compose files', () => {
  for (const app of apps) {
    test(`${app}: imports, validates, renders at >= 95% fidelity`, async () => {
      const text = readFileSync(path.join(APPS, app, composeFile(app)), 'utf8');
      const doc = parse(text, { merge: true });
      const r = await call('POST', `/api/v1/import/compose?save=1&stack=${app}&environment=dev`,
        { body: text, type: 'application/yaml' });
      assert.equal(r.status, 201, r.text);
      for (const item of r.json.report) assert.ok(['guess', 'unmapped'].includes(item.kind), JSON.stringify(item));
      const m = await call('GET', `/api/v1/stacks/${app}/environments/dev/manifests?format=json`);
      assert.equal(m.status, 200, m.text);
      const objs = m.json.items;
      for (const obj of objs) {
        const Model = await modelFor(obj.apiVersion, obj.kind);
        assert.ok(Model, `no model for ${obj.apiVersion} ${obj.kind}`);
        assert.deepEqual(schemaErrors(Model, obj), [], `${obj.kind}/${obj.metadata.name}`);
        assert.deepEqual(unknownFields(Model, obj), [], `${obj.kind}/${obj.metadata.name}`);
      }
      const ingress = objs.find((o) => o.kind === 'Ingress');
      const stores = STORES[app];
      assert.ok(stores, `${app} is not in STORES`);
      let total = 0;
      const misses = [];
      for (const [cname, c] of Object.entries(doc.services)) {
        const name = dns(cname);
        const store = stores[cname];
        const profile = c.profiles !== undefined; // disabled: not rendered
        if (profile) continue;
        const checks = store ? storeChecks(name, c, store, objs, r.json.stack) : serviceChecks(name, c, objs, ingress);
        total += checks.length;
        for (const [aspect, ok] of checks) if (!ok) misses.push({ cname, aspect });
      }
      for (const [cname, c] of Object.entries(doc.services)) {
        if (!c.image) assert.ok(r.json.report.some((i) => i.path === `/services/${cname}/build` && i.kind === 'guess'), cname);
      }
      for (const { cname, aspect } of misses) {
        assert.ok(!stores[cname], `${app}: the datastore ${cname} misses its ${aspect}`);
        assert.ok(r.json.report.some((i) => i.path === `/services/${cname}` || i.path.startsWith(`/services/${cname}/`)),
          `${app}: the miss ${cname} ${aspect} is not in the report`);
      }
      const fidelity = 1 - misses.length / total;
      test.diagnostic?.(`${app}: ${(fidelity * 100).toFixed(1)}% of ${total}`);
      console.log(`# ${app}: fidelity ${(fidelity * 100).toFixed(1)}% of ${total} checks; misses: ${misses.map((x) => `${x.cname} ${x.aspect}`).join(', ') || 'none'}`);
      assert.ok(fidelity >= 0.95, `${app}: ${(fidelity * 100).toFixed(1)}% (${JSON.stringify(misses)})`);
    });
  }
});
