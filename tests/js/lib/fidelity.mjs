// Fidelity of an import round trip: what the workloads of an application were (its own
// Kubernetes objects, or facts an importer test writes from a compose or Score file) against
// what manifestd rendered from the imported documents.
//
//   const want = facts(inputObjects)          // [{key, value, where}]
//   const got = facts(renderedObjects)
//   const { score, matched, total, differences } = compare(want, got)
//
// A fact is one thing a user would check by hand: a workload's kind; each container's
// image, command and args; its container ports (number/protocol); its environment
// variable names (env, and envFrom expanded from the ConfigMaps and Secrets among the
// objects); its probes' kinds (httpGet, tcpSocket, exec, grpc) for readiness, liveness
// and startup; its mounts (path and subPath) and the class of their source (emptyDir,
// files: configMap/secret/projected, claim: persistentVolumeClaim or a claim template,
// else the source's own name such as hostPath); its claim templates' sizes; each Service's
// type (Headless for clusterIP None), its ports (port/protocol -> target container port
// number, node port) and the workload it selects; each PersistentVolumeClaim's size; each
// Ingress path (host + path -> Service:port number, pathType).
//
// A workload that became a component (a datastore the import made a component of the
// catalog's type: the `components` option, by input name) is measured by what identifies
// it, the same on both sides: that it is there, its main container's image repository
// (without tag), that container's ports, and its storage (the size of the claim it mounts:
// a claim template, or a PersistentVolumeClaim among the objects); every other container
// of the input is a fact the render lacks. Its Services are measured as any Service.
//
// Keys name workloads and containers as they are in the input. Rendered workloads are
// matched to the input's by name, else by the name of a Service selecting them, else by
// their first container's image; containers by image, else by name, else in order (the
// `match` option of facts() carries the workload names of the input over).
//
// where is the JSON Pointer of the fact in the input stream taken as an array of its
// documents ("/3/spec/template/spec/containers/0/image"), so that a difference can be
// matched with an importer's report (listedIn()).

const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob"]);

/** The objects of a parsed stream (array of documents, null for empty ones), Lists
 * flattened, each with its pointer: [{obj, where}]. */
export function objectsOf(docs) {
  const out = [];
  docs.forEach((d, i) => {
    if (d === null || typeof d !== "object" || Array.isArray(d)) return;
    if (typeof d.kind === "string" && d.kind.endsWith("List") && Array.isArray(d.items)) {
      d.items.forEach((item, k) => { if (item && item.kind) out.push({ obj: item, where: `/${i}/items/${k}` }); });
    } else if (d.kind && d.apiVersion) {
      out.push({ obj: d, where: `/${i}` });
    }
  });
  return out;
}

function podPath(obj) {
  return obj.kind === "CronJob" ? ["spec", "jobTemplate", "spec", "template"] : ["spec", "template"];
}

function at(obj, path) {
  return path.reduce((v, k) => (v === undefined || v === null ? undefined : v[k]), obj);
}

const esc = (s) => String(s).replace(/~/g, "~0").replace(/\//g, "~1");

function selects(selector, labels) {
  const pairs = Object.entries(selector ?? {});
  return pairs.length > 0 && pairs.every(([k, v]) => labels?.[k] === v);
}

function probeKind(p) {
  if (!p) return "none";
  return ["httpGet", "tcpSocket", "exec", "grpc"].find((k) => p[k]) ?? "none";
}

function volumeClass(vol, templates) {
  if (!vol) return templates ? "claim" : "none";
  if (vol.emptyDir) return "emptyDir";
  if (vol.configMap || vol.secret || vol.projected) return "files";
  if (vol.persistentVolumeClaim) return "claim";
  return Object.keys(vol).find((k) => k !== "name") ?? "none";
}

/** The variable names env and envFrom give a container, envFrom expanded from the
 * ConfigMaps and Secrets among the objects (an object not among them: nothing). */
function envNames(c, byName) {
  const names = new Map(); // name -> pointer suffix
  (c.envFrom ?? []).forEach((e, i) => {
    const ref = e.configMapRef ?? e.secretRef;
    const src = ref && byName.get(`${e.configMapRef ? "ConfigMap" : "Secret"}/${ref.name}`);
    for (const k of Object.keys({ ...(src?.data ?? {}), ...(src?.stringData ?? {}) })) names.set(`${e.prefix ?? ""}${k}`, `/envFrom/${i}`);
  });
  (c.env ?? []).forEach((e, i) => names.set(e.name, `/env/${i}`));
  return names;
}

/** The workloads of the objects: [{name, kind, obj, where, pod, podWhere}] */
function workloadsOf(objects) {
  return objects.filter(({ obj }) => WORKLOADS.has(obj.kind)).map(({ obj, where }) => {
    const tp = podPath(obj);
    return { name: obj.metadata?.name ?? "", kind: obj.kind === "ReplicaSet" || obj.kind === "ReplicationController" ? "Deployment" : obj.kind,
      obj, where, template: at(obj, tp) ?? {}, podWhere: `${where}/${tp.join("/")}/spec` };
  });
}

/** The number a Service's targetPort (number, name, or absent) reaches on the pods of w. */
function targetNumber(sp, w) {
  const t = sp.targetPort;
  if (t === undefined || t === 0 || t === "") return sp.port;
  if (typeof t === "number") return t;
  for (const c of w?.template.spec?.containers ?? []) {
    const p = (c.ports ?? []).find((x) => x.name === t);
    if (p) return p.containerPort;
  }
  return `?${t}`;
}

/** An image reference's repository: without tag, digest, docker.io/ and library/. */
function repositoryOf(ref) {
  let r = String(ref ?? "").split("@")[0];
  const slash = r.lastIndexOf("/");
  const colon = r.lastIndexOf(":");
  if (colon > slash) r = r.slice(0, colon);
  return r.replace(/^(docker\.io|index\.docker\.io)\//, "").replace(/^library\//, "");
}

/** The facts of a workload that is a component (see the header). */
function componentFacts(w, wn, add, byName) {
  add(`workload ${wn} component`, "present", `${w.where}/kind`);
  const spec = w.template.spec ?? {};
  const [main, ...others] = spec.containers ?? [];
  const cw = `${w.podWhere}/containers/0`;
  add(`workload ${wn} component image`, repositoryOf(main?.image), `${cw}/image`);
  (main?.ports ?? []).forEach((p, pi) => add(`workload ${wn} component port ${p.containerPort}/${p.protocol ?? "TCP"}`, "declared", `${cw}/ports/${pi}`));
  const templates = new Map((w.obj.spec?.volumeClaimTemplates ?? []).map((t) => [t.metadata?.name, t]));
  const volumes = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
  for (const m of main?.volumeMounts ?? []) {
    const claim = templates.get(m.name) ?? byName.get(`PersistentVolumeClaim/${volumes.get(m.name)?.persistentVolumeClaim?.claimName}`);
    if (claim) add(`workload ${wn} component storage`, claim.spec?.resources?.requests?.storage, `${cw}/volumeMounts`);
  }
  others.forEach((c, ci) => add(`workload ${wn} container ${c.name}`, "present", `${w.podWhere}/containers/${ci + 1}`));
  (spec.initContainers ?? []).forEach((c, ci) => add(`workload ${wn} init container ${c.name}`, "present", `${w.podWhere}/initContainers/${ci}`));
}

/**
 * facts(objects, {names, components}) -> [{key, value, where}]
 * objects: [{obj, where}] (objectsOf()) or plain objects (where "").
 * names: a Map from this side's workload names to the names to use in keys (the
 * matching of rendered workloads to the input's, from matchWorkloads()).
 * components: a Set of the input's names of the workloads that are components.
 */
export function facts(objects, { names = new Map(), components = new Set() } = {}) {
  objects = objects.map((o) => (o.obj ? o : { obj: o, where: "" }));
  const byName = new Map(objects.map(({ obj }) => [`${obj.kind}/${obj.metadata?.name}`, obj]));
  const out = [];
  let owner = null; // the workload (input name) the facts being added are about
  const add = (key, value, where) =>
    out.push({ key, value: typeof value === "string" ? value : JSON.stringify(value ?? null), where, workload: owner });
  const workloads = workloadsOf(objects);
  for (const w of workloads) {
    const wn = names.get(w.name) ?? w.name;
    owner = wn;
    if (components.has(wn)) {
      componentFacts(w, wn, add, byName);
      continue;
    }
    add(`workload ${wn} kind`, w.kind, `${w.where}/kind`);
    const spec = w.template.spec ?? {};
    const volumes = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
    const templates = new Map((w.obj.spec?.volumeClaimTemplates ?? []).map((t, i) => [t.metadata?.name, { t, i }]));
    for (const [tn, { t, i }] of templates)
      add(`workload ${wn} claim template ${tn} size`, t.spec?.resources?.requests?.storage, `${w.where}/spec/volumeClaimTemplates/${i}`);
    for (const list of ["initContainers", "containers"]) {
      (spec[list] ?? []).forEach((c, ci) => {
        const cn = c.__key ?? c.name;
        const cw = `${w.podWhere}/${list}/${ci}`;
        const k = `workload ${wn} ${list === "containers" ? "container" : "init container"} ${cn}`;
        add(`${k} image`, c.image, `${cw}/image`);
        add(`${k} command`, c.command ?? null, `${cw}/command`);
        add(`${k} args`, c.args ?? null, `${cw}/args`);
        (c.ports ?? []).forEach((p, pi) => add(`${k} port ${p.containerPort}/${p.protocol ?? "TCP"}`, "declared", `${cw}/ports/${pi}`));
        for (const [name, suffix] of envNames(c, byName)) add(`${k} env ${name}`, "set", `${cw}${suffix}`);
        if (list === "containers") {
          for (const p of ["readinessProbe", "livenessProbe", "startupProbe"])
            add(`${k} ${p}`, probeKind(c[p]), `${cw}/${p}`);
        }
        (c.volumeMounts ?? []).forEach((m, mi) => {
          const where = m.subPath ? `${m.mountPath} (${m.subPath})` : m.mountPath;
          add(`${k} mount ${where}`, volumeClass(volumes.get(m.name), templates.has(m.name)), `${cw}/volumeMounts/${mi}`);
        });
      });
    }
  }
  const services = new Map();
  for (const { obj, where } of objects) {
    if (obj.kind === "Service") {
      const s = obj.spec ?? {};
      const type = s.clusterIP === "None" ? "Headless" : s.type ?? "ClusterIP";
      const n = obj.metadata?.name;
      const w = workloads.find((x) => selects(s.selector, x.template.metadata?.labels));
      services.set(n, { w, ports: s.ports ?? [] });
      owner = w ? names.get(w.name) ?? w.name : null;
      add(`service ${n} type`, type, `${where}/spec`);
      add(`service ${n} selects`, w ? names.get(w.name) ?? w.name : "nothing", `${where}/spec/selector`);
      (s.ports ?? []).forEach((p, i) =>
        add(`service ${n} port ${p.port}/${p.protocol ?? "TCP"}`, { target: targetNumber(p, w), nodePort: p.nodePort ?? null }, `${where}/spec/ports/${i}`));
    } else if (obj.kind === "PersistentVolumeClaim") {
      owner = null;
      add(`claim ${obj.metadata?.name} size`, obj.spec?.resources?.requests?.storage, `${where}/spec/resources`);
    }
  }
  owner = null;
  for (const { obj, where } of objects) {
    if (obj.kind !== "Ingress") continue;
    (obj.spec?.rules ?? []).forEach((r, ri) => (r.http?.paths ?? []).forEach((p, pi) => {
      const b = p.backend ?? {};
      const name = b.service?.name ?? b.serviceName;
      let port = b.service?.port?.number ?? b.service?.port?.name ?? b.servicePort;
      if (typeof port === "string") port = services.get(name)?.ports.find((x) => x.name === port)?.port ?? `?${port}`;
      add(`ingress ${r.host ?? "*"}${p.path ?? "/"}`, { backend: `${name}:${port}`, pathType: p.pathType ?? "ImplementationSpecific" },
        `${where}/spec/rules/${ri}/http/paths/${pi}`);
    }));
  }
  return out;
}

/**
 * The names of the rendered workloads in the input's terms: a Map rendered name -> input
 * name. By name, else by a Service of the input that selects the input workload and is
 * named like the rendered one, else by the first container's image when it is unique.
 */
export function matchWorkloads(inputObjects, renderedObjects) {
  inputObjects = inputObjects.map((o) => (o.obj ? o : { obj: o, where: "" }));
  renderedObjects = renderedObjects.map((o) => (o.obj ? o : { obj: o, where: "" }));
  const want = workloadsOf(inputObjects), got = workloadsOf(renderedObjects);
  const services = inputObjects.filter(({ obj }) => obj.kind === "Service").map(({ obj }) => obj);
  const names = new Map();
  const taken = new Set();
  const image = (w) => w.template.spec?.containers?.[0]?.image;
  for (const g of got) {
    let m = want.find((w) => w.name === g.name && !taken.has(w.name));
    m ??= want.find((w) => !taken.has(w.name) && services.some((s) => s.metadata?.name === g.name && selects(s.spec?.selector, w.template.metadata?.labels)));
    const sameImage = want.filter((w) => !taken.has(w.name) && (w.template.spec?.containers ?? []).some((c) => c.image === image(g)));
    m ??= sameImage.length === 1 ? sameImage[0] : undefined;
    if (m) {
      names.set(g.name, m.name);
      taken.add(m.name);
    }
  }
  return names;
}

/** The rendered containers renamed to the input's (matched by image, else name, else in
 * order), so that their facts have the same keys. Returns copies. */
export function alignContainers(inputObjects, renderedObjects, names) {
  const want = new Map(workloadsOf(inputObjects.map((o) => (o.obj ? o : { obj: o, where: "" }))).map((w) => [w.name, w]));
  return renderedObjects.map((o) => {
    const obj = structuredClone(o.obj ?? o);
    if (!WORKLOADS.has(obj.kind)) return o.obj ? { obj, where: o.where } : obj;
    const w = want.get(names.get(obj.metadata?.name));
    const spec = at(obj, [...podPath(obj), "spec"]);
    for (const list of ["containers", "initContainers"]) {
      const theirs = w?.template.spec?.[list] ?? [];
      const used = new Set();
      const mine = spec?.[list] ?? [];
      const pick = (pred) => theirs.findIndex((c, i) => !used.has(i) && pred(c));
      mine.forEach((c) => {
        let i = pick((t) => t.image === c.image);
        if (i < 0) i = pick((t) => t.name === c.name);
        if (i >= 0) { used.add(i); c.__key = theirs[i].name; }
      });
      mine.forEach((c) => {
        if (c.__key) return;
        const i = pick(() => true);
        if (i >= 0) { used.add(i); c.__key = theirs[i].name; }
      });
    }
    return o.obj ? { obj, where: o.where } : obj;
  });
}

/**
 * compare(want, got) -> {score, matched, total, differences}
 * score = matched / total over the facts of want; differences: [{key, want, got, where}]
 * for each fact of want that got lacks or has otherwise (want/got: the values, undefined
 * when absent), then each fact only got has (where: the input pointer of the workload it
 * is about, or "").
 */
export function compare(want, got) {
  const g = new Map(got.map((f) => [f.key, f]));
  const w = new Map(want.map((f) => [f.key, f]));
  const objectOf = new Map();
  for (const f of want) {
    const m = f.key.startsWith("workload ") && (f.key.endsWith(" kind") || f.key.endsWith(" component")) ? /^(.*)\/kind$/.exec(f.where) : null;
    if (m) objectOf.set(f.workload, m[1]);
  }
  const differences = [];
  let matched = 0;
  for (const f of w.values()) {
    const h = g.get(f.key);
    if (h && h.value === f.value) matched++;
    else differences.push({ key: f.key, want: f.value, got: h?.value, where: f.where });
  }
  for (const f of g.values())
    if (!w.has(f.key)) differences.push({ key: f.key, want: undefined, got: f.value, where: objectOf.get(f.workload) ?? "" });
  return { score: w.size ? matched / w.size : 1, matched, total: w.size, differences };
}

/** The whole round trip: input and rendered objects -> compare()'s result. components:
 * the names of the workloads that became components (their provisioning Jobs, which the
 * input has no counterpart of, are not measured). */
export function fidelity(inputObjects, renderedObjects, { components = new Set() } = {}) {
  const provisioning = (o) => (o.obj ?? o).kind === "Job" && [...components].some((c) => (o.obj ?? o).metadata?.name?.startsWith(`${c}-provision-`));
  renderedObjects = renderedObjects.filter((o) => !provisioning(o));
  const names = matchWorkloads(inputObjects, renderedObjects);
  const aligned = alignContainers(inputObjects, renderedObjects, names);
  return compare(facts(inputObjects, { components }), facts(aligned, { names, components }));
}

/** Whether a difference is listed in a report ([{path, detail}]): an entry at its place,
 * above it, or below it. */
export function listedIn(difference, report) {
  const p = difference.where;
  if (!p) return false;
  return report.some((r) => r.path === p || p.startsWith(`${r.path}/`) || r.path.startsWith(`${p}/`));
}

export { esc as pointerToken };
