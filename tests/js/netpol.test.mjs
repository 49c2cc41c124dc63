// NetworkPolicies (/networkPolicies/enabled): every connection the rendered pods need is
// allowed at both ends and nothing else is. What a pod needs is read from the rendered
// objects themselves, not from the document: the hosts its env values, the config values
// its env vars and envFrom read, its command, args and projected config files name (the
// wait-for-* init containers name MySQL and RabbitMQ), the ingress controller to the
// backends of the Ingress, DNS for everyone. The policies are then evaluated as
// Kubernetes does (a pod selected by no policy of a type is open for it; selected, only
// what some rule allows), for msa-shop prod and for the fixture stacks.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "node:test";
import { parseAllDocuments } from "yaml";
import { binary } from "./lib/server.mjs";

const root = new URL("../..", import.meta.url).pathname;

function renderYaml(stackArg, envArg, sets = []) {
  const args = ["render", "--stack", stackArg, "--env", envArg, "--format", "yaml", ...sets.flatMap((s) => ["--set", s])];
  const text = execFileSync(binary, args).toString();
  return parseAllDocuments(text, { version: "1.1" }).map((d) => d.toJSON()).filter(Boolean);
}

const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet", "Job"]);
const podTemplate = (o) => (o.kind === "CronJob" ? o.spec.jobTemplate.spec.template : o.spec.template);
const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);

// The words of a text that are host names ([a-z0-9.-]), as render_netpol.h defines them.
const words = (text) => String(text ?? "").split(/[^a-z0-9.-]+/).filter(Boolean);
const namesHost = (text, host) => words(text).some((w) => w === host || w.startsWith(`${host}.`));

/** What each pod needs: [{from, to, port}] by workload names, from the rendered objects. */
function needed(objects, stack) {
  const config = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === `${stack}-config`)?.data ?? {};
  const pods = objects.filter((o) => WORKLOADS.has(o.kind) || o.kind === "CronJob").map((o) => ({
    name: podTemplate(o).metadata.labels["app.kubernetes.io/name"],
    spec: podTemplate(o).spec,
  }));
  const portsOf = (name) => pods.filter((p) => p.name === name)
    .flatMap((p) => p.spec.containers.flatMap((c) => (c.ports ?? []).map((x) => x.name)));
  const texts = (spec) => {
    const out = [];
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      out.push(...(c.command ?? []), ...(c.args ?? []));
      for (const e of c.env ?? []) {
        out.push(e.value);
        const ref = e.valueFrom?.configMapKeyRef;
        if (ref?.name === `${stack}-config`) out.push(config[ref.key]);
      }
      for (const f of c.envFrom ?? []) if (f.configMapRef?.name === `${stack}-config`) out.push(...Object.values(config));
    }
    for (const v of spec.volumes ?? []) for (const s of v.projected?.sources ?? [])
      for (const item of (s.configMap?.name === `${stack}-config` ? s.configMap.items ?? [] : [])) out.push(config[item.key]);
    return out;
  };
  const need = [];
  for (const p of pods) {
    const t = texts(p.spec);
    for (const q of new Set(pods.map((x) => x.name))) {
      if (q === p.name || !t.some((x) => namesHost(x, q))) continue;
      for (const port of portsOf(q)) need.push(`${p.name} -> ${q}:${port}`);
    }
  }
  const ingress = objects.find((o) => o.kind === "Ingress");
  const services = Object.fromEntries(objects.filter((o) => o.kind === "Service").map((o) => [o.metadata.name, o]));
  for (const rule of ingress?.spec.rules ?? []) for (const path of rule.http.paths) {
    const svc = services[path.backend.service.name];
    const sp = svc.spec.ports.find((x) => x.port === path.backend.service.port.number || x.name === path.backend.service.port.name);
    need.push(`ingress-controller -> ${svc.metadata.name}:${sp.targetPort}`);
  }
  return { pods, need: [...new Set(need)].sort() };
}

/** What the policies allow between the pods (and from the ingress controller): sorted lines. */
function allowed(objects, pods, ingressPeer) {
  const policies = objects.filter((o) => o.kind === "NetworkPolicy");
  const labelsOf = (name) => objects.filter((o) => WORKLOADS.has(o.kind) || o.kind === "CronJob")
    .map((o) => podTemplate(o).metadata.labels).find((l) => l["app.kubernetes.io/name"] === name);
  const selecting = (labels, type) => policies.filter((p) => p.spec.policyTypes.includes(type) && matches(p.spec.podSelector.matchLabels, labels));
  const peerMatches = (peer, who) => {
    if (who === "ingress-controller")
      return peer.namespaceSelector && matches(peer.namespaceSelector.matchLabels, ingressPeer.ns) && matches(peer.podSelector?.matchLabels, ingressPeer.labels);
    return !peer.namespaceSelector && matches(peer.podSelector.matchLabels, labelsOf(who));
  };
  const portOk = (ports, port) => !ports || ports.some((x) => x.port === port);
  const ingressOk = (to, from, port) => {
    const ps = selecting(labelsOf(to), "Ingress");
    return ps.length === 0 || ps.some((p) => (p.spec.ingress ?? []).some((r) => r.from.some((f) => peerMatches(f, from)) && portOk(r.ports, port)));
  };
  const egressOk = (from, to, port) => {
    if (from === "ingress-controller") return true;
    const ps = selecting(labelsOf(from), "Egress");
    return ps.length === 0 || ps.some((p) => (p.spec.egress ?? []).some((r) => r.to.some((t) => peerMatches(t, to)) && portOk(r.ports, port)));
  };
  const names = [...new Set(pods.map((p) => p.name))];
  const out = [];
  for (const from of [...names, "ingress-controller"]) for (const to of names) {
    if (from === to) continue;
    for (const port of pods.filter((p) => p.name === to).flatMap((p) => p.spec.containers.flatMap((c) => (c.ports ?? []).map((x) => x.name))))
      if (egressOk(from, to, port) && ingressOk(to, from, port)) out.push(`${from} -> ${to}:${port}`);
  }
  // DNS: every pod may ask kube-dns, on 53
  for (const name of names) {
    const dns = selecting(labelsOf(name), "Egress").some((p) => (p.spec.egress ?? []).some((r) =>
      r.to.some((t) => t.namespaceSelector?.matchLabels["kubernetes.io/metadata.name"] === "kube-system") && portOk(r.ports, 53)));
    assert.ok(dns, `${name} may not ask DNS`);
  }
  return [...new Set(out)].sort();
}

function check(t, objects, stack) {
  const { pods, need } = needed(objects, stack);
  const ingressPeer = { ns: { "kubernetes.io/metadata.name": "ingress-nginx" }, labels: { "app.kubernetes.io/name": "ingress-nginx" } };
  assert.deepEqual(allowed(objects, pods, ingressPeer), need);
  // every pod of the environment is under the default deny
  const deny = objects.find((o) => o.kind === "NetworkPolicy" && o.metadata.name === `${stack}-default-deny`);
  assert.deepEqual(deny.spec.policyTypes, ["Ingress", "Egress"]);
  for (const p of pods) {
    const labels = objects.filter((o) => WORKLOADS.has(o.kind) || o.kind === "CronJob").map((o) => podTemplate(o).metadata.labels)
      .find((l) => l["app.kubernetes.io/name"] === p.name);
    assert.ok(matches(deny.spec.podSelector.matchLabels, labels), `${p.name} is not under the default deny`);
  }
}

test("msa-shop prod: every path the pods need is allowed at both ends, nothing else", (t) => {
  const objects = renderYaml("msa-shop", "prod", ["/networkPolicies/enabled=true"]);
  check(t, objects, "msa-shop");
  const { need } = needed(objects, "msa-shop");
  assert.ok(need.length > 15, "many paths");
  for (const p of ["api-gateway -> order-service:http", "order-service -> mysql:mysql", "payment-service -> rabbitmq:amqp",
    "mysql-init -> mysql:mysql", "ingress-controller -> api-gateway:http"]) assert.ok(need.includes(p), p);
  assert.ok(!need.includes("user-service -> rabbitmq:amqp"), "user-service does not use RabbitMQ");
  // off by default: no policy at all
  assert.ok(!renderYaml("msa-shop", "prod").some((o) => o.kind === "NetworkPolicy"));
});

for (const name of ["daemon", "escape", "files", "ingress", "jobs", "network", "stateful"]) {
  test(`fixture ${name}: the same holds`, (t) => {
    const dir = join(root, "tests/data/stacks", name);
    const env = readFileSync(join(dir, "stack.json"), "utf8") && ["prod", "dev"].find((e) => {
      try { readFileSync(join(dir, `${e}.json`)); return true; } catch { return false; }
    });
    const objects = renderYaml(join(dir, "stack.json"), join(dir, `${env}.json`), ["/networkPolicies/enabled=true"]);
    const stackName = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name.endsWith("-bundle")).data.stack;
    check(t, objects, stackName);
  });
}

test("the ingress controller's namespace and labels are parameters", (t) => {
  const tmp = mkdtempSync(join(tmpdir(), "netpol-"));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const env = JSON.parse(readFileSync(join(root, "migrations/seed/msa-shop/prod.json"), "utf8"));
  env.networkPolicies = { enabled: true, ingressNamespace: "traefik", ingressPodLabels: { "app.kubernetes.io/name": "traefik", "app.kubernetes.io/name-": null } };
  delete env.networkPolicies.ingressPodLabels["app.kubernetes.io/name-"];
  writeFileSync(join(tmp, "prod.json"), JSON.stringify(env));
  const objects = renderYaml("msa-shop", join(tmp, "prod.json"));
  const gw = objects.find((o) => o.kind === "NetworkPolicy" && o.metadata.name === "api-gateway-ingress");
  const peer = gw.spec.ingress.at(-1).from[0];
  assert.deepEqual(peer.namespaceSelector.matchLabels, { "kubernetes.io/metadata.name": "traefik" });
  assert.deepEqual(peer.podSelector.matchLabels, { "app.kubernetes.io/name": "traefik" });
});
