// The round-trip comparison (lib/fidelity.mjs) on hand-made objects: the same objects are
// 100% alike; each kind of fact, changed, is one difference at its place in the input;
// what only the render has is a difference at its workload; renamed workloads (named like
// their Service) and reordered containers are matched; listedIn() pairs differences with
// report entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, facts, fidelity, listedIn, objectsOf } from './lib/fidelity.mjs';

const deploy = () => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
  spec: {
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        initContainers: [{ name: 'init', image: 'busybox:1.36', command: ['sh', '-c', 'true'] }],
        containers: [
          { name: 'proxy', image: 'envoy:1.30', ports: [{ containerPort: 9901 }] },
          {
            name: 'web', image: 'ghcr.io/acme/web:1.0', args: ['--port', '8080'],
            ports: [{ name: 'http', containerPort: 8080 }, { containerPort: 53, protocol: 'UDP' }],
            env: [{ name: 'A', value: '1' }], envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'C_' }],
            readinessProbe: { httpGet: { path: '/', port: 'http' } }, livenessProbe: { grpc: { port: 8080 } },
            volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'conf', mountPath: '/etc/x.conf', subPath: 'x.conf' },
              { name: 'logs', mountPath: '/logs' }],
          },
        ],
        volumes: [{ name: 'conf', configMap: { name: 'cfg' } }, { name: 'logs', hostPath: { path: '/var/log' } }],
      },
    },
    volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { resources: { requests: { storage: '5Gi' } } } }],
  },
});
const cfg = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { X: '1', Y: '2' } };
const svc = (name = 'frontend') => ({ apiVersion: 'v1', kind: 'Service', metadata: { name },
  spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http', nodePort: 30080 }] } });
const ing = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i' },
  spec: { rules: [{ host: 'a.example.com', http: { paths: [{ path: '/', pathType: 'Prefix',
    backend: { service: { name: 'frontend', port: { number: 80 } } } }] } }] } };
const pvc = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'shared' }, spec: { resources: { requests: { storage: '1Gi' } } } };
const input = () => objectsOf([deploy(), null, svc(), cfg, ing, pvc]);

test('the same objects are alike in every fact', () => {
  const f = facts(input());
  const keys = f.map((x) => x.key);
  for (const k of ['workload web kind', 'workload web container web image', 'workload web container web args',
    'workload web container web port 53/UDP', 'workload web container web env C_X', 'workload web container web env A',
    'workload web container web readinessProbe', 'workload web container web mount /etc/x.conf (x.conf)',
    'workload web init container init command', 'workload web claim template data size', 'service frontend type',
    'service frontend port 80/TCP', 'service frontend selects', 'ingress a.example.com/', 'claim shared size'])
    assert.ok(keys.includes(k), k);
  const byKey = Object.fromEntries(f.map((x) => [x.key, x]));
  assert.equal(byKey['workload web container web mount /data'].value, 'claim');
  assert.equal(byKey['workload web container web mount /etc/x.conf (x.conf)'].value, 'files');
  assert.equal(byKey['workload web container web mount /logs'].value, 'hostPath');
  assert.equal(byKey['workload web container web livenessProbe'].value, 'grpc');
  assert.equal(byKey['workload web container web startupProbe'].value, 'none');
  assert.equal(byKey['service frontend port 80/TCP'].value, JSON.stringify({ target: 8080, nodePort: 30080 }));
  assert.equal(byKey['ingress a.example.com/'].value, JSON.stringify({ backend: 'frontend:80', pathType: 'Prefix' }));
  assert.equal(byKey['workload web container web env C_X'].where, '/0/spec/template/spec/containers/1/envFrom/0');
  assert.equal(byKey['service frontend type'].where, '/2/spec');
  const r = fidelity(input(), input());
  assert.deepEqual(r.differences, []);
  assert.equal(r.score, 1);
  assert.equal(r.total, f.length);
});

test('a renamed workload, its containers reordered and renamed, matches', () => {
  const d = deploy();
  d.metadata.name = 'frontend';
  const spec = d.spec.template.spec;
  spec.containers.reverse();
  spec.containers[0].name = 'frontend';
  const r = fidelity(input(), [d, svc(), cfg, ing, pvc]);
  assert.deepEqual(r.differences, []);
});

test('each changed fact is one difference, at its place in the input', () => {
  const cases = [
    ['image', (d) => { d.spec.template.spec.containers[1].image = 'ghcr.io/acme/web:2.0'; }, 'workload web container web image', '/0/spec/template/spec/containers/1/image'],
    ['args', (d) => { delete d.spec.template.spec.containers[1].args; }, 'workload web container web args', '/0/spec/template/spec/containers/1/args'],
    ['kind', (d) => { d.kind = 'StatefulSet'; }, 'workload web kind', '/0/kind'],
    ['env', (d) => { d.spec.template.spec.containers[1].env = []; }, 'workload web container web env A', '/0/spec/template/spec/containers/1/env/0'],
    ['probe', (d) => { d.spec.template.spec.containers[1].readinessProbe = { tcpSocket: { port: 8080 } }; }, 'workload web container web readinessProbe', '/0/spec/template/spec/containers/1/readinessProbe'],
    ['volume source', (d) => { d.spec.template.spec.volumes[1] = { name: 'logs', emptyDir: {} }; }, 'workload web container web mount /logs', '/0/spec/template/spec/containers/1/volumeMounts/2'],
    ['storage', (d) => { d.spec.volumeClaimTemplates[0].spec.resources.requests.storage = '1Gi'; }, 'workload web claim template data size', '/0/spec/volumeClaimTemplates/0'],
    ['port', (d) => { d.spec.template.spec.containers[1].ports.pop(); }, 'workload web container web port 53/UDP', '/0/spec/template/spec/containers/1/ports/1'],
  ];
  for (const [what, change, key, where] of cases) {
    const d = deploy();
    change(d);
    const r = fidelity(input(), [d, svc(), cfg, ing, pvc]);
    assert.equal(r.differences.length, 1, `${what}: ${JSON.stringify(r.differences)}`);
    assert.equal(r.differences[0].key, key, what);
    assert.equal(r.differences[0].where, where, what);
    assert.equal(r.matched, r.total - 1, what);
  }
  // a Service's type and an entry point's backend
  const s = svc();
  s.spec.type = 'ClusterIP';
  const i2 = structuredClone(ing);
  i2.spec.rules[0].http.paths[0].backend.service.port = { number: 81 };
  const r = fidelity(input(), [deploy(), s, cfg, i2, pvc]);
  assert.deepEqual(r.differences.map((x) => [x.key, x.where]),
    [['service frontend type', '/2/spec'], ['ingress a.example.com/', '/4/spec/rules/0/http/paths/0']]);
});

test('what only the render has is a difference at its workload', () => {
  const d = deploy();
  d.spec.template.spec.containers[1].volumeMounts.push({ name: 'tmp', mountPath: '/tmp' });
  d.spec.template.spec.volumes.push({ name: 'tmp', emptyDir: {} });
  const extra = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-headless' },
    spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ port: 8080 }] } };
  const r = fidelity(input(), [d, svc(), extra, cfg, ing, pvc]);
  assert.equal(r.score, 1);
  const keys = r.differences.map((x) => x.key).sort();
  assert.deepEqual(keys, ['service web-headless port 8080/TCP', 'service web-headless selects', 'service web-headless type',
    'workload web container web mount /tmp']);
  for (const x of r.differences) assert.equal(x.where, '/0');
  // nothing rendered at all: every fact is a difference
  const none = fidelity(input(), []);
  assert.equal(none.score, 0);
  assert.equal(none.differences.length, none.total);
});

test('listedIn: an entry at the difference, above it or below it', () => {
  const diff = { where: '/0/spec/template/spec/containers/1/image' };
  assert.ok(listedIn(diff, [{ path: '/0/spec/template/spec/containers/1/image' }]));
  assert.ok(listedIn(diff, [{ path: '/0/spec/template/spec/containers/1' }]));
  assert.ok(listedIn({ where: '/0' }, [{ path: '/0/spec/x' }]));
  assert.ok(!listedIn(diff, [{ path: '/0/spec/template/spec/containers/0' }]));
  assert.ok(!listedIn(diff, [{ path: '/1' }]));
  assert.ok(!listedIn({ where: '/1' }, [{ path: '/10/spec' }]));
  assert.ok(!listedIn({ where: '' }, [{ path: '' }]));
  // compare() alone, on facts a compose or Score test writes itself
  const r = compare([{ key: 'a', value: '1', where: '/x' }], [{ key: 'a', value: '2' }]);
  assert.deepEqual(r.differences, [{ key: 'a', want: '1', got: '2', where: '/x' }]);
});
