// apply.sh of bundles rendered by the real binary, run against a fake kubectl
// (lib/fake-kubectl/kubectl: logs every call, answers from canned rules) for each flag:
// first install and re-apply, --dry-run, --diff, --prune with a referenced Secret and
// left-over objects, a changed namespace, autoscaling on and off, a failed Job, --delete,
// refusals and exit codes. The script's data (objects, references, replicas handling) is
// also checked against what these tests compute from the manifests themselves.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "node:test";

import { manifests, render, root, tempDir, tool } from "./lib/bundle.mjs";

const FAKE = join(root, "tests/js/lib/fake-kubectl");
const BASH = tool("sh", ["-c", "command -v bash"]).out.trim();
const STACK = "msa-shop";
const ENV = "prod";
const NS = `${STACK}-${ENV}`;
const SEL = `manifestd.io/stack=${STACK},manifestd.io/environment=${ENV},app.kubernetes.io/managed-by=manifestd`;
const SSA = "apply --server-side --field-manager=manifestd --force-conflicts";
const seed = (name) => JSON.parse(readFileSync(join(root, "migrations/seed", STACK, `${name}.json`), "utf8"));

/** The bundle folder of msa-shop prod as `manifestd render --format dir` writes it, after
 * edit(env document) when given. */
function renderBundle(t, edit) {
  const dir = tempDir(t);
  const env = seed(ENV);
  edit?.(env);
  writeFileSync(join(dir, `${ENV}.json`), JSON.stringify(env));
  render(["--stack", STACK, "--env", join(dir, `${ENV}.json`), "--format", "dir", "-o", dir]);
  return join(dir, NS);
}

let base;
/** The unchanged prod bundle, rendered once (apply.sh never writes into its folder). */
function baseBundle() {
  if (!base) {
    const dir = tempDir();
    process.on("exit", () => tool("rm", ["-rf", dir]));
    render(["--stack", STACK, "--env", ENV, "--format", "dir", "-o", dir]);
    base = join(dir, NS);
  }
  return base;
}

const parsed = new Map();
/** The objects of a bundle folder (parsed once per folder). */
function objectsOf(dir) {
  if (!parsed.has(dir)) parsed.set(dir, manifests(dir).map((i) => i.obj));
  return parsed.get(dir);
}

const resourceOf = (o) => `${o.kind.toLowerCase()}${o.apiVersion.includes("/") ? `.${o.apiVersion.split("/")[0]}` : ""}`;

/** A line of the inventory apply.sh reads (its LINE_FORMAT). */
function line(ns, o, { owners = "", labels = true } = {}) {
  const t = o.spec?.scaleTargetRef;
  const l = labels ? [STACK, ENV, "manifestd"] : ["", "", ""];
  return [ns, o.apiVersion, o.kind, o.metadata.name, t ? `${t.kind}/${t.name}` : "/", ...l, owners].join("|");
}

const obj = (apiVersion, kind, name, extra = {}) => ({ apiVersion, kind, metadata: { name }, ...extra });

/** A fake cluster: rules (first match wins) in front of the defaults of a cluster where
 * `bundle` is applied already, run through apply.sh. */
class Cluster {
  constructor(t, bundle, ns = NS) {
    this.t = t;
    this.bundle = bundle;
    this.ns = ns;
    this.rules = [];
    this.objects = objectsOf(bundle);
    this.inventory = this.objects.filter((o) => o.kind !== "Namespace").map((o) => line(ns, o));
  }

  on(pattern, out = "", status = 0, err = "") {
    this.rules.push([pattern, status, out, err]);
    return this;
  }

  /** The namespace does not exist yet, nor anything of this environment. */
  firstInstall() {
    this.inventory = [];
    return this.on(`get namespace ${this.ns} --ignore-not-found *`, "").on("get namespaces -l *", "")
      .on(`-n ${this.ns} get deployment.apps * --ignore-not-found *`, "");
  }

  defaults() {
    return [
      ["auth can-i *", 0, "yes\n"],
      [`get namespace ${this.ns} --ignore-not-found *`, 0, `${this.ns}|${STACK}|${ENV}|manifestd|`],
      ["api-resources *", 0, "configmaps\nsecrets\nserviceaccounts\nservices\npersistentvolumeclaims\npods\nevents\n" +
        "deployments.apps\nstatefulsets.apps\njobs.batch\ningresses.networking.k8s.io\n" +
        "horizontalpodautoscalers.autoscaling\npoddisruptionbudgets.policy\nexternalsecrets.external-secrets.io\n"],
      [`get * --all-namespaces -l ${SEL} *`, 0, this.inventory.map((l) => `${l}\n`).join("")],
      [`get * -n ${this.ns} -l ${SEL} *`, 0, this.inventory.filter((l) => l.startsWith(`${this.ns}|`)).map((l) => `${l}\n`).join("")],
      [`get namespaces -l ${SEL} -o name`, 0, `namespace/${this.ns}\n`],
      [`-n ${this.ns} get secret msa-shop-tls --ignore-not-found -o name`, 0, "secret/msa-shop-tls\n"],
      [`-n ${this.ns} get deployment.apps * --ignore-not-found -o jsonpath={.spec.replicas}`, 0, "3"],
      [`-n ${this.ns} get job/* -o jsonpath=*`, 0, "Complete "],
      ["get ingressclass nginx *", 0, "ingressclass.networking.k8s.io/nginx\n"],
    ];
  }

  /** A new folder for the fake kubectl, holding the rules and an empty log. */
  fakeDir() {
    const dir = tempDir(this.t);
    const esc = (s) => String(s).replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
    const rules = [...this.rules, ...this.defaults()].map(([p, st, out, err]) => `${p}\t${st}\t${esc(out)}\t${esc(err ?? "")}\n`);
    writeFileSync(join(dir, "rules"), rules.join(""));
    writeFileSync(join(dir, "log"), "");
    return dir;
  }

  /** Runs apply.sh with args (from another directory); { status, stdout, stderr, calls, stdin(i), ms }. */
  run(args = [], { path, input } = {}) {
    const dir = this.fakeDir();
    const started = Date.now();
    const r = spawnSync(BASH, [join(this.bundle, "apply.sh"), ...args], {
      cwd: "/", encoding: "utf8", input: input ?? "",
      env: { ...process.env, PATH: path ?? `${FAKE}:${process.env.PATH}`, FAKE_KUBECTL: dir },
    });
    const calls = readFileSync(join(dir, "log"), "utf8").split("\n").filter(Boolean);
    const stdin = (i) => readFileSync(join(dir, `stdin-${i + 1}`), "utf8");
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls, stdin, ms: Date.now() - started };
  }
}

/** Index of the first call that starts with prefix (-1 when none). */
const at = (calls, prefix) => calls.findIndex((c) => c.startsWith(prefix));
function before(calls, a, b) {
  const i = at(calls, a);
  const j = at(calls, b);
  assert.ok(i >= 0, `no call '${a}' in\n${calls.join("\n")}`);
  assert.ok(j >= 0, `no call '${b}' in\n${calls.join("\n")}`);
  assert.ok(i < j, `'${a}' should come before '${b}' in\n${calls.join("\n")}`);
}
const deletes = (calls) => calls.filter((c) => / delete /.test(` ${c} `) && !c.startsWith("auth can-i"));
const applies = (calls) => calls.filter((c) => c.startsWith("apply "));
const out = (r) => `${r.stdout}${r.stderr}`;

test("a re-apply: namespaced reachability check, references checked first, server-side apply in phase order, waits, nothing deleted", (t) => {
  const r = new Cluster(t, baseBundle()).run(["--timeout", "90s"]);
  assert.equal(r.status, 0, out(r));
  assert.equal(r.calls[0], `auth can-i get configmaps -n ${NS} --request-timeout=15s`);
  assert.ok(!r.calls.some((c) => /cluster-info|get namespaces? *$|get namespaces -o/.test(c)), "no cluster-scope reachability check");
  before(r.calls, `-n ${NS} get secret msa-shop-tls`, "apply ");
  const files = applies(r.calls).filter((c) => !c.includes("-f -"));
  assert.ok(files.length > 10);
  for (const c of files) assert.ok(c.startsWith(`${SSA} -f `), c);
  const order = [
    `${SSA} -f 00-namespace.yaml`, `${SSA} -f 10-config.yaml`, `${SSA} -f 30-mysql.yaml`,
    `-n ${NS} rollout status statefulset/mysql --timeout=90s`, `${SSA} -f 31-mysql-init.yaml`,
    `-n ${NS} get job/mysql-init-`, `${SSA} -f 50-api-gateway.yaml`, `-n ${NS} rollout status deployment/api-gateway`,
    "get ingressclass nginx", `${SSA} -f 90-ingress.yaml`,
  ];
  for (let i = 1; i < order.length; i++) before(r.calls, order[i - 1], order[i]);
  assert.deepEqual(deletes(r.calls), []);
  assert.match(r.stdout, new RegExp(`${NS} applied to namespace ${NS}`));
});

test("the script's data is derived from the objects: apply order, references, replicas", (t) => {
  const variants = {
    prod: baseBundle(),
    existing: renderBundle(t, (e) => {
      e.secretSource = { type: "existing", name: "shop-secrets" };
      e.secrets = Object.fromEntries(Object.keys(e.secrets).map((k) => [k, ""]));
    }),
    external: renderBundle(t, (e) => {
      e.secretSource = { type: "externalSecret", secretStore: "vault" };
      e.secrets = Object.fromEntries(Object.keys(e.secrets).map((k) => [k, ""]));
    }),
    pull: renderBundle(t, (e) => { e.image.pullSecret = "regcred"; e.services["order-service"].autoscaling.enabled = false; }),
    certManager: renderBundle(t, (e) => { e.ingress.annotations = { "cert-manager.io/cluster-issuer": "letsencrypt" }; }),
  };
  for (const [name, dir] of Object.entries(variants)) {
    const script = readFileSync(join(dir, "apply.sh"), "utf8");
    const array = (n) => [...new RegExp(`readonly ${n}=\\(\\n([^)]*)\\)`).exec(script)?.[1].matchAll(/'([^']*)'/g) ?? []].map((m) => m[1]);
    const objects = objectsOf(dir);
    const ids = objects.map((o) => `${resourceOf(o)}/${o.metadata.name}`);
    assert.deepEqual([...array("BUNDLE_OBJECTS")].sort(), [...ids].sort(), `${name}: BUNDLE_OBJECTS`);
    // every reference a pod spec or an Ingress makes, computed here independently
    const refs = new Map();
    for (const o of objects) {
      const pod = o.spec?.template?.spec ?? o.spec?.jobTemplate?.spec?.template?.spec;
      for (const c of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) {
        for (const e of c.env ?? []) {
          if (e.valueFrom?.secretKeyRef) refs.set(`secret/${e.valueFrom.secretKeyRef.name}`, o);
          if (e.valueFrom?.configMapKeyRef) refs.set(`configmap/${e.valueFrom.configMapKeyRef.name}`, o);
        }
        for (const e of c.envFrom ?? []) {
          if (e.secretRef) refs.set(`secret/${e.secretRef.name}`, o);
          if (e.configMapRef) refs.set(`configmap/${e.configMapRef.name}`, o);
        }
      }
      for (const v of pod?.volumes ?? []) {
        if (v.secret) refs.set(`secret/${v.secret.secretName}`, o);
        if (v.configMap) refs.set(`configmap/${v.configMap.name}`, o);
        if (v.persistentVolumeClaim) refs.set(`persistentvolumeclaim/${v.persistentVolumeClaim.claimName}`, o);
      }
      for (const s of pod?.imagePullSecrets ?? []) refs.set(`secret/${s.name}`, o);
      if (pod?.serviceAccountName && pod.serviceAccountName !== "default") refs.set(`serviceaccount/${pod.serviceAccountName}`, o);
      for (const tls of (o.kind === "Ingress" ? o.spec.tls : []) ?? []) refs.set(`secret/${tls.secretName}`, o);
    }
    const made = objects.filter((o) => o.kind === "ExternalSecret").map((o) => `secret/${o.spec.target?.name ?? o.metadata.name}`);
    const outside = [...new Set([...refs.keys(), ...made])].filter((r) => !ids.includes(r)).sort();
    assert.deepEqual(array("REFERENCED"), outside, `${name}: REFERENCED`);
    const checks = [...script.matchAll(/^\tref_(required|optional|made) (\w+) '([^']+)'/gm)].map((m) => `${m[2]}/${m[3]}`).sort();
    assert.deepEqual(checks, outside, `${name}: check_references`);
    // replicas: kept from the cluster exactly where the manifest leaves them out
    for (const o of objects.filter((x) => ["Deployment", "StatefulSet"].includes(x.kind))) {
      const keep = script.includes(`\tkeep_replicas '${o.apiVersion}' '${o.kind}' '${resourceOf(o)}' '${o.metadata.name}'\n`);
      const own = script.includes(`\town_replicas ${o.kind.toLowerCase()} '${o.metadata.name}' ${o.spec.replicas}\n`);
      assert.equal(keep, o.spec.replicas === undefined, `${name}: keep_replicas ${o.metadata.name}`);
      assert.equal(own, o.spec.replicas !== undefined, `${name}: own_replicas ${o.metadata.name}`);
    }
    assert.equal(script.includes("ref_made secret 'msa-shop-tls' 'cert-manager'"), name === "certManager", `${name}: cert-manager`);
  }
});

test("reachability: unreachable is 4, kubectl missing is 3, a deployer refused ConfigMaps is warned", (t) => {
  const c = new Cluster(t, baseBundle()).on("auth can-i get configmaps *", "", 1, "The connection to the server was refused");
  let r = c.run();
  assert.equal(r.status, 4, out(r));
  assert.match(r.stderr, /cannot reach the cluster of context '\(current\)'/);
  assert.deepEqual(r.calls, [`auth can-i get configmaps -n ${NS} --request-timeout=15s`]);
  r = c.run(["--context", "prod-eu"]);
  assert.equal(r.status, 4);
  assert.match(r.calls[0], /^--context prod-eu auth can-i /);
  const bin = tempDir(t);
  for (const cmd of ["dirname"]) symlinkSync(tool("sh", ["-c", `command -v ${cmd}`]).out.trim(), join(bin, cmd));
  r = new Cluster(t, baseBundle()).run([], { path: bin });
  assert.equal(r.status, 3, out(r));
  assert.match(r.stderr, /kubectl not found/);
  r = new Cluster(t, baseBundle()).on("auth can-i get configmaps *", "no\n", 1).run();
  assert.equal(r.status, 0, out(r));
  assert.match(r.stderr, /may not read ConfigMaps/);
});

test("a deployer limited to its namespace: no cluster-scope read needed", (t) => {
  const c = new Cluster(t, baseBundle())
    .on(`auth can-i patch namespaces/${NS} *`, "no\n", 1)
    .on("get * --all-namespaces *", "", 1, "Error from server (Forbidden): ... cannot list resource at the cluster scope")
    .on(`get * -n ${NS} -l ${SEL} *`, "")
    .on("get ingressclass *", "", 1, "Error from server (Forbidden)")
    .on("get namespaces *", "", 1, "Error from server (Forbidden)");
  const r = c.run();
  assert.equal(r.status, 0, out(r));
  assert.ok(!applies(r.calls).some((x) => x.endsWith("-f 00-namespace.yaml")), "the Namespace it may not change is left out");
  assert.match(r.stdout, /namespace msa-shop-prod exists and this deployer may not change it/);
  assert.match(r.stdout, /other namespaces not searched/);
  assert.match(r.stdout, /cannot check IngressClass 'nginx'/);
  before(r.calls, "get ", `get configmaps,secrets,serviceaccounts,services,persistentvolumeclaims,pods,deployments.apps,statefulsets.apps,jobs.batch,ingresses.networking.k8s.io,horizontalpodautoscalers.autoscaling,poddisruptionbudgets.policy,externalsecrets.external-secrets.io -n ${NS} -l ${SEL}`);
  assert.ok(at(r.calls, `${SSA} -f 90-ingress.yaml`) > 0);
});

test("a namespace that existed before is marked, so --delete never takes it", (t) => {
  const r = new Cluster(t, baseBundle()).on(`get namespace ${NS} --ignore-not-found *`, `${NS}|||kubernetes|`).run();
  assert.equal(r.status, 0, out(r));
  before(r.calls, `${SSA} -f 00-namespace.yaml`, `annotate namespace ${NS} manifestd.io/existed-before=true --overwrite`);
});

test("first install: a missing TLS Secret stops before anything is applied (7); --allow-missing-references goes on", (t) => {
  const c = new Cluster(t, baseBundle()).firstInstall().on(`-n ${NS} get secret msa-shop-tls *`, "");
  let r = c.run();
  assert.equal(r.status, 7, out(r));
  assert.match(r.stderr, /secret\/msa-shop-tls \(the TLS certificate of Ingress\/msa-shop\)/);
  assert.match(r.stderr, /kubectl -n msa-shop-prod create secret tls NAME/);
  assert.deepEqual(applies(r.calls), []);
  r = c.run(["--allow-missing-references"]);
  assert.equal(r.status, 0, out(r));
  assert.match(r.stderr, /secret\/msa-shop-tls/);
  // nothing is live yet: no replicas to keep, no namespace permission to ask about
  assert.ok(!r.calls.some((x) => x.includes("manifestd-handover")));
  assert.ok(!r.calls.some((x) => x.startsWith("auth can-i patch")));
  before(r.calls, `${SSA} -f 00-namespace.yaml`, `${SSA} -f 10-config.yaml`);
});

test("first install: --dry-run=server checks the namespace server-side and the rest client-side; nothing changes", (t) => {
  const c = new Cluster(t, baseBundle()).firstInstall();
  let r = c.run(["--dry-run=server"]);
  assert.equal(r.status, 0, out(r));
  assert.ok(r.calls.includes(`${SSA} --dry-run=server -f 00-namespace.yaml`), r.calls.join("\n"));
  assert.ok(r.calls.includes("apply --dry-run=client -f 10-config.yaml"));
  for (const a of applies(r.calls)) assert.match(a, /--dry-run=/, a);
  assert.ok(!r.calls.some((x) => / (rollout|wait|annotate|delete) /.test(` ${x} `)), r.calls.join("\n"));
  assert.match(r.stdout, /dry run \(server\) of msa-shop-prod done; nothing was changed/);
  r = c.run(["--dry-run"]);
  assert.equal(r.status, 0, out(r));
  for (const a of applies(r.calls)) assert.match(a, /^apply --dry-run=client -f /, a);
  // on a cluster where the namespace exists, every file is checked server-side
  r = new Cluster(t, baseBundle()).run(["--dry-run=server"]);
  assert.equal(r.status, 0, out(r));
  assert.ok(r.calls.includes(`${SSA} --dry-run=server -f 10-config.yaml`));
});

test("first install: --diff shows everything as new (exit 1) and never prints Secret values", (t) => {
  const c = new Cluster(t, baseBundle()).firstInstall();
  const r = c.run(["--diff"]);
  assert.equal(r.status, 1, out(r));
  const diffs = r.calls.filter((x) => x.startsWith("diff "));
  assert.deepEqual(diffs, ["diff --server-side --field-manager=manifestd --force-conflicts -f 00-namespace.yaml"]);
  assert.match(r.stdout, /^\+kind: ConfigMap$/m);
  assert.match(r.stdout, /\+\+\+ 11-secrets\.yaml\n\+\(new; it holds Secret values, not shown\)/);
  const secret = objectsOf(baseBundle()).find((o) => o.kind === "Secret");
  for (const v of Object.values(secret.data)) assert.ok(!r.stdout.includes(v), "a Secret value printed");
  assert.deepEqual(applies(r.calls), []);
  // an existing namespace: one kubectl diff of every file, its exit code passed on
  const d = new Cluster(t, baseBundle()).on("diff *", "", 1);
  const e = d.run(["--diff"]);
  assert.equal(e.status, 1);
  assert.equal(e.calls.filter((x) => x.startsWith("diff ")).length, 1);
  assert.match(e.calls.find((x) => x.startsWith("diff ")), /-f 00-namespace\.yaml -f 10-config\.yaml .*-f 90-ingress\.yaml$/);
  assert.equal(new Cluster(t, baseBundle()).run(["--diff"]).status, 0);
  assert.equal(new Cluster(t, baseBundle()).on("diff *", "", 2).run(["--diff"]).status, 5);
});

test("autoscaling on: the live replica count is handed to a second field manager before the workload is applied", (t) => {
  const dep = objectsOf(baseBundle()).find((o) => o.kind === "Deployment" && o.metadata.name === "order-service");
  assert.equal(dep.spec.replicas, undefined, "the manifest leaves replicas to its autoscaler");
  const c = new Cluster(t, baseBundle()).on(`-n ${NS} get deployment.apps order-service --ignore-not-found *`, "7");
  let r = c.run();
  assert.equal(r.status, 0, out(r));
  const i = r.calls.findIndex((x, k) => x === "apply --server-side --field-manager=manifestd-handover --validate=false -f -" &&
    /name: 'order-service'/.test(r.stdin(k)));
  const handover = r.calls.map((x, k) => [x, k]).filter(([x]) => x.includes("manifestd-handover")).map(([, k]) => r.stdin(k));
  assert.deepEqual(handover.map((y) => /name: '([^']+)'/.exec(y)[1]), ["api-gateway", "order-service"]);
  assert.equal(handover[1], "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: 'order-service'\n  namespace: 'msa-shop-prod'\nspec:\n  replicas: 7\n");
  assert.ok(i >= 0 && i < at(r.calls, `${SSA} -f 50-order-service.yaml`));
  assert.match(r.stdout, /keeping the 7 replicas of deployment\.apps\/order-service/);
  // the autoscaler already owns the field: nothing to hand over, the apply goes on
  r = c.on("apply --server-side --field-manager=manifestd-handover *", "", 1, 'Apply failed with 1 conflict: conflict with "kube-controller-manager"').run();
  assert.equal(r.status, 0, out(r));
  // any other failure stops before the workload is applied
  r = new Cluster(t, baseBundle()).on("apply --server-side --field-manager=manifestd-handover *", "", 1, "Error from server (Forbidden)").run();
  assert.equal(r.status, 5, out(r));
  assert.equal(at(r.calls, `${SSA} -f 50-api-gateway.yaml`), -1);
  // a dry run asks nothing to change
  r = new Cluster(t, baseBundle()).run(["--dry-run=server"]);
  assert.ok(!r.calls.some((x) => x.includes("manifestd-handover")));
});

test("a StatefulSet whose fixed parts change is made anew (--cascade=orphan), its claims grown first; unchanged ones are left alone", (t) => {
  const STS = `-n ${NS} get statefulset`;
  const fixed = (svc, size) => `${svc}|data:standard-rwo:["ReadWriteOnce"]:${size};`;
  // an earlier release's set: serviceName mysql (not the headless one), a smaller volume
  let c = new Cluster(t, baseBundle()).on(`${STS} mysql --ignore-not-found *`, fixed("mysql", "20Gi"))
    .on(`-n ${NS} get pvc -o name`, "persistentvolumeclaim/data-mysql-0\npersistentvolumeclaim/data-other-0\n");
  let r = c.run();
  assert.equal(r.status, 0, out(r));
  before(r.calls, `-n ${NS} patch persistentvolumeclaim/data-mysql-0 --type=merge`, `-n ${NS} delete statefulset mysql --cascade=orphan`);
  before(r.calls, `-n ${NS} delete statefulset mysql --cascade=orphan`, `${SSA} -f 30-mysql.yaml`);
  assert.ok(!r.calls.some((x) => x.includes("data-other-0")), "only the set's own claims");
  assert.ok(r.calls.some((x) => x.includes('{"spec":{"resources":{"requests":{"storage":"50Gi"}}}}')));
  assert.match(r.stdout, /statefulset\/mysql: serviceName or volume claim templates change/);
  // the same fixed parts: nothing deleted
  r = new Cluster(t, baseBundle()).on(`${STS} mysql --ignore-not-found *`, fixed("mysql-headless", "50Gi")).run();
  assert.equal(r.status, 0, out(r));
  assert.deepEqual(deletes(r.calls), []);
  // a dry run only says so; a claim that cannot grow stops before the set is touched
  r = c.run(["--dry-run=server"]);
  assert.deepEqual(deletes(r.calls), []);
  assert.match(r.stdout, /would recreate statefulset\/mysql/);
  r = c.on(`-n ${NS} patch persistentvolumeclaim/data-mysql-0 *`, "", 1, "forbidden: only dynamically provisioned pvc can be resized").run();
  assert.equal(r.status, 5, out(r));
  assert.deepEqual(deletes(r.calls), []);
});

test("autoscaling off: the autoscaler an earlier bundle made goes before the workload is applied with the document's replicas", (t) => {
  const dir = renderBundle(t, (e) => { e.services["order-service"].autoscaling.enabled = false; });
  const c = new Cluster(t, dir);
  const hpa = obj("autoscaling/v2", "HorizontalPodAutoscaler", "order-service", { spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "order-service" } } });
  c.inventory.push(line(NS, hpa));
  c.on(`-n ${NS} get deployment order-service --ignore-not-found *`, "7");
  const r = c.run();
  assert.equal(r.status, 0, out(r));
  const del = `-n ${NS} delete horizontalpodautoscaler.autoscaling -l ${SEL} --field-selector metadata.name=order-service`;
  before(r.calls, `${SSA} -f 50-api-gateway.yaml`, del);
  before(r.calls, del, `${SSA} -f 50-order-service.yaml`);
  assert.match(r.stdout, /autoscaling is off for deployment\/order-service: horizontalpodautoscaler\.autoscaling\/order-service goes, replicas 7 -> 3 \(the document's\)/);
  assert.ok(!r.calls.some((x, k) => x.includes("manifestd-handover") && r.stdin(k).includes("order-service")));
  assert.equal(deletes(r.calls).length, 1);
  assert.doesNotMatch(r.stderr, /horizontalpodautoscaler/, "not reported as a left-over for --prune");
  assert.deepEqual(deletes(c.run(["--prune"]).calls).length, 1);
});

test("--prune keeps what the new bundle references (secretSource inline -> existing), volume claims and derived objects", (t) => {
  const dir = renderBundle(t, (e) => {
    e.secretSource = { type: "existing", name: "msa-shop-secrets" };
    e.secrets = Object.fromEntries(Object.keys(e.secrets).map((k) => [k, ""]));
  });
  const c = new Cluster(t, dir);
  c.inventory.push(
    line(NS, obj("v1", "Secret", "msa-shop-secrets")), // made inline by the earlier bundle
    line(NS, obj("apps/v1", "Deployment", "old-service")),
    line(NS, obj("v1", "PersistentVolumeClaim", "data-old-0")),
    line(NS, obj("apps/v1", "ReplicaSet", "old-service-5d8f"), { owners: "Deployment" }),
  );
  c.on(`-n ${NS} get secret msa-shop-secrets --ignore-not-found -o name`, "secret/msa-shop-secrets\n");
  let r = c.run();
  assert.equal(r.status, 0, out(r));
  assert.deepEqual(deletes(r.calls), []);
  assert.match(r.stderr, /--prune deletes them after applying:\n {4}deployment\.apps\/old-service\n/);
  assert.match(r.stdout, /secret\/msa-shop-secrets was made by an earlier bundle .* this one references it: kept/);
  r = c.run(["--prune"]);
  assert.equal(r.status, 0, out(r));
  assert.deepEqual(deletes(r.calls), [
    `-n ${NS} delete deployment.apps -l ${SEL} --field-selector metadata.name=old-service --ignore-not-found --cascade=background --wait=true --timeout=300s`,
  ]);
  before(r.calls, `${SSA} -f 90-ingress.yaml`, `-n ${NS} delete deployment.apps`);
  // the Secret the pods use must exist: missing, nothing is applied
  r = new Cluster(t, dir).on(`-n ${NS} get secret msa-shop-secrets *`, "").run(["--prune"]);
  assert.equal(r.status, 7, out(r));
  assert.match(r.stderr, /secret\/msa-shop-secrets \(environment variables of /);
  assert.deepEqual(applies(r.calls), []);
});

test("secretSource externalSecret -> inline: the ExternalSecret left behind is reported, and pruned without its Secret", (t) => {
  const c = new Cluster(t, baseBundle());
  c.inventory.push(line(NS, obj("external-secrets.io/v1beta1", "ExternalSecret", "msa-shop-secrets")));
  let r = c.run();
  assert.equal(r.status, 0, out(r));
  assert.match(r.stderr, /externalsecret\.external-secrets\.io\/msa-shop-secrets/);
  assert.deepEqual(deletes(r.calls), []);
  r = c.run(["--prune"]);
  assert.equal(r.status, 0, out(r));
  assert.deepEqual(deletes(r.calls), [
    `-n ${NS} delete externalsecret.external-secrets.io -l ${SEL} --field-selector metadata.name=msa-shop-secrets --ignore-not-found --cascade=orphan --wait=true --timeout=300s`,
  ]);
  // the other way round: the Secret the ExternalSecret makes is reported, not required
  const ext = renderBundle(t, (e) => {
    e.secretSource = { type: "externalSecret", secretStore: "vault" };
    e.secrets = Object.fromEntries(Object.keys(e.secrets).map((k) => [k, ""]));
  });
  r = new Cluster(t, ext).on(`-n ${NS} get secret msa-shop-secrets *`, "").run();
  assert.equal(r.status, 0, out(r));
  assert.match(r.stdout, /secret\/msa-shop-secrets does not exist yet: the External Secrets Operator makes it for ExternalSecret\/msa-shop-secrets/);
});

test("a changed namespace: the old environment is reported on every apply, and removed only with --prune --prune-old-namespace", (t) => {
  const NEW = "shop-new";
  const dir = renderBundle(t, (e) => { e.namespace = NEW; });
  const oldObjects = objectsOf(baseBundle()).filter((o) => o.kind !== "Namespace");
  const c = new Cluster(t, dir, NEW).firstInstall();
  c.inventory = oldObjects.map((o) => line(NS, o));
  c.on(`get namespaces -l ${SEL} -o name`, `namespace/${NS}\n`);
  c.on(`-n ${NEW} get secret msa-shop-tls *`, "secret/msa-shop-tls\n");
  c.on(`get namespace ${NS} --ignore-not-found *`, `${NS}|${STACK}|${ENV}|manifestd|`);
  const claim = "msa-shop-prod|v1|PersistentVolumeClaim|data-mysql-0|/||||";
  c.on(`get * -n ${NS} -o jsonpath=*`, [...c.inventory, claim].map((l) => `${l}\n`).join(""));
  let r = c.run();
  assert.equal(r.status, 0, out(r));
  assert.match(r.stderr, /namespace msa-shop-prod still holds this environment from an earlier bundle \(this one uses shop-new\), Ingress included/);
  assert.match(r.stderr, /^ {4}ingress\.networking\.k8s\.io\/msa-shop$/m);
  assert.deepEqual(deletes(r.calls), []);
  assert.equal(c.run(["--prune-old-namespace"]).status, 2);
  r = c.run(["--prune"]);
  assert.deepEqual(deletes(r.calls), [], "--prune alone keeps the old namespace");
  r = c.run(["--prune", "--prune-old-namespace"]);
  assert.equal(r.status, 0, out(r));
  const oldIngress = `-n ${NS} delete ingress.networking.k8s.io -l ${SEL} --field-selector metadata.name=msa-shop `;
  before(r.calls, `-n ${NEW} rollout status deployment/user-service`, oldIngress);
  before(r.calls, oldIngress, `${SSA} -f 90-ingress.yaml`);
  before(r.calls, `${SSA} -f 90-ingress.yaml`, `-n ${NS} delete deployment.apps -l ${SEL} --field-selector metadata.name=api-gateway `);
  assert.equal(deletes(r.calls).filter((x) => x.includes("ingress.networking.k8s.io")).length, 1);
  assert.equal(deletes(r.calls).length, oldObjects.length, deletes(r.calls).join("\n"));
  assert.ok(!deletes(r.calls).some((x) => /persistentvolumeclaim|delete namespaces/.test(x)), "volume claims and the namespace holding them stay");
  assert.match(r.stdout, /namespace msa-shop-prod is kept:\n {4}persistentvolumeclaim\/data-mysql-0 \(a volume claim: data/);
  // nothing else left in it: the old namespace goes too
  c.rules = c.rules.filter(([p]) => !p.startsWith(`get * -n ${NS} -o`));
  c.on(`get * -n ${NS} -o jsonpath=*`, "msa-shop-prod|v1|ConfigMap|kube-root-ca.crt|/||||\n");
  r = c.run(["--prune", "--prune-old-namespace"]);
  assert.equal(r.status, 0, out(r));
  assert.equal(r.calls.at(-1), `delete namespaces -l ${SEL} --field-selector metadata.name=${NS} --ignore-not-found --wait=true --timeout=300s`);
});

test("a failed Job stops the wait at once with its logs (6); a Job still running waits for the timeout", (t) => {
  for (const state of ["Failed ", "FailureTarget "]) {
    const r = new Cluster(t, baseBundle())
      .on(`-n ${NS} get job/* -o jsonpath=*`, state)
      .on(`-n ${NS} logs job/*`, "Access denied for user 'root'@'10.0.0.7'\n")
      .run();
    assert.equal(r.status, 6, out(r));
    assert.ok(r.ms < 5000, `waited ${r.ms} ms`);
    assert.match(r.stderr, /job\/mysql-init-[0-9a-f]+ failed; its logs:\nAccess denied for user 'root'/);
    assert.ok(r.calls.some((x) => /^-n msa-shop-prod logs job\/mysql-init-[0-9a-f]+ --all-containers=true --tail=200$/.test(x)));
    assert.equal(at(r.calls, `${SSA} -f 50-`), -1, "nothing after the failed job is applied");
  }
  const r = new Cluster(t, baseBundle()).on(`-n ${NS} get job/* -o jsonpath=*`, "").run(["--timeout=1s"]);
  assert.equal(r.status, 6, out(r));
  assert.match(r.stderr, /did not complete within 1s/);
  assert.ok(r.ms >= 900, `gave up after ${r.ms} ms`);
});

test("apply and rollout failures stop with 5 and 6", (t) => {
  let r = new Cluster(t, baseBundle()).on(`${SSA} -f 30-mysql.yaml`, "", 1).run();
  assert.equal(r.status, 5, out(r));
  assert.equal(at(r.calls, `${SSA} -f 31-`), -1);
  r = new Cluster(t, baseBundle()).on(`-n ${NS} rollout status statefulset/rabbitmq *`, "", 1).run();
  assert.equal(r.status, 6, out(r));
  assert.match(r.stderr, /statefulset\/rabbitmq did not finish its rollout within 300s/);
  assert.equal(at(r.calls, `${SSA} -f 31-`), -1);
  r = new Cluster(t, baseBundle()).on("get ingressclass nginx *", "").run();
  assert.equal(r.status, 0, out(r));
  assert.match(r.stderr, /no IngressClass 'nginx'/);
});

test("--delete lists first, needs --yes or a typed confirmation (8), has a dry run, keeps volume claims and foreign namespaces", (t) => {
  const claim = `${NS}|v1|PersistentVolumeClaim|data-mysql-0|/||||`;
  const c = new Cluster(t, baseBundle())
    .on(`-n ${NS} get persistentvolumeclaims -o jsonpath=*`, `${claim}\n`)
    .on(`get * -n ${NS} -o jsonpath=*`, `${claim}\n${NS}|v1|ServiceAccount|default|/||||\n`);
  c.inventory = c.inventory.filter((l) => !l.includes("|Ingress|")); // the Ingress is gone already
  let r = c.run(["--delete"]);
  assert.equal(r.status, 8, out(r));
  assert.match(r.stderr, /--delete needs --yes when it does not run on a terminal; nothing was deleted/);
  assert.match(r.stdout, /would delete:\n( {4}\S+\n)*? {4}deployment\.apps\/user-service\n/);
  assert.match(r.stdout, /keeps the volume claims \(data; --delete-volumes deletes them\):\n {4}persistentvolumeclaim\/data-mysql-0/);
  assert.match(r.stdout, /keeps namespace msa-shop-prod:\n {4}persistentvolumeclaim\/data-mysql-0 \(a volume claim/);
  assert.deepEqual(deletes(r.calls), []);
  r = c.run(["--delete", "--dry-run"]);
  assert.equal(r.status, 0, out(r));
  assert.match(r.stdout, /dry run: nothing was deleted/);
  assert.deepEqual(deletes(r.calls), []);
  r = c.run(["--delete", "--yes"]);
  assert.equal(r.status, 0, out(r));
  const gone = deletes(r.calls).map((x) => x.split(" ")[3] + "/" + /metadata\.name=(\S+)/.exec(x)[1]);
  const want = objectsOf(baseBundle()).filter((o) => !["Namespace", "Ingress"].includes(o.kind)).map((o) => `${resourceOf(o)}/${o.metadata.name}`);
  assert.deepEqual([...gone].sort(), [...want].sort());
  assert.ok(gone.indexOf("deployment.apps/user-service") < gone.indexOf("statefulset.apps/mysql"), "workloads before what they use");
  assert.ok(gone.indexOf("statefulset.apps/mysql") < gone.indexOf("secret/msa-shop-secrets"));
  assert.ok(!deletes(r.calls).some((x) => /persistentvolumeclaim|delete namespaces/.test(x)));
  // --delete-volumes: the claims go, then the namespace manifestd made (nothing else is in it)
  r = c.run(["--delete", "--yes", "--delete-volumes"]);
  assert.equal(r.status, 0, out(r));
  before(r.calls, `-n ${NS} delete persistentvolumeclaim/data-mysql-0`, `delete namespaces -l ${SEL} --field-selector metadata.name=${NS}`);
  // a namespace manifestd did not create, or that holds what it did not make, is kept and named
  r = new Cluster(t, baseBundle()).on(`get namespace ${NS} --ignore-not-found *`, `${NS}|||kubernetes|`).run(["--delete", "--yes", "--delete-volumes"]);
  assert.match(r.stdout, /keeps namespace msa-shop-prod:\n {4}\(manifestd did not create it for msa-shop\/prod\)/);
  assert.ok(!deletes(r.calls).some((x) => x.includes("delete namespaces")));
  r = new Cluster(t, baseBundle()).on(`get * -n ${NS} -o jsonpath=*`, `${NS}|rbac.authorization.k8s.io/v1|RoleBinding|deployers|/||||\n`).run(["--delete", "--yes"]);
  assert.match(r.stdout, /keeps namespace msa-shop-prod:\n {4}rolebinding\.rbac\.authorization\.k8s\.io\/deployers \(not made by manifestd for msa-shop\/prod\)/);
  assert.ok(!deletes(r.calls).some((x) => x.includes("delete namespaces")));
  // a StatefulSet that would take its claims with it is switched to Retain first
  r = new Cluster(t, baseBundle()).on(`-n ${NS} get statefulset.apps mysql --ignore-not-found -o jsonpath=*`, "Delete").run(["--delete", "--yes"]);
  before(r.calls, `-n ${NS} patch statefulset.apps mysql --type=merge`, `-n ${NS} delete statefulset.apps -l ${SEL} --field-selector metadata.name=mysql`);
});

test("--delete asks for the namespace name on a terminal", (t) => {
  if (tool("sh", ["-c", "command -v script"]).status !== 0) return t.skip("script(1) is not installed");
  const c = new Cluster(t, baseBundle());
  const runOnTty = (answer) => {
    const dir = c.fakeDir();
    const cmd = `printf '%s\\n' '${answer}' | script -qec "bash '${join(c.bundle, "apply.sh")}' --delete" /dev/null`;
    const r = spawnSync("sh", ["-c", cmd], { encoding: "utf8", env: { ...process.env, PATH: `${FAKE}:${process.env.PATH}`, FAKE_KUBECTL: dir } });
    return { status: r.status, out: r.stdout, calls: readFileSync(join(dir, "log"), "utf8").split("\n").filter(Boolean) };
  };
  let r = runOnTty("nope");
  assert.equal(r.status, 8, r.out);
  assert.match(r.out, /Type the namespace name \(msa-shop-prod\) to delete the above/);
  assert.deepEqual(deletes(r.calls), []);
  r = runOnTty(NS);
  assert.equal(r.status, 0, r.out);
  assert.ok(deletes(r.calls).length > 10);
});

test("usage errors exit 2 before kubectl is called", (t) => {
  const c = new Cluster(t, baseBundle());
  for (const args of [
    ["--bogus"], ["--timeout", "5 minutes"], ["--timeout=0s"], ["--dry-run=maybe"], ["--diff", "--delete"],
    ["--diff", "--prune"], ["--diff", "--dry-run"], ["--delete", "--prune"], ["--yes"], ["--delete-volumes"],
    ["--prune-old-namespace"], ["--context"], ["--delete", "--allow-missing-references"],
  ]) {
    const r = c.run(args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${out(r)}`);
    assert.deepEqual(r.calls, [], args.join(" "));
  }
  const r = c.run(["--help"]);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /Exit codes: 0 done, 1 differences found .* 7 a Secret or\nConfigMap the bundle references is missing/s);
});
