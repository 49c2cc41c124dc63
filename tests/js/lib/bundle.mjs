// Helpers for the output tests: run `manifestd render`, unpack what it wrote with the
// system's tar and unzip, and read a bundle folder back with the `yaml` package as
// YAML 1.1 (the way Kubernetes reads it).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const manifestd = process.env.MANIFESTD ?? join(root, "build/manifestd");

/** Runs manifestd with args; returns { status, stdout (Buffer), stderr (string) }. */
export function run(args, opts = {}) {
  const r = spawnSync(manifestd, args, { maxBuffer: 64 << 20, ...opts });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** Runs `manifestd render` and fails with its stderr unless it exits 0. */
export function render(args) {
  const r = run(["render", ...args]);
  if (r.status !== 0) throw new Error(`manifestd render ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return r;
}

/** Runs a tool; returns { status, out } (stdout and stderr together). */
export function tool(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, ...opts });
  if (r.error) return { status: -1, out: String(r.error) };
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

export function has(cmd) {
  return tool("sh", ["-c", `command -v ${cmd}`]).status === 0;
}

export function tempDir(t) {
  const dir = mkdtempSync(join(tmpdir(), "manifestd-js-"));
  t?.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The bundle of stack/env (names or files) in each of dir, tar.gz and zip, unpacked
 * under base; folder is the bundle's folder name (<stack>-<env>). */
export function renderAllWays(base, stack, env, folder = `${stack}-${env}`) {
  const ways = {};
  render(["--stack", stack, "--env", env, "--format", "dir", "-o", join(base, "dir")]);
  ways.dir = join(base, "dir", folder);
  for (const [fmt, unpack] of [["tar.gz", (a, d) => ["tar", ["-xzf", a, "-C", d]]], ["zip", (a, d) => ["unzip", ["-q", a, "-d", d]]]]) {
    const archive = join(base, `bundle.${fmt}`);
    const out = join(base, fmt);
    render(["--stack", stack, "--env", env, "--format", fmt, "-o", archive]);
    tool("mkdir", ["-p", out]);
    const [cmd, args] = unpack(archive, out);
    const r = tool(cmd, args);
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.out}`);
    ways[fmt] = join(out, folder);
  }
  return ways;
}

/** Every bundle that has a golden folder: msa-shop's built-in environments and each
 * environment of the fixture stacks tests/data/stacks/<stack>/ ({stack.json, <env>.json}).
 * [{ folder, stack, env, stackArg, envArg, envDoc }]: stackArg/envArg are what
 * `manifestd render` takes (a fixture stack is copied to <dir>/<stack>.json, so that it
 * is named after its folder). */
export function goldenCases(dir) {
  const seeds = join(root, "migrations/seed");
  const cases = [];
  for (const stack of readdirSync(seeds).sort()) {
    for (const file of readdirSync(join(seeds, stack)).sort()) {
      if (!file.endsWith(".json") || file === "stack.json") continue;
      const env = file.slice(0, -5);
      const envDoc = JSON.parse(readFileSync(join(seeds, stack, file), "utf8"));
      cases.push({ folder: `${stack}-${env}`, stack, env, stackArg: stack, envArg: env, envDoc });
    }
  }
  const stacks = join(root, "tests/data/stacks");
  for (const stack of readdirSync(stacks).sort()) {
    const stackArg = join(dir, `${stack}.json`);
    writeFileSync(stackArg, readFileSync(join(stacks, stack, "stack.json")));
    for (const file of readdirSync(join(stacks, stack)).sort()) {
      if (!file.endsWith(".json") || file === "stack.json") continue;
      const env = file.slice(0, -5);
      const envArg = join(stacks, stack, file);
      cases.push({ folder: `${stack}-${env}`, stack, env, stackArg, envArg, envDoc: JSON.parse(readFileSync(envArg, "utf8")) });
    }
  }
  return cases;
}

/** Every file of a folder: name -> { text, mode }. */
export function readFolder(dir) {
  const files = {};
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    files[name] = { text: readFileSync(p, "utf8"), mode: statSync(p).mode & 0o777 };
  }
  return files;
}

/** Parses a YAML stream as YAML 1.1; throws on any error or warning. */
export function parseYaml11(text, where = "yaml") {
  const docs = parseAllDocuments(text, { version: "1.1", uniqueKeys: true, prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const out = [];
  for (const d of list) {
    const problems = [...d.errors, ...d.warnings];
    if (problems.length) throw new Error(`${where}: ${problems.map(String).join("; ")}`);
    if (d.contents === null) continue;
    out.push(d.toJS({ maxAliasCount: 0 }));
  }
  return out;
}

/** The manifests of a bundle folder: [{ file, index, obj }], files in kustomization order. */
export function manifests(dir) {
  const kust = parseYaml11(readFileSync(join(dir, "kustomization.yaml"), "utf8"), "kustomization.yaml")[0];
  const out = [];
  for (const file of kust.resources) {
    parseYaml11(readFileSync(join(dir, file), "utf8"), file).forEach((obj, index) => out.push({ file, index, obj }));
  }
  return out;
}

/** Every string value inside v with its path. */
export function* strings(v, path = "") {
  if (typeof v === "string") yield [path, v];
  else if (Array.isArray(v)) for (let i = 0; i < v.length; i++) yield* strings(v[i], `${path}[${i}]`);
  else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) yield* strings(x, `${path}.${k}`);
}

/** A seeded pseudo-random generator (mulberry32), so a failing case can be replayed. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
