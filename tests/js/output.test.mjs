// The rendered bundles (every golden one: msa-shop's and the fixture stacks'), checked with tools nobody here wrote: kubernetes-models (made
// strict about unknown fields), the `yaml` package reading YAML 1.1, shellcheck, bash,
// tar, unzip and, when installed, kubectl kustomize. Plus cross-references between
// objects, provenance, secrets kept out of workloads, the golden bundles, and a
// property test of hostile strings.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "node:test";

import {
  goldenCases, has, manifests, parseYaml11, prng, readFolder, render, renderAllWays, root, run, strings, tempDir, tool,
} from "./lib/bundle.mjs";
import { customResourceCheck, modelFor, schemaErrors, unknownFields } from "./lib/k8s-strict.mjs";

const STACK = "msa-shop";
const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"]);
const seed = (name) => JSON.parse(readFileSync(join(root, "migrations/seed", STACK, `${name}.json`), "utf8"));
const id = (o) => `${o.kind}/${o.metadata?.name}`;

function podTemplate(o) {
  if (o.kind === "CronJob") return o.spec?.jobTemplate?.spec?.template;
  return WORKLOADS.has(o.kind) ? o.spec?.template : undefined;
}

function containers(o) {
  const spec = podTemplate(o)?.spec ?? {};
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
}

/** Every { configMapKeyRef | secretKeyRef }, envFrom, and configMap, secret, projected
 * and persistentVolumeClaim volume of an object. */
function* references(o) {
  for (const c of containers(o)) {
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef) yield { kind: "ConfigMap", ...e.valueFrom.configMapKeyRef, where: `${c.name} env ${e.name}` };
      if (e.valueFrom?.secretKeyRef) yield { kind: "Secret", ...e.valueFrom.secretKeyRef, where: `${c.name} env ${e.name}` };
    }
    for (const e of c.envFrom ?? []) {
      if (e.configMapRef) yield { kind: "ConfigMap", ...e.configMapRef, where: `${c.name} envFrom` };
      if (e.secretRef) yield { kind: "Secret", ...e.secretRef, where: `${c.name} envFrom` };
    }
  }
  for (const v of podTemplate(o)?.spec?.volumes ?? []) {
    if (v.configMap) yield { kind: "ConfigMap", name: v.configMap.name, optional: v.configMap.optional, where: `volume ${v.name}` };
    if (v.secret) yield { kind: "Secret", name: v.secret.secretName, optional: v.secret.optional, where: `volume ${v.name}` };
    if (v.persistentVolumeClaim) yield { kind: "PersistentVolumeClaim", name: v.persistentVolumeClaim.claimName, where: `volume ${v.name}` };
    for (const src of v.projected?.sources ?? []) {
      for (const kind of ["configMap", "secret"]) {
        for (const item of src[kind]?.items ?? []) {
          yield { kind: kind === "secret" ? "Secret" : "ConfigMap", name: src[kind].name, key: item.key, where: `volume ${v.name} ${item.path}` };
        }
      }
    }
  }
}

function keysOf(o) {
  return new Set([...Object.keys(o.data ?? {}), ...Object.keys(o.stringData ?? {}), ...Object.keys(o.binaryData ?? {})]);
}

function matches(selector, labels) {
  return Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
}

const CASE_DIR = mkdtempSync(join(tmpdir(), "manifestd-cases-"));
process.on("exit", () => rmSync(CASE_DIR, { recursive: true, force: true }));
const CASES = goldenCases(CASE_DIR);

test("every golden folder is a bundle rendered by the output tests, and the other way round", () => {
  const folders = readdirSync(join(root, "tests/data/golden")).sort();
  assert.deepEqual(CASES.map((c) => c.folder).sort(), folders);
});

for (const c of CASES) {
  test(`${c.folder}: the bundle, checked by outside tools`, async (t) => {
    const base = tempDir(t);
    const ways = renderAllWays(base, c.stackArg, c.envArg, c.folder);
    const files = readFolder(ways.dir);
    const items = manifests(ways.dir);
    const objects = items.map((i) => i.obj);
    const isShop = c.stack === STACK;

    await t.test("dir, tar.gz and zip hold the same files and modes: Secret values 0600, apply.sh 0755, the rest 0644", () => {
      assert.ok(Object.keys(files).length > 5);
      for (const way of ["tar.gz", "zip"]) assert.deepEqual(readFolder(ways[way]), files, way);
      const secretFiles = new Set(items.filter(({ obj }) => obj.kind === "Secret" &&
        Object.keys({ ...obj.data, ...obj.stringData }).length > 0).map((i) => i.file));
      if (isShop) assert.ok(secretFiles.size > 0, "the environment's secrets are in a file");
      for (const [name, f] of Object.entries(files)) {
        assert.equal(f.mode, name === "apply.sh" ? 0o755 : secretFiles.has(name) ? 0o600 : 0o644, name);
      }
      assert.ok(files["README.md"] && files["apply.sh"] && files["kustomization.yaml"]);
    });

    await t.test("every object validates against its Kubernetes schema, strictly", async () => {
      for (const { file, index, obj } of items) {
        const Model = await modelFor(obj.apiVersion, obj.kind);
        assert.ok(Model, `${file}#${index}: no kubernetes-models class for ${obj.apiVersion} ${obj.kind}`);
        assert.deepEqual(schemaErrors(Model, obj), [], `${file}#${index} ${id(obj)}`);
        assert.deepEqual(unknownFields(Model, obj), [], `${file}#${index} ${id(obj)}: unknown fields`);
        assert.ok(obj.metadata?.name, `${file}#${index}: no metadata.name`);
      }
    });

    await t.test("no two objects share a kind and a name", () => {
      const seen = new Set();
      for (const o of objects) {
        assert.ok(!seen.has(id(o)), `${id(o)} twice`);
        seen.add(id(o));
      }
    });

    await t.test("YAML read as 1.1 equals the JSON format, value for value", () => {
      const list = JSON.parse(render(["--stack", c.stackArg, "--env", c.envArg, "--format", "json"]).stdout.toString());
      assert.equal(list.kind, "List");
      assert.deepEqual(objects, list.items);
      const stream = parseYaml11(render(["--stack", c.stackArg, "--env", c.envArg, "--format", "yaml"]).stdout.toString(), "yaml stream");
      assert.deepEqual(stream, list.items);
      // the same, spelled out for strings: a YAML 1.1 reader keeps every string a string
      const want = new Map([...strings(list.items)]);
      const got = new Map([...strings(stream)]);
      assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
      for (const [path, v] of want) assert.equal(got.get(path), v, path);
    });

    await t.test("apply.sh passes bash -n and shellcheck", (tt) => {
      const script = join(ways.dir, "apply.sh");
      const n = tool("bash", ["-n", script]);
      assert.equal(n.status, 0, n.out);
      assert.match(files["apply.sh"].text, /^#!\/usr\/bin\/env bash\n/);
      if (!has("shellcheck")) return tt.skip("shellcheck is not installed");
      const sc = tool("shellcheck", [script]);
      assert.equal(sc.status, 0, sc.out);
      assert.equal(sc.out, "");
    });

    await t.test("every Service selects pods that expose its target ports", () => {
      const workloads = objects.filter((o) => WORKLOADS.has(o.kind));
      for (const svc of objects.filter((o) => o.kind === "Service")) {
        const sel = svc.spec.selector;
        assert.ok(sel && Object.keys(sel).length, `${id(svc)} has no selector`);
        const pods = workloads.filter((w) => matches(sel, podTemplate(w).metadata?.labels));
        assert.ok(pods.length > 0, `${id(svc)} selects no workload`);
        for (const p of svc.spec.ports ?? []) {
          const target = p.targetPort ?? p.port;
          const ok = pods.some((w) => podTemplate(w).spec.containers.some((ct) => (ct.ports ?? []).some((cp) =>
            typeof target === "number" ? cp.containerPort === target : cp.name === target)));
          assert.ok(ok, `${id(svc)} port ${p.name ?? p.port}: no selected container exposes ${target}`);
        }
      }
    });

    await t.test("every StatefulSet is governed by a headless Service of the bundle", () => {
      for (const set of objects.filter((o) => o.kind === "StatefulSet")) {
        const svc = objects.find((o) => o.kind === "Service" && o.metadata.name === set.spec.serviceName);
        assert.ok(svc, `${id(set)}: no Service ${set.spec.serviceName}`);
        assert.equal(svc.spec.clusterIP, "None", `${id(svc)} is not headless`);
        assert.ok(matches(svc.spec.selector, set.spec.template.metadata.labels), `${id(svc)} does not select ${id(set)}`);
      }
    });

    await t.test("every Ingress backend is a Service with that port", () => {
      const ingresses = objects.filter((o) => o.kind === "Ingress");
      assert.equal(ingresses.length, "90-ingress.yaml" in files ? 1 : 0);
      for (const ing of ingresses) {
        const backends = [ing.spec.defaultBackend, ...(ing.spec.rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => p.backend))]
          .filter(Boolean);
        assert.ok(backends.length > 0, `${id(ing)} has no backend`);
        for (const b of backends) {
          const svc = objects.find((o) => o.kind === "Service" && o.metadata.name === b.service.name);
          assert.ok(svc, `${id(ing)}: no Service ${b.service.name}`);
          const port = b.service.port;
          assert.ok(svc.spec.ports.some((p) => (port.number !== undefined ? p.port === port.number : p.name === port.name)),
            `${id(ing)}: Service ${b.service.name} has no port ${JSON.stringify(port)}`);
        }
      }
    });

    await t.test("every reference to a ConfigMap, Secret or claim resolves to an object (and key) of the bundle", () => {
      let count = 0;
      for (const o of objects) {
        for (const ref of references(o)) {
          if (ref.optional) continue;
          // a Secret the operator creates (secretSource existing) is not in the bundle
          const existing = c.envDoc.secretSource?.type === "existing" ? c.envDoc.secretSource.name : undefined;
          if (ref.kind === "Secret" && existing && ref.name === existing) continue;
          const target = objects.find((x) => x.kind === ref.kind && x.metadata.name === ref.name);
          assert.ok(target, `${id(o)} ${ref.where}: no ${ref.kind} ${ref.name}`);
          if (ref.key !== undefined) assert.ok(keysOf(target).has(ref.key), `${id(o)} ${ref.where}: ${ref.kind} ${ref.name} has no key ${ref.key}`);
          count++;
        }
      }
      if (isShop) assert.ok(count > 10, `only ${count} references`);
    });

    await t.test("no secret value of the environment appears in a workload", () => {
      const secrets = Object.values(c.envDoc.secrets ?? {}).filter((v) => typeof v === "string" && v.length > 0);
      if (isShop) assert.ok(secrets.length > 0);
      for (const o of objects.filter((x) => WORKLOADS.has(x.kind))) {
        const text = JSON.stringify(o);
        for (const s of secrets) {
          assert.ok(!text.includes(s), `${id(o)} contains a secret value`);
          assert.ok(!text.includes(Buffer.from(s).toString("base64")), `${id(o)} contains a base64 secret value`);
        }
      }
    });

    await t.test("provenance: labels on every object, revision and hash in the bundle ConfigMap only", () => {
      const hash = /\| bundle hash \| `([0-9a-f]{64})` \|/.exec(files["README.md"].text)?.[1];
      assert.ok(hash, "README.md states the bundle hash");
      for (const o of objects) {
        const l = o.metadata.labels ?? {};
        assert.equal(l["manifestd.io/stack"], c.stack, id(o));
        assert.equal(l["manifestd.io/environment"], c.env, id(o));
        assert.equal(l["app.kubernetes.io/managed-by"], "manifestd", id(o));
        assert.ok(!JSON.stringify(o.metadata.annotations ?? {}).includes(hash), `${id(o)} carries the bundle hash`);
        assert.equal(o.metadata.annotations?.["manifestd.io/revision"], undefined, id(o));
      }
      const prov = objects.filter((o) => JSON.stringify(o).includes(hash));
      assert.deepEqual(prov.map(id), [`ConfigMap/${c.stack}-bundle`]);
      assert.deepEqual(prov[0].data, {
        stack: c.stack, environment: c.env, namespace: prov[0].metadata.namespace, revision: "0", bundleHash: hash,
        manifestdVersion: prov[0].data.manifestdVersion,
      });
      assert.ok(files["README.md"].text.includes(`ConfigMap \`${c.stack}-bundle\``));
    });

    await t.test("kustomization.yaml lists exactly the manifest files", () => {
      const kust = parseYaml11(files["kustomization.yaml"].text)[0];
      assert.equal(kust.apiVersion, "kustomize.config.k8s.io/v1beta1");
      assert.equal(kust.kind, "Kustomization");
      const yamls = Object.keys(files).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");
      assert.deepEqual(kust.resources, yamls);
      for (const f of yamls) assert.ok(files["README.md"].text.includes(`\`${f}\``), `README.md lists ${f}`);
    });

    await t.test("kubectl kustomize yields the same objects", (tt) => {
      if (!has("kubectl")) return tt.skip("kubectl is not installed");
      const k = tool("kubectl", ["kustomize", ways.dir]);
      assert.equal(k.status, 0, k.out);
      const key = (o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
      const byKey = (list) => Object.fromEntries(list.map((o) => [key(o), o]));
      assert.deepEqual(byKey(parseYaml11(k.out, "kubectl kustomize")), byKey(objects));
    });

    await t.test("the folder equals the golden bundle byte for byte", () => {
      const golden = join(root, "tests/data/golden", c.folder);
      const want = readFolder(golden);
      assert.deepEqual(Object.keys(files), Object.keys(want), "file list (regenerate with tests/regen-golden)");
      for (const name of Object.keys(want)) {
        assert.equal(files[name].text, want[name].text, `${name} differs from ${golden} (review, then tests/regen-golden)`);
      }
    });
  });
}

test("the strict check flags a misspelled field that validate() lets through", async () => {
  const { stdout } = render(["--stack", STACK, "--env", "dev", "--format", "json"]);
  const deployment = JSON.parse(stdout.toString()).items.find((o) => o.kind === "Deployment");
  const Model = await modelFor("apps/v1", "Deployment");
  assert.deepEqual(unknownFields(Model, deployment), []);
  const bad = structuredClone(deployment);
  const c = bad.spec.template.spec.containers[0];
  assert.ok(c.livenessProbe, "the Deployment has a livenessProbe to misspell");
  c.livenesProbe = c.livenessProbe;
  delete c.livenessProbe;
  bad.spec.replicaz = 2;
  assert.deepEqual(schemaErrors(Model, bad), [], "kubernetes-models' own validate() misses it");
  assert.deepEqual(unknownFields(Model, bad).sort(), [".spec.replicaz", ".spec.template.spec.containers[0].livenesProbe"]);
  // maps stay open: any label key is fine
  bad.metadata.labels["example.com/any-key"] = "x";
  assert.equal(unknownFields(Model, bad).length, 2);
});

// Pieces of strings that YAML readers like to turn into something else.
const ATOMS = [
  "'", '"', "\n", "\n\n", ": ", ":", "#", " #x", "---", "...", "- ", "? ", "&a", "*a", "!x", "%", "@", "`", "{", "}",
  "[", "]", "|", ">", ",", "\\", "\t", "\r\n", " ", "  ", "yes", "no", "on", "off", "y", "n", "Yes", "NO", "true",
  "null", "~", "0123", "0x1F", "0o17", "1e3", "+1", "-.5", ".inf", "12:30", "1:20:30", "2026-11-24", "<<", "=",
  "é", "日本語", "🙂", "\u00a0", "\u0085", "\u0007", "\u001b", "\ufeff", "\r", "plain",
];

/** Renders with each value in a config key and an env var of the first service and
 * checks that the YAML (read as 1.1) gives back exactly those strings. */
function roundTrip(values, label) {
  const stack = seed("stack");
  const service = Object.keys(stack.services)[0];
  const sets = values.flatMap((v, i) => [
    "--set", `/config/prop-k${i}=${JSON.stringify(v)}`,
    "--set", `/services/${service}/env/PROP_V${i}=${JSON.stringify({ value: v })}`,
  ]);
  const args = ["--stack", STACK, "--env", "dev", ...sets];
  const yaml = parseYaml11(render([...args, "--format", "yaml"]).stdout.toString(), label);
  const json = JSON.parse(render([...args, "--format", "json"]).stdout.toString()).items;
  const cm = yaml.find((o) => o.kind === "ConfigMap" && o.data && "prop-k0" in o.data);
  const dep = yaml.find((o) => o.kind === "Deployment" && o.metadata.name === service);
  assert.ok(cm && dep, `${label}: ConfigMap and Deployment ${service}`);
  const envs = Object.fromEntries(dep.spec.template.spec.containers.flatMap((c) => c.env ?? []).map((e) => [e.name, e.value]));
  values.forEach((v, i) => {
    assert.equal(cm.data[`prop-k${i}`], v, `${label}: config value ${JSON.stringify(v)}`);
    assert.equal(envs[`PROP_V${i}`], v, `${label}: env value ${JSON.stringify(v)}`);
  });
  assert.deepEqual(yaml, json, `${label}: YAML and JSON disagree`);
}

test("hostile strings in config and env values read back exactly", () => {
  const rnd = prng(20261124);
  const pick = () => ATOMS[Math.floor(rnd() * ATOMS.length)];
  roundTrip([...ATOMS, "", " leading", "trailing ", "a: b # c\n---\n- d"], "every atom");
  for (let round = 0; round < 4; round++) {
    const values = Array.from({ length: 40 }, () => Array.from({ length: 1 + Math.floor(rnd() * 5) }, pick).join(""));
    roundTrip(values, `round ${round}`);
  }
});

// Left to itself libyaml writes U+2028/U+2029 raw inside a single-quoted scalar followed by
// the indentation of a new line, which the `yaml` package (YAML 1.1 mode) reads back with the
// indentation; yamlout double-quotes such strings (libyaml then writes \L and \P).
test("line and paragraph separators read back exactly", () => {
  roundTrip(["\u2028", "a\u2029b", "x\u2028 y"], "separators");
});

test("render reports problems with the documented exit codes", (t) => {
  const dir = tempDir(t);
  let r = run(["render", "--stack", STACK, "--env", "dev", "--set", "/services/nope-service/replicas=-1", "--set", "/image/tag=\"\""]);
  assert.equal(r.status, 2, r.stderr);
  for (const line of r.stderr.trim().split("\n")) assert.match(line, /^(\/[^:]*|\(document\)): \S/);
  // problems only the rendered objects show are exit 2 as well
  r = run(["render", "--stack", STACK, "--env", "dev", "--set", '/patches/p={"target":{"kind":"Job","name":"nope"},"merge":{}}']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^\/patches\/p\/target: names the Job "nope", which the bundle does not render/m);
  r = run(["render", "--stack", "no-such-stack", "--env", "dev"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^manifestd render: unknown built-in stack 'no-such-stack' \(known: .*msa-shop/);
  r = run(["render", "--stack", STACK, "--env", "qa"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /known: .*dev.*prod/);
  writeFileSync(join(dir, "broken.json"), '{\n  "image": {"tag": "1.0",}\n}\n');
  r = run(["render", "--stack", STACK, "--env", join(dir, "broken.json")]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /broken\.json': line 2 column \d+/);
  r = run(["render", "--stack", STACK, "--env", "dev", "--format", "dir"]);
  assert.equal(r.status, 1);
  r = run(["render", "--help"]);
  assert.equal(r.status, 0);
  assert.match(r.stdout.toString(), /--stack NAME\|FILE --env NAME\|FILE/);
  // a stack and an environment given as files, named after the files
  writeFileSync(join(dir, "shop.json"), readFileSync(join(root, "migrations/seed", STACK, "stack.json")));
  writeFileSync(join(dir, "qa.json"), readFileSync(join(root, "migrations/seed", STACK, "dev.json")));
  render(["--stack", join(dir, "shop.json"), "--env", join(dir, "qa.json"), "-o", join(dir, "out")]);
  assert.ok(readdirSync(join(dir, "out", "shop-qa")).includes("apply.sh"));
});

// Words a YAML 1.1 reader turns into booleans, nulls, numbers or timestamps when they stand
// alone: the values of the restricted fields below are drawn from these.
const RISKY_WORDS = ["yes", "no", "on", "off", "y", "n", "true", "null", "0123", "1e3", "0x1f", "12", "1-2", "2026-11-24", "nan"];

/** Every string field of the document at once: free text (config, env and secret values,
 * ingress annotations, probe paths) from ATOMS, and the restricted ones (keys, namespace,
 * host, RabbitMQ user, image tag) from words YAML 1.1 likes to reinterpret. The YAML must
 * read back exactly those strings (and equal the JSON format), and apply.sh must stay
 * shellcheck-clean. */
function everyStringField(rnd, round, t) {
  const pick = (list) => list[Math.floor(rnd() * list.length)];
  const text = () => Array.from({ length: 1 + Math.floor(rnd() * 5) }, () => pick(ATOMS)).join("");
  const word = () => pick(RISKY_WORDS);
  const pathText = () => "/" + text().replace(/[\s\u0000-\u001f\u007f-\u009f\u00a0\u2028\u2029\ufeff]/g, "");
  const stack = seed("stack");
  const service = Object.keys(stack.services)[0];
  const env = seed("dev");
  const want = { config: {}, secrets: {}, annotations: {}, env: {} };
  const keys = [...new Set(Array.from({ length: 6 }, word))];
  for (const k of keys) want.config[k] = text();
  for (const k of keys) want.secrets[`s-${k}`] = text();
  for (let i = 0; i < 4; i++) want.annotations[`example.com/${word()}-${i}`] = text();
  for (let i = 0; i < 4; i++) want.env[`V_${i}`] = text();
  want.namespace = pick(RISKY_WORDS.filter((w) => /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(w)));
  want.host = `${word()}.${word()}.example`.replace(/[^a-z0-9.-]/g, "x");
  want.user = word();
  want.tag = word();
  want.path = pathText();
  env.namespace = want.namespace;
  env.image = { ...env.image, tag: want.tag };
  env.config = { ...env.config, ...want.config };
  env.secrets = { ...env.secrets, ...want.secrets };
  env.ingress = { ...env.ingress, annotations: want.annotations, rules: { main: { host: want.host, tls: { enabled: true } } } };
  env.components = { ...env.components, rabbitmq: { ...env.components?.rabbitmq, user: want.user } };
  env.services = { [service]: { env: Object.fromEntries(Object.entries(want.env).map(([k, v]) => [k, { value: v }])), probes: { readiness: { httpGet: { path: want.path } } } } };
  const dir = tempDir(t);
  const envFile = join(dir, `r${round}.json`);
  writeFileSync(envFile, JSON.stringify(env));
  const args = ["--stack", STACK, "--env", envFile];
  const label = `round ${round}`;
  const yaml = parseYaml11(render([...args, "--format", "yaml"]).stdout.toString(), label);
  const json = JSON.parse(render([...args, "--format", "json"]).stdout.toString()).items;
  assert.deepEqual(yaml, json, `${label}: YAML and JSON disagree`);
  const find = (kind, pred = () => true) => yaml.find((o) => o.kind === kind && pred(o));
  const cm = find("ConfigMap", (o) => o.data && keys[0] in o.data);
  const secret = find("Secret", (o) => o.data && `s-${keys[0]}` in o.data);
  const ingress = find("Ingress");
  const dep = find("Deployment", (o) => o.metadata.name === service);
  const mq = find("StatefulSet", (o) => o.metadata.name === "rabbitmq");
  assert.ok(cm && secret && ingress && dep && mq, `${label}: the objects that carry the values`);
  for (const [k, v] of Object.entries(want.config)) assert.equal(cm.data[k], v, `${label}: config ${k}`);
  for (const [k, v] of Object.entries(want.secrets)) assert.equal(Buffer.from(secret.data[k], "base64").toString("utf8"), v, `${label}: secret ${k}`);
  assert.deepEqual(Object.fromEntries(Object.entries(ingress.metadata.annotations ?? {}).filter(([k]) => k.startsWith("example.com/"))), want.annotations, `${label}: annotations`);
  assert.equal(ingress.spec.rules[0].host, want.host);
  assert.deepEqual(ingress.spec.tls[0].hosts, [want.host]);
  for (const o of yaml) if (o.kind !== "Namespace") assert.equal(o.metadata.namespace, want.namespace, `${label}: ${id(o)} namespace`);
  const c = dep.spec.template.spec.containers[0];
  const envs = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
  for (const [k, v] of Object.entries(want.env)) assert.equal(envs[k], v, `${label}: env ${k}`);
  assert.equal(c.readinessProbe.httpGet.path, want.path, `${label}: probe path`);
  assert.ok(c.image.endsWith(`:${want.tag}`), `${label}: image ${c.image}`);
  const mqEnv = Object.fromEntries(mq.spec.template.spec.containers[0].env.map((e) => [e.name, e.value]));
  assert.equal(mqEnv.RABBITMQ_DEFAULT_USER, want.user, `${label}: RabbitMQ user`);
  if (has("shellcheck")) {
    render([...args, "--format", "dir", "-o", dir]);
    const script = join(dir, `${STACK}-r${round}`, "apply.sh");
    const r = tool("shellcheck", ["-s", "bash", script]);
    assert.equal(r.status, 0, `${label}: shellcheck apply.sh\n${r.out}`);
  }
}

test("property: random strings in every string field of the document read back exactly", (t) => {
  const rnd = prng(Number(process.env.PROPERTY_SEED || 20261125));
  for (let round = 0; round < 6; round++) everyStringField(rnd, round, t);
});
// secretSource: the prod environment with its secrets kept outside manifestd.
for (const source of [
  { type: "existing", name: "shop-secrets" },
  { type: "externalSecret", secretStore: "vault", remoteKey: "teams/shop/prod" },
]) {
  test(`${STACK} prod with secretSource ${source.type}: schema-valid, no secret values, references resolve`, async (t) => {
    const dir = tempDir(t);
    const env = seed("prod");
    const values = Object.values(env.secrets);
    env.secrets = Object.fromEntries(Object.keys(env.secrets).map((k) => [k, ""]));
    env.secretSource = source;
    const file = join(dir, "prod.json");
    writeFileSync(file, JSON.stringify(env));
    const text = render(["--stack", STACK, "--env", file, "--format", "yaml"]).stdout.toString();
    for (const v of values) assert.ok(!text.includes(v), `value ${v} rendered`);
    const objects = parseYaml11(text);
    const secretName = source.name ?? `${STACK}-secrets`;
    for (const obj of objects) {
      const check = customResourceCheck(obj.apiVersion, obj.kind);
      if (check) {
        assert.deepEqual(check(obj), [], `${id(obj)} shape`);
        continue;
      }
      const Model = await modelFor(obj.apiVersion, obj.kind);
      assert.ok(Model, `no kubernetes-models class for ${obj.apiVersion} ${obj.kind}`);
      assert.deepEqual(schemaErrors(Model, obj), [], id(obj));
      assert.deepEqual(unknownFields(Model, obj), [], `${id(obj)}: unknown fields`);
    }
    assert.ok(!objects.some((o) => o.kind === "Secret" && o.metadata.name === secretName), "no Secret with values");
    const externals = objects.filter((o) => o.kind === "ExternalSecret");
    assert.equal(externals.length, source.type === "externalSecret" ? 1 : 0);
    const provided = source.type === "externalSecret"
      ? new Set(externals[0].spec.data.map((d) => d.secretKey)) : new Set(Object.keys(env.secrets));
    let refs = 0;
    for (const o of objects) {
      for (const ref of references(o)) {
        if (ref.kind !== "Secret") continue;
        refs++;
        assert.equal(ref.name, secretName, ref.where);
        assert.ok(provided.has(ref.key), `${id(o)} ${ref.where}: key ${ref.key}`);
      }
    }
    assert.ok(refs > 3);
  });
}
