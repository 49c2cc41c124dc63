// Day 2: a bundle is applied over the previous one. For every leaf value of a stack's
// documents (and the scenarios teams actually go through: a tag, a password, a database,
// the secret source, autoscaling, the namespace), the environment is rendered before and
// after the change, and the pair is checked against the API server's update rules and
// the rules:
// 1. nothing the API server refuses on update: an object that keeps its kind and name
//    keeps its immutable fields (a Job's whole spec, a workload's selector, the classes
//    and access modes of a StatefulSet's claim templates; a StatefulSet whose templates
//    or serviceName change is made anew by apply.sh, tests/js/applysh.test.mjs);
// 2. a change takes effect: a pod that reads a config or secret key that changed gets a
//    new pod template (it rolls);
// 3/5. nothing else changes: a pod that reads nothing that changed keeps its template,
//    and a change inside one service leaves the other services' files as they were;
// 6. every StatefulSet names a headless governing Service, and gets a PDB when it runs
//    more than one pod.
// A change the model refuses (exit 2, a sentence) is fine: it never reaches a cluster.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import test from "node:test";
import { parseAllDocuments } from "yaml";
import { binary, pgAdmin } from "./lib/server.mjs";
import { tempDir } from "./lib/bundle.mjs";

const root = new URL("../..", import.meta.url).pathname;
const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"]);

/** Renders to {items, byId} or {refused: text}; with sets, as a change of what stack <- env runs. */
function render(stack, env, sets = []) {
  const args = ["render", "--stack", stack, "--env", env, "--format", "json", ...sets.flatMap((s) => ["--set", s])];
  if (sets.length) args.push("--previous-stack", stack, "--previous-env", env);
  const r = spawnSync(binary, args, { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status === 2) return { refused: r.stderr };
  assert.equal(r.status, 0, `${sets.join(" ")}: ${r.stderr}`);
  const items = JSON.parse(r.stdout).items;
  return { items, byId: new Map(items.map((o) => [`${o.kind}/${o.metadata.name}`, o])) };
}

const json = (v) => JSON.stringify(v);
const template = (o) => (o.kind === "CronJob" ? o.spec.jobTemplate.spec.template : o.spec?.template);

/** The config keys and secret keys a pod template reads, as "config:key" / "secret:key". */
function reads(o, stack, secrets) {
  const t = template(o);
  const out = new Set();
  const cm = `${stack}-config`;
  for (const c of [...(t.spec.initContainers ?? []), ...t.spec.containers]) {
    for (const e of c.env ?? []) {
      const k = e.valueFrom?.configMapKeyRef;
      const s = e.valueFrom?.secretKeyRef;
      if (k?.name === cm) out.add(`config:${k.key}`);
      if (s?.name === secrets) out.add(`secret:${s.key}`);
    }
    for (const f of c.envFrom ?? []) {
      if (f.configMapRef?.name === cm) out.add("config:*");
      if (f.secretRef?.name === secrets) out.add("secret:*");
    }
  }
  for (const v of t.spec.volumes ?? []) {
    for (const s of v.projected?.sources ?? []) {
      for (const i of (s.configMap?.name === cm ? s.configMap.items ?? [] : [])) out.add(`config:${i.key}`);
      for (const i of (s.secret?.name === secrets ? s.secret.items ?? [] : [])) out.add(`secret:${i.key}`);
    }
    if (v.configMap?.name === cm) out.add("config:*");
    if (v.secret?.secretName === secrets) out.add("secret:*");
  }
  return out;
}

/** The keys of the stack's ConfigMap and Secret whose values differ between two renders. */
function changedKeys(a, b, stack, secrets) {
  const out = new Set();
  for (const [kind, name, tag] of [["ConfigMap", `${stack}-config`, "config"], ["Secret", secrets, "secret"]]) {
    const x = a.byId.get(`${kind}/${name}`)?.data ?? {};
    const y = b.byId.get(`${kind}/${name}`)?.data ?? {};
    for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) if (x[k] !== y[k]) out.add(`${tag}:${k}`);
  }
  return out;
}

/** A Job of after, new since before, that reads one of the changed keys: the change runs again. */
const rerunBy = (before, after, changed, stack, secrets) => after.items.some((o) =>
  o.kind === "Job" && !before.byId.has(`Job/${o.metadata.name}`) && readsAny(reads(o, stack, secrets), changed));

const readsAny = (set, changed) => [...changed].some((k) => set.has(k) || set.has(`${k.split(":")[0]}:*`));

/** Rules 1-3/5 on one pair; returns the problems (strings). */
function checkPair(before, after, { stack, secrets, service, what }) {
  const problems = [];
  const bad = (m) => problems.push(`${what}: ${m}`);
  for (const [id, o] of before.byId) {
    const n = after.byId.get(id);
    if (!n) continue;
    if (o.kind === "Job" && json(o.spec) !== json(n.spec)) bad(`${id} keeps its name but its spec changed (Jobs are immutable)`);
    if (WORKLOADS.has(o.kind) && o.kind !== "Job" && o.kind !== "CronJob" && json(o.spec.selector) !== json(n.spec.selector))
      bad(`${id}: selector changed`);
    if (o.kind === "StatefulSet") {
      const fixed = (s) => new Map((s.spec.volumeClaimTemplates ?? []).map((v) => [v.metadata.name, json([v.spec.storageClassName, v.spec.accessModes])]));
      const [was, now] = [fixed(o), fixed(n)];
      for (const [claim, v] of now) if (was.has(claim) && was.get(claim) !== v) bad(`${id}: the class or access mode of claim ${claim} changed`);
    }
  }
  const changed = changedKeys(before, after, stack, secrets);
  for (const [id, o] of before.byId) {
    if (o.kind === "Job" && readsAny(reads(o, stack, secrets), changed) && after.byId.has(id))
      bad(`${id} reads ${[...changed].join(", ")} but keeps its name: it does not run again`);
  }
  for (const [id, o] of after.byId) {
    if (!WORKLOADS.has(o.kind) || o.kind === "Job") continue;
    const p = before.byId.get(id);
    if (!p) continue;
    const r = reads(o, stack, secrets);
    const same = json(template(p)) === json(template(o));
    if (readsAny(r, changed) && same && !rerunBy(before, after, changed, stack, secrets))
      bad(`${id} reads ${[...changed].join(", ")} but does not roll, and no Job that reads it runs again`);
    const inside = service && o.metadata.labels?.["app.kubernetes.io/name"] === service;
    if (!inside && !readsAny(r, changed) && !same && !what.startsWith("/image") && !what.startsWith("/serviceDefaults") &&
        !what.startsWith("/namespace") && !what.startsWith("/config") && !what.startsWith("/secrets") &&
        !what.startsWith("/components") && !what.startsWith("/secretSource"))
      bad(`${id} restarts although it reads nothing that changed`);
  }
  if (service) {
    for (const [id, o] of after.byId) {
      const owner = o.metadata.labels?.["app.kubernetes.io/name"];
      const p = before.byId.get(id);
      if (p && owner && owner !== service && WORKLOADS.has(o.kind) && o.kind !== "Job" && json(p) !== json(o) &&
          !readsAny(reads(o, stack, secrets), changed))
        bad(`${id} changed for a change of service ${service}`);
    }
  }
  return problems;
}

/** Rule 6 on one render. */
function checkStateful(r) {
  const problems = [];
  for (const o of r.items.filter((x) => x.kind === "StatefulSet")) {
    const svc = r.byId.get(`Service/${o.spec.serviceName}`);
    if (!svc || svc.spec.clusterIP !== "None") problems.push(`${o.metadata.name}: serviceName ${o.spec.serviceName} is not a headless Service`);
    const pods = o.spec.replicas ?? 2;
    const pdb = r.items.find((x) => x.kind === "PodDisruptionBudget" &&
      Object.entries(x.spec.selector.matchLabels).every(([k, v]) => template(o).metadata.labels[k] === v));
    if (pods > 1 && !pdb) problems.push(`${o.metadata.name}: ${pods} pods and no PodDisruptionBudget`);
  }
  return problems;
}

/** A changed value of the same kind, valid for the common formats, or undefined. */
function changedValue(pointer, v) {
  const leaf = pointer.split("/").at(-1);
  if (typeof v === "boolean") return !v;
  if (typeof v === "number") return leaf.endsWith("Port") || leaf === "port" || leaf === "nodePort" ? (v === 0 ? 0 : v + 1) : v + 1;
  if (typeof v !== "string") return undefined;
  if (/^(cpu)$/.test(leaf)) return "750m";
  if (/^(memory|size|sizeLimit)$/.test(leaf)) return "3Gi";
  if (leaf === "tag") return "9.9.9";
  if (leaf === "path" || leaf === "mountPath") return `${v === "/" ? "" : v}/x`;
  if (leaf === "schedule") return "*/7 * * * *";
  if (leaf === "host") return "changed.example.com";
  if (leaf === "image") return v.replace(/:[^:@]+/, ":9.9.9");
  if (/^(kind|type|pullPolicy|protocol|pathType|operator|effect|medium|strategy|spread|accessMode|className|secretStoreKind|restartPolicy|concurrencyPolicy|scheme|mode)$/.test(leaf)) return undefined;
  return v === "" ? undefined : `${v}-x`;
}

/** Every leaf of doc as [pointer, value]. */
function leaves(doc, prefix = "") {
  const out = [];
  for (const [k, v] of Object.entries(doc)) {
    const p = `${prefix}/${k.replaceAll("~", "~0").replaceAll("/", "~1")}`;
    if (v && typeof v === "object" && !Array.isArray(v)) out.push(...leaves(v, p));
    else out.push([p, v]);
  }
  return out;
}

/** The day-2 walk over one stack and environment: every leaf changed, and every map entry
 * removed (with every > 1, one change in every). */
function walk(stackFile, envFile, stackName, every = 1) {
  const base = render(stackFile, envFile);
  assert.ok(!base.refused, base.refused);
  const secrets = base.items.find((o) => o.kind === "Secret")?.metadata.name ?? `${stackName}-secrets`;
  const problems = [...checkStateful(base)];
  const docs = [JSON.parse(readFileSync(stackFile, "utf8")), JSON.parse(readFileSync(envFile, "utf8"))];
  const changes = new Map();
  for (const doc of docs) for (const [p, v] of leaves(doc)) {
    if (p.startsWith("/patches") || p.startsWith("/extraObjects") || p.startsWith("/description")) continue;
    const nv = changedValue(p, v);
    if (nv !== undefined && !changes.has(p)) changes.set(p, nv);
    const parts = p.split("/");
    if (parts.length > 3) changes.set(parts.slice(0, -1).join("/") + "=null", null); // an entry removed
  }
  let tried = 0, refused = 0, seen = 0;
  for (const [p, nv] of changes) {
    if (seen++ % every !== 0) continue;
    const set = p.endsWith("=null") ? p : `${p}=${JSON.stringify(nv)}`;
    const after = render(stackFile, envFile, [set]);
    tried++;
    if (after.refused) { refused++; continue; }
    const service = /^\/services\/([^/]+)/.exec(p)?.[1];
    problems.push(...checkPair(base, after, { stack: stackName, secrets, service, what: set }), ...checkStateful(after));
  }
  return { problems, tried, refused };
}

const fixtures = readdirSync(join(root, "tests/data/stacks")).sort();
// Everything here renders offline (manifestd render): the PostgreSQL stage has nothing to add.
const opts = { skip: pgAdmin ? "renders offline; the SQLite stage runs it" : false };

// Every environment of the built-in stacks, msa-shop's and manifestd's own.
for (const [stack, env, least] of [["msa-shop", "prod", 150], ["msa-shop", "staging", 150], ["msa-shop", "dev", 150],
  ["manifestd", "prod", 40], ["manifestd", "external-db", 30]]) {
  test(`${stack} ${env}: every change of a value applies over the previous bundle`, opts, () => {
    const { problems, tried, refused } = walk(join(root, "migrations/seed", stack, "stack.json"),
      join(root, "migrations/seed", stack, `${env}.json`), "stack");
    assert.ok(tried > least, `${tried} changes`);
    assert.ok(refused < tried / 2, `${refused} of ${tried} refused`);
    assert.deepEqual(problems, []);
  });
}

for (const name of fixtures) {
  test(`fixture ${name}: every change of a value applies over the previous bundle`, opts, () => {
    const dir = join(root, "tests/data/stacks", name);
    const env = readdirSync(dir).find((f) => f !== "stack.json");
    const { problems, tried } = walk(join(dir, "stack.json"), join(dir, env), "stack");
    assert.ok(tried > 10, `${tried} changes`);
    assert.deepEqual(problems, []);
  });
}

// Stacks as teams arrive with them: real applications through each importer (one in
// three of their changes, to bound the time), StatefulSets, components and workers among them.
for (const [how, app, files] of [
  ["manifests", "bank-of-anthos", (d) => readdirSync(d).filter((f) => f.endsWith(".yaml")).map((f) => join(d, f))],
  ["compose", "n8n-postgres-worker", (d) => [join(d, "docker-compose.yml")]],
  ["score", "aks-store-demo", (d) => readdirSync(d).filter((f) => f.endsWith(".yaml")).map((f) => join(d, f))],
]) {
  test(`${app}, imported from ${how}: every sampled change applies over the previous bundle`, opts, (t) => {
    const data = { manifests: "apps", compose: "compose-apps", score: "score" }[how];
    const out = tempDir(t);
    const r = spawnSync(binary, ["import", how, "--stack", "app", "--out-dir", out, ...files(join(root, "tests/data", data, app))],
      { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const { problems, tried } = walk(join(out, "app.json"), join(out, "dev.json"), "app", 3);
    assert.ok(tried > 10, `${tried} changes`);
    assert.deepEqual(problems, []);
  });
}

test("the scenarios of issue 14 on msa-shop prod", opts, () => {
  const stack = join(root, "migrations/seed/msa-shop/stack.json");
  const prod = join(root, "migrations/seed/msa-shop/prod.json");
  const base = render(stack, prod);
  const ctx = { stack: "stack", secrets: "stack-secrets" };
  const scenarios = [
    ["/image/tag=\"1.4.3\""],
    ["/secrets/mysql-password=\"rotated\""],
    ["/secrets/jwt-secret=\"rotated\""],
    ["/config/spring-profiles-active=\"k8s,prod,debug\""],
    ["/services/order-service/autoscaling/enabled=false"],
    ["/services/user-service/autoscaling/enabled=true"],
    ["/services/order-service/uses/mysql/database=\"orders2\""],
    ["/secrets/mysql-root-password=\"rotated\""],
    ["/secrets/rabbitmq-password=\"rotated\""],
    ["/components/mysql/storage/size=\"60Gi\""],
    ["/components/mysql/image/tag=\"8.0.37\""],
    ["/namespace=\"msa-shop-live\""],
    ["/services/api-gateway/replicas=5"],
  ];
  for (const sets of scenarios) {
    const after = render(stack, prod, sets);
    assert.ok(!after.refused, after.refused);
    const service = /^\/services\/([^/]+)/.exec(sets[0])?.[1];
    assert.deepEqual(checkPair(base, after, { ...ctx, service, what: sets.join(" ") }), []);
  }
  // the provisioning Job of MySQL is a new Job when what it applies changes (a database,
  // a password), and MySQL itself does not restart for it
  const jobs = (r) => r.items.filter((o) => o.kind === "Job").map((o) => o.metadata.name);
  const mysql = (r) => json(r.byId.get("StatefulSet/mysql"));
  for (const set of ["/services/order-service/uses/mysql/database=\"orders2\"", "/secrets/mysql-password=\"rotated\"",
    "/secrets/mysql-root-password=\"rotated\""]) {
    const changed = render(stack, prod, [set]);
    assert.notDeepEqual(jobs(changed), jobs(base), set);
    assert.equal(mysql(changed), mysql(base), `${set}: MySQL restarts`);
  }
  // no provenance on the objects: one changed revision changes one object
  const a = JSON.parse(execFileSync(binary, ["render", "--stack", stack, "--env", prod, "--format", "json"]).toString()).items;
  assert.ok(a.every((o) => !o.metadata.annotations?.["manifestd.io/revision"]));
});

test("what Kubernetes refuses on a running environment is refused with a sentence that says what to do", opts, () => {
  const stateful = join(root, "tests/data/stacks/stateful");
  const cases = [
    [join(root, "migrations/seed/msa-shop/stack.json"), join(root, "migrations/seed/msa-shop/prod.json"),
      "/components/mysql/storage/size=\"20Gi\"", /^\/components\/mysql\/storage\/size: must not be smaller than before \("50Gi"\)/m],
    [join(root, "migrations/seed/msa-shop/stack.json"), join(root, "migrations/seed/msa-shop/prod.json"),
      "/components/mysql/storage/className=\"premium\"", /^\/components\/mysql\/storage\/className: .*StorageClass \("standard-rwo"\).*another name/m],
    [join(stateful, "stack.json"), join(stateful, "prod.json"),
      "/services/kv/volumes/data/persistent/className=null", /^\/services\/kv\/volumes\/data\/persistent\/className: .*"fast-ssd"/m],
    [join(stateful, "stack.json"), join(stateful, "prod.json"),
      "/services/kv/volumes/wal/persistent/accessMode=\"ReadWriteOnce\"", /accessMode: .*access mode \(ReadWriteOncePod\)/m],
  ];
  for (const [stack, env, set, message] of cases) {
    const r = render(stack, env, [set]);
    assert.ok(r.refused, `${set} was rendered`);
    assert.match(r.refused, message);
    // the same value is fine on a first install (no previous documents)
    const first = spawnSync(binary, ["render", "--stack", stack, "--env", env, "--format", "json", "--set", set], { encoding: "utf8" });
    assert.equal(first.status, 0, first.stderr);
  }
  // a size that grows is fine: apply.sh grows the claims
  assert.ok(!render(join(stateful, "stack.json"), join(stateful, "prod.json"), ["/services/kv/volumes/data/persistent/size=\"200Gi\""]).refused);
});
