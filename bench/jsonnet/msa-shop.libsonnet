// bench/run: the msa-shop prod rendering done the jsonnet way, for comparison with
// manifestd: the same layering (stack <- environment with RFC 7386 merge patch,
// serviceDefaults under every service) and the same kinds of objects per component.
// Run with -J migrations/seed (the stack and environment documents).
local stack = import 'msa-shop/stack.json';
local prod = import 'msa-shop/prod.json';
local doc = std.mergePatch(stack, prod);
local ns = doc.namespace;
local inst = 'msa-shop-prod';
local labels(name, component) = {
  'app.kubernetes.io/name': name,
  'app.kubernetes.io/instance': inst,
  'app.kubernetes.io/component': component,
  'app.kubernetes.io/part-of': 'msa-shop',
  'app.kubernetes.io/managed-by': 'jsonnet',
};
local meta(name, component) = { name: name, namespace: ns, labels: labels(name, component) };
local sel(name) = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': inst };
local defaults = { replicas: 1, probes: {}, env: {}, resources: {} } + (if std.objectHas(doc, 'serviceDefaults') then doc.serviceDefaults else {});
local svc(name) = std.mergePatch(defaults, doc.services[name]);
local envVar(k, v) =
  if std.objectHas(v, 'value') then { name: k, value: v.value }
  else if std.objectHas(v, 'config') then { name: k, valueFrom: { configMapKeyRef: { name: 'msa-shop-config', key: v.config } } }
  else { name: k, valueFrom: { secretKeyRef: { name: 'msa-shop-secrets', key: v.secret } } };
local probe(p, port) = {
  httpGet: { path: p.path, port: 'http' },
  initialDelaySeconds: std.get(p, 'initialDelaySeconds', 0),
  periodSeconds: std.get(p, 'periodSeconds', 10),
  timeoutSeconds: std.get(p, 'timeoutSeconds', 1),
  failureThreshold: std.get(p, 'failureThreshold', 3),
};
local image(s) = std.get(std.get(s, 'image', {}), 'registry', std.get(doc.image, 'registry', 'ghcr.io/msa-shop')) + '/' + s.image.repository + ':' + std.get(s.image, 'tag', doc.image.tag);
local serviceObjects(name) =
  local s = svc(name);
  [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(name, 'application'), automountServiceAccountToken: false },
    { apiVersion: 'v1', kind: 'Service', metadata: meta(name, 'application'),
      spec: { selector: sel(name), ports: [{ name: 'http', port: s.port, targetPort: 'http' }] } },
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta(name, 'application'),
      spec: {
        replicas: s.replicas,
        selector: { matchLabels: sel(name) },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
          metadata: { labels: labels(name, 'application') },
          spec: {
            serviceAccountName: name,
            securityContext: { runAsNonRoot: true, runAsUser: 65534, fsGroup: 65534 },
            containers: [{
              name: name,
              image: image(s),
              ports: [{ name: 'http', containerPort: s.port }],
              env: [envVar(k, s.env[k]) for k in std.objectFields(s.env)],
              resources: s.resources,
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
            } + { [k + 'Probe']: probe(s.probes[k], s.port) for k in std.objectFields(s.probes) if s.probes[k] != null }],
          },
        },
      } },
  ] + (if std.get(std.get(s, 'autoscaling', {}), 'enabled', false) then [
    { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: meta(name, 'application'),
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: name },
              minReplicas: s.autoscaling.minReplicas, maxReplicas: s.autoscaling.maxReplicas,
              metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: s.autoscaling.targetCPUUtilization } } }] } },
  ] else []) + (if s.replicas > 1 then [
    { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: meta(name, 'application'),
      spec: { selector: { matchLabels: sel(name) }, maxUnavailable: 1 } },
  ] else []);
local stateful(name, img, port, size, res) = [
  { apiVersion: 'v1', kind: 'Service', metadata: meta(name, 'database'),
    spec: { clusterIP: 'None', selector: sel(name), ports: [{ name: name, port: port, targetPort: port }] } },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: meta(name, 'database'),
    spec: { serviceName: name, replicas: 1, selector: { matchLabels: sel(name) },
            template: { metadata: { labels: labels(name, 'database') },
                        spec: { containers: [{ name: name, image: img, ports: [{ containerPort: port }], resources: res,
                                                volumeMounts: [{ name: 'data', mountPath: '/var/lib/' + name }] }] } },
            volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } } }] } },
];
{
  objects:
    [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: labels(ns, 'namespace') } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('msa-shop-config', 'config'), data: { [k]: std.toString(doc.config[k]) for k in std.objectFields(doc.config) } },
      { apiVersion: 'v1', kind: 'Secret', metadata: meta('msa-shop-secrets', 'config'), type: 'Opaque', data: { [k]: std.base64(doc.secrets[k]) for k in std.objectFields(doc.secrets) } },
    ]
    + stateful('mysql', std.get(doc.mysql, 'image', 'mysql:8.0'), 3306, doc.mysql.storage.size, std.get(doc.mysql, 'resources', {}))
    + stateful('rabbitmq', std.get(doc.rabbitmq, 'image', 'rabbitmq:3-management'), 5672, doc.rabbitmq.storage.size, std.get(doc.rabbitmq, 'resources', {}))
    + std.flattenArrays([serviceObjects(n) for n in std.objectFields(doc.services)])
    + [
      { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: meta('msa-shop', 'ingress'),
        spec: { ingressClassName: std.get(doc.ingress, 'className', 'nginx'),
                tls: [{ hosts: [doc.ingress.host], secretName: doc.ingress.tls.secretName }],
                rules: [{ host: doc.ingress.host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'api-gateway', port: { name: 'http' } } } }] } }] } },
    ],
}
