// Score import against the real binary, on the real Score files of tests/data/score (one
// folder per application, its files sent as one stream): each imports without a validation
// problem (the report's paths name places in the stream), renders objects the strict
// Kubernetes schema accepts, and keeps the workloads' facts (lib/fidelity.mjs against the
// objects a Score implementation makes of the files: images, commands, ports, env names,
// probes, mounts, Services); each lost fact is in the report. Then the mapping of
// resources and placeholders, the API's edges (content types, query errors, what is not
// Score, hostile YAML, nothing stored on failure) and `manifestd import score`.
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { problem, pointer } from './lib/client.mjs';
import { importServer, refusesBadRequests, refusesHostileYaml } from './lib/importer.mjs';
import { tempDir, removeDir } from './lib/server.mjs';
import { modelFor, schemaErrors, unknownFields } from './lib/k8s-strict.mjs';
import { fidelity } from './lib/fidelity.mjs';
import { run } from './lib/bundle.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCORE_DIR = path.join(root, 'tests/data/score');
const APPS = readdirSync(SCORE_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
const IMPORT = '/api/v1/import/score';
const filesOf = (app) => readdirSync(path.join(SCORE_DIR, app)).filter((f) => /\.ya?ml$/.test(f)).sort()
  .map((f) => path.join(SCORE_DIR, app, f));
/* The files as one stream, each a document with its "# Source:" comment. */
const appText = (app) => filesOf(app).map((f) => `---\n# Source: ${path.basename(f)}\n${readFileSync(f, 'utf8')}\n`).join('');
const documents = (text) => parseAllDocuments(text).map((d) => d.toJS());

const { call, post } = importServer(IMPORT, 8 * 1024 * 1024);

/* What a Score implementation (score-k8s) makes of the workloads, as Kubernetes objects
 * with pointers into the stream, for lib/fidelity.mjs: a Deployment per workload (the
 * containers with their image, command, args, variables, service ports on the main
 * container, probes, files mounted by subPath, volumes) and a Service with its ports. */
/* Score's escape: $${ is a literal ${ in what the container gets. */
const unescape = (words) => words?.map((w) => w.replaceAll('$${', '${'));

function scoreObjects(docs) {
  const out = [];
  docs.forEach((d, i) => {
    if (!d) return;
    const name = d.metadata.name;
    const names = Object.keys(d.containers);
    const main = names.includes(name) ? name : names[0];
    const ports = Object.values(d.service?.ports ?? {});
    const volumes = [];
    const containers = names.map((cn) => {
      const c = d.containers[cn];
      const mounts = [];
      const files = Array.isArray(c.files) ? c.files.map((f) => [f.target, f]) : Object.entries(c.files ?? {});
      for (const [target, f] of files) {
        if (f.source) continue; // not read by the importer: reported
        const v = `f${volumes.length}`;
        volumes.push({ name: v, configMap: { name: v } });
        mounts.push({ name: v, mountPath: target, subPath: target.split('/').pop() });
      }
      for (const [target, v] of Object.entries(c.volumes ?? {})) {
        const res = d.resources?.[/^\$\{resources\.(.+)\}$/.exec(v.source)?.[1]];
        const vn = `v${volumes.length}`;
        volumes.push({ name: vn, ...(res?.params?.size ? { persistentVolumeClaim: { claimName: vn } } : { emptyDir: {} }) });
        mounts.push({ name: vn, mountPath: target, ...(v.path ? { subPath: v.path } : {}) });
      }
      const probe = (p) => p && (p.httpGet ? { httpGet: { path: p.httpGet.path, port: p.httpGet.port } } : p.exec ? { exec: p.exec } : undefined);
      return {
        name: cn, image: c.image, command: unescape(c.command), args: unescape(c.args),
        env: Object.keys(c.variables ?? {}).map((k) => ({ name: k, value: '' })),
        ports: cn === main ? ports.map((p) => ({ containerPort: p.targetPort ?? p.port, protocol: p.protocol ?? 'TCP' })) : undefined,
        readinessProbe: cn === main ? probe(c.readinessProbe) : undefined,
        livenessProbe: cn === main ? probe(c.livenessProbe) : undefined,
        volumeMounts: mounts,
      };
    });
    const labels = { 'app.kubernetes.io/name': name };
    out.push({ obj: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
      spec: { template: { metadata: { labels }, spec: { containers, volumes } } } }, where: `/${i}` });
    if (ports.length)
      out.push({ obj: { apiVersion: 'v1', kind: 'Service', metadata: { name },
        spec: { selector: labels, ports: ports.map((p) => ({ port: p.port, targetPort: p.targetPort ?? p.port, protocol: p.protocol ?? 'TCP' })) } }, where: `/${i}` });
  });
  return out;
}

async function assertStrict(objects, what) {
  for (const obj of objects) {
    const Model = await modelFor(obj.apiVersion, obj.kind);
    assert.ok(Model, `${what}: no model for ${obj.apiVersion} ${obj.kind}`);
    assert.deepEqual(schemaErrors(Model, obj), [], `${what}: ${obj.kind}/${obj.metadata.name}`);
    assert.deepEqual(unknownFields(Model, obj), [], `${what}: ${obj.kind}/${obj.metadata.name}`);
  }
}

const renderJson = (r, name) => call('POST', '/render?format=json', {
  body: { stack: r.json.stack, stackName: name, environment: r.json.environment, name: 'dev' } });

/* A difference the report explains: an image whose tag was pinned (reported at the
 * container's image), a file read from a source path (reported at the file). */
function explained(d, docs, report) {
  const m = /^workload (\S+) (?:container|init container) (\S+) (image|mount .*)$/.exec(d.key);
  if (!m) return false;
  const i = docs.findIndex((x) => x?.metadata?.name === m[1]);
  return report.some((e) => e.path.startsWith(`/${i}/containers/${m[2]}/${m[3] === 'image' ? 'image' : 'files'}`));
}

const figures = {};

describe('real Score files', () => {
  for (const app of APPS) {
    test(`${app}: imported, valid, rendered strictly, the same workloads`, async () => {
      const text = appText(app);
      const docs = documents(text);
      const r = await post(text, `?stack=${app}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.errors, undefined, JSON.stringify(r.json.errors));
      for (const e of r.json.report) {
        assert.notEqual(pointer(docs, e.path), undefined, `${e.path} is not in ${app}`);
        assert.match(e.object, /^Workload\/.+$/);
        assert.ok(filesOf(app).map((f) => path.basename(f)).includes(e.source), JSON.stringify(e));
        assert.ok(e.detail.length > 10);
      }
      for (const [k, v] of Object.entries(r.json.environment.secrets ?? {})) {
        assert.equal(r.json.stack.secrets[k], '');
        assert.ok(v === 'change-me' || !JSON.stringify(r.json.stack).includes(v), `secret ${k} leaked`);
      }
      const rendered = await renderJson(r, app);
      assert.equal(rendered.status, 200, rendered.text);
      await assertStrict(rendered.json.items, app);
      const f = fidelity(scoreObjects(docs), rendered.json.items);
      figures[app] = `${f.matched}/${f.total}`;
      const lost = f.differences.filter((d) => d.want !== undefined && !explained(d, docs, r.json.report));
      assert.deepEqual(lost, [], `${app}: facts lost without a report entry`);
    });
  }

  after(() => { console.log(`# fidelity (facts kept / facts): ${JSON.stringify(figures)}`); });
});

describe('the mapping', () => {
  test('sample-score-app: postgres as a component with outputs, dns + route as an Ingress rule', async () => {
    const r = await post(appText('sample-score-app'));
    const s = r.json.stack;
    const svc = s.services['hello-world'];
    assert.deepEqual(s.components.db, { type: 'postgres' });
    assert.deepEqual(svc.uses, { db: {} });
    assert.deepEqual(svc.env.DB_PASSWORD, { component: 'db', output: 'password' });
    assert.deepEqual(svc.env.DB_DATABASE, { component: 'db', output: 'database' });
    assert.deepEqual(svc.ports, { www: { port: 8080, targetPort: 3000 } });
    assert.deepEqual(s.ingress.rules['hello-world'], { host: '', path: '/', service: 'hello-world', port: 'www' });
    assert.ok(r.json.report.some((e) => e.path === '/0/containers/hello-world/image' && /built by Score/.test(e.detail)));
    assert.equal(r.json.environment.image.tag, 'change-me');
  });

  test('onlineboutique: service resources are the other workloads, redis outputs in text, probe headers', async () => {
    const r = await post(appText('onlineboutique'));
    const s = r.json.stack;
    assert.equal(Object.keys(s.services).length, 11);
    assert.deepEqual(s.services.frontend.env.AD_SERVICE_ADDR, { value: 'ad:9555' });
    assert.deepEqual(s.services.cart.env.REDIS_ADDR, {
      value: '${components.redis-cart.host}:${components.redis-cart.port},user=default,password=${components.redis-cart.password}' });
    assert.deepEqual(s.services.frontend.probes.liveness.httpGet, { path: '/_healthz', port: 8080, headers: { Cookie: 'shop_session-id=x-liveness-probe' } });
    assert.deepEqual(s.services.cart.resources, { limits: { memory: '90Mi', cpu: '220m' }, requests: { memory: '70Mi', cpu: '200m' } });
    assert.equal(s.components['redis-cart'].type, 'redis');
    assert.equal(s.image.registry, 'us-central1-docker.pkg.dev');
    assert.equal(r.json.environment.image.tag, 'v0.10.5');
    assert.equal(s.services.loadgenerator.ports, undefined, 'a workload without service ports is a worker');
  });

  test('one component per resource id, uses with the topic, unknown types and placeholders reported', async () => {
    const shared = await post(appText('resource-provisioning'));
    assert.deepEqual(Object.keys(shared.json.stack.components).sort(), ['cache-c', 'main-cache']);
    assert.deepEqual(Object.keys(shared.json.stack.services['workload-two'].uses).sort(), ['cache-c', 'main-cache']);
    const kafka = await post(appText('kafka-topic'));
    assert.deepEqual(kafka.json.stack.services['hello-world'].uses.bus, { partitions: 3, topics: ['bus'] });
    assert.deepEqual(kafka.json.stack.services['hello-world'].env._KAFKA_TOPIC, { value: 'bus' });
    const aks = await post(appText('aks-store-demo'));
    assert.equal(aks.json.stack.components['orders-queue'].type, 'rabbitmq');
    assert.deepEqual(aks.json.stack.services['makeline-service'].env.ORDER_DB_URI, { component: 'orders-database', output: 'url' });
    assert.ok(aks.json.report.some((e) => e.path === '/0/resources/llm-model' && /llm-model/.test(e.detail)));
    assert.ok(aks.json.report.some((e) => e.path === '/0/containers/ai-service/variables/LOCAL_LLM_ENDPOINT'));
    const hosts = Object.values(aks.json.stack.ingress.rules).map((x) => x.host).sort();
    assert.deepEqual(hosts, ['', 'store-front.localhost']);
  });

  test('files, volumes, exec probes, UDP ports, regex routes, params and class', async () => {
    const files = await post(appText('files'));
    const vols = files.json.stack.services['hello-world'].volumes;
    assert.deepEqual(vols['file-fileb-txt'], { mountPath: '/fileB.txt', subPath: 'fileB.txt', files: { 'fileB.txt': { content: 'I am hello-world\n' } } });
    assert.equal(vols['file-filec-bin'].files['fileC.bin'].content, 'hello world');
    const v = await post(appText('spec-volumes'));
    assert.deepEqual(v.json.stack.services['my-workload'].volumes.data, { mountPath: '/data', emptyDir: {} });
    const sp = await post(appText('service-port'));
    assert.deepEqual(sp.json.stack.services['workload-a'].probes.readiness.exec.command, ['/usr/bin/curl', '-f', '-m', '5', 'http://localhost']);
    assert.deepEqual(sp.json.stack.services['workload-b'].env.DEPENDENCY_URL, { value: 'http://workload-a:8080' });
    const udp = await post(appText('spec-service'));
    assert.deepEqual(udp.json.stack.services['my-workload'].ports.stream, { port: 19245, protocol: 'UDP' });
    const dns = await post(appText('dns-and-route'));
    assert.equal(dns.json.stack.ingress.rules['hello-world'].pathType, 'ImplementationSpecific');
    const own = `apiVersion: score.dev/v1b1
metadata: {name: api, annotations: {team: shop}}
containers:
  api:
    image: ghcr.io/acme/api:1.2.3
    variables: {API_TOKEN: s3cr3t-value, NAME: "\${metadata.name}", LITERAL: "$\${HOME}", CFG: "\${resources.env.LOG_LEVEL}"}
    volumes: {/var/data: {source: "\${resources.data}", path: sub, readOnly: true}}
  proxy:
    image: envoyproxy/envoy:v1.31.0
service: {ports: {HTTP_Main: {port: 80, targetPort: 8080}}}
resources:
  db: {type: postgres, id: orders.db, class: large, params: {maxConnections: 50, color: blue}}
  data: {type: volume, params: {size: 2Gi}}
  env: {type: environment}
  route: {type: route, params: {host: api.example.com, path: /api, port: 80}}
`;
    const r = await post(own);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.errors, undefined, JSON.stringify(r.json.errors));
    const s = r.json.stack;
    const api = s.services.api;
    assert.deepEqual(s.components['orders-db'], { type: 'postgres', maxConnections: 50 });
    assert.deepEqual(api.uses['orders-db'], { database: 'orders_db', user: 'orders_db' });
    assert.deepEqual(api.env.API_TOKEN, { secret: 'api-token' });
    assert.equal(r.json.environment.secrets['api-token'], 's3cr3t-value');
    assert.deepEqual(api.env.NAME, { value: 'api' });
    assert.deepEqual(api.env.LITERAL, { value: '${HOME}' });
    assert.deepEqual(api.env.CFG, { config: 'LOG_LEVEL' });
    assert.deepEqual(api.volumes.data, { mountPath: '/var/data', subPath: 'sub', readOnly: true, persistent: { size: '2Gi' } });
    assert.equal(api.sidecars.proxy.image, 'envoyproxy/envoy:v1.31.0');
    assert.deepEqual(api.ports['port-80'], { port: 80, targetPort: 8080 });
    assert.deepEqual(s.ingress.rules.api, { host: 'api.example.com', path: '/api', service: 'api', port: 'port-80' });
    assert.deepEqual(api.podAnnotations, { team: 'shop' });
    for (const p of ['/0/resources/db/class', '/0/resources/db/params/color', '/0/service/ports/HTTP_Main'])
      assert.ok(r.json.report.some((e) => e.path === p), `${p} reported: ${JSON.stringify(r.json.report)}`);
  });
});

describe('the API', () => {
  const small = 'apiVersion: score.dev/v1b1\nmetadata: {name: web}\ncontainers:\n  web: {image: "nginx:1.27"}\n';

  test('content types, methods and query errors', async () => {
    await refusesBadRequests({ call, post }, IMPORT, small);
  });

  test('what is not Score: a clear message naming the document, its file and the field', async () => {
    const cases = [
      ['services:\n  web:\n    image: nginx:1.27\n', /^\/0\/apiVersion: .*docker-compose/],
      ['apiVersion: apps/v1\nkind: Deployment\n', /^\/0\/apiVersion: must be score.dev\/v1b1, not 'apps\/v1'/],
      ['- a\n- b\n', /^\/0: is not a Score workload/],
      [`${small}---\n# Source: b.yaml\napiVersion: score.dev/v1b1\nmetadata: {}\ncontainers: {}\n`, /^\/1\/metadata\/name \(b.yaml\): is required/],
      [`${small}---\n${small}`, /^\/1\/metadata\/name: 'web' is the name of another workload/],
      ['apiVersion: score.dev/v1b1\nmetadata: {name: x}\ncontainers: {}\n', /^\/0\/containers: must be a mapping/],
      ['apiVersion: score.dev/v1b1\nmetadata: {name: x}\ncontainers: {a: {}}\n', /^\/0\/containers: the container 'a' has no image/],
      ['apiVersion: score.dev/v1b1\nmetadata: {name: 9x}\ncontainers: {a: {image: x}}\n', /^\/0\/metadata\/name: '9x' cannot be a service name/],
      ['---\n---\n', /no Score workload/],
    ];
    for (const [text, re] of cases) {
      const r = await post(text);
      problem(assert, r, 422);
      assert.match(r.json.detail, re, text);
    }
    const syntax = await post('apiVersion: [\n');
    problem(assert, syntax, 422);
    assert.match(syntax.json.detail, /line \d+, column \d+/);
  });

  test('hostile YAML: an alias bomb, deep nesting, binary, placeholders', async () => {
    await refusesHostileYaml(post, 'apiVersion');
    const odd = `apiVersion: score.dev/v1b1\nmetadata: {name: w}\ncontainers:\n  w:\n    image: "x:1"\n    variables: {A: "\${", B: "\${resources.}", C: "\${resources.nope.host}\${metadata.annotations.x}", D: "\${components.evil.url}"}\n    files: {"/../x": {content: a}, "relative": {content: b}, "/ok": {content: "\${resources.db.password}"}}\nresources: {db: {type: redis}, r: {type: route, params: {port: 99999}}}\n`;
    const r = await post(odd);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.report.length >= 5, JSON.stringify(r.json.report));
  });

  test('saved as a stack and environment; 409 the second time; a result that does not validate is not stored', async () => {
    const r = await post(appText('sample-score-app'), '?save=1&stack=hello&environment=test');
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get('location'), '/api/v1/stacks/hello');
    const m = await call('GET', '/api/v1/stacks/hello/environments/test/manifests?format=json');
    assert.equal(m.status, 200, m.text);
    assert.ok(m.json.items.some((o) => o.kind === 'Ingress'));
    problem(assert, await post(appText('sample-score-app'), '?save=1&stack=hello'), 409);
    // an image tag Kubernetes would not pull (it starts with '-'): mapped as written, refused by validation
    const bad = small.replace('web: {image: "nginx:1.27"}', 'web: {image: "nginx:-bad"}');
    const dry = await post(bad);
    assert.equal(dry.status, 200);
    assert.ok(dry.json.errors?.some((e) => e.pointer.startsWith('/services/web/image') || e.pointer === '/image/tag'), JSON.stringify(dry.json));
    problem(assert, await post(bad, '?save=1&stack=broken'), 422);
    assert.equal((await call('GET', '/api/v1/stacks/broken')).status, 404);
  });
});

describe('manifestd import score', () => {
  test('files to JSON or to a folder that render reads; errors by exit status', (t) => {
    const out = tempDir();
    t.after(() => removeDir(out));
    const files = filesOf('aks-store-demo');
    const r = run(['import', 'score', ...files]);
    assert.equal(r.status, 0, r.stderr.toString());
    const json = JSON.parse(r.stdout.toString());
    assert.equal(Object.keys(json.stack.services).length, 6);
    for (const e of json.report) assert.ok(files.includes(e.source), JSON.stringify(e));
    const w = run(['import', 'score', '--stack', 'boutique', '--out-dir', out, ...filesOf('onlineboutique')]);
    assert.equal(w.status, 0, w.stderr.toString());
    assert.match(w.stderr.toString(), /^\/\d+\/\S*: /m);
    assert.equal(statSync(path.join(out, 'dev.json')).mode & 0o777, 0o600);
    const bundle = run(['render', '--stack', path.join(out, 'boutique.json'), '--env', path.join(out, 'dev.json'), '--format', 'yaml']);
    assert.equal(bundle.status, 0, bundle.stderr.toString());
    const kinds = parseAllDocuments(bundle.stdout.toString()).map((d) => d.toJS()?.kind);
    assert.ok(kinds.filter((k) => k === 'Deployment').length >= 11, kinds.join(' '));
    writeFileSync(path.join(out, 'compose.yml'), 'services:\n  web:\n    image: nginx:1.27\n');
    const wrong = run(['import', 'score', path.join(out, 'compose.yml')]);
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr.toString(), /compose\.yml\): must be score.dev\/v1b1/);
    assert.equal(run(['import', 'score']).status, 2);
    assert.equal(run(['import', 'score', path.join(out, 'nope.yaml')]).status, 1);
  });
});
