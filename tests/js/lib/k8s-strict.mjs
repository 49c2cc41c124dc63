// Kubernetes schema validation with kubernetes-models, made strict about unknown fields.
//
// kubernetes-models ships the Kubernetes OpenAPI schema compiled into ajv validator
// functions, and those ignore properties the schema does not declare, so `validate()`
// accepts a typo such as `livenesProbe`. unknownFields() runs the same compiled
// validator over Proxies of the object and records every property name the validator
// reads on each nested object: exactly the properties the schema declares there. An
// object whose keys the validator enumerates is a map (labels, data, resources) and
// accepts any key; an object the validator never looks into is free-form.

const cache = new Map();

/** The kubernetes-models class for apiVersion/kind, or null when there is none. */
export async function modelFor(apiVersion, kind) {
  if (!/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion ?? "") || !/^[A-Z][A-Za-z0-9]*$/.test(kind ?? "")) return null;
  const spec = `kubernetes-models/${apiVersion}/${kind}`;
  if (!cache.has(spec)) cache.set(spec, import(spec).then((m) => m[kind] ?? null, () => null));
  const Model = await cache.get(spec);
  return Model && Model.apiVersion === apiVersion && Model.kind === kind ? Model : null;
}

/** Schema errors of obj as strings ([] when valid), from the model's own validate(). */
export function schemaErrors(Model, obj) {
  try {
    new Model(structuredClone(obj)).validate();
    return [];
  } catch (e) {
    return Array.isArray(e.errors) ? e.errors.map((x) => `${x.instancePath || "/"} ${x.message}`) : [String(e)];
  }
}

/** Paths (".spec.template...") of properties the schema does not declare. */
export function unknownFields(Model, obj) {
  const read = new Map(); // target -> Set of property names the validator asked for
  const listed = new Set(); // targets whose keys the validator enumerated
  const proxies = new WeakMap();
  const wrap = (v) => {
    if (v === null || typeof v !== "object") return v;
    if (!proxies.has(v)) {
      read.set(v, new Set());
      const note = (t, k) => { if (typeof k === "string") read.get(t).add(k); };
      proxies.set(v, new Proxy(v, {
        get(t, k, r) { note(t, k); return wrap(Reflect.get(t, k, r)); },
        has(t, k) { note(t, k); return Reflect.has(t, k); },
        getOwnPropertyDescriptor(t, k) { note(t, k); return Reflect.getOwnPropertyDescriptor(t, k); },
        ownKeys(t) { listed.add(t); return Reflect.ownKeys(t); },
      }));
    }
    return proxies.get(v);
  };
  const copy = structuredClone(obj);
  try {
    Model.prototype.validate.call(wrap(copy));
  } catch {
    // schema errors are schemaErrors()'s business; only the lookups matter here
  }
  const unknown = [];
  const walk = (v, path) => {
    if (v === null || typeof v !== "object") return;
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${path}[${i}]`));
    const known = read.get(v);
    if (!known || listed.has(v)) {
      if (listed.has(v)) for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
      return;
    }
    for (const [k, x] of Object.entries(v)) {
      if (!known.has(k)) unknown.push(`${path}.${k}`);
      else walk(x, `${path}.${k}`);
    }
  };
  walk(copy, "");
  return unknown;
}

// Custom resources that kubernetes-models does not know. Only these kinds skip the schema
// above; each has a shape check of its own (the fields manifestd writes, and nothing else).
const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const dnsLabel = (v) => typeof v === "string" && /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(v);

/** external-secrets.io/v1beta1 ExternalSecret: errors as strings ([] when the shape is right). */
export function externalSecretErrors(o) {
  const errors = [];
  const need = (ok, what) => { if (!ok) errors.push(what); };
  const only = (obj, keys, where) => {
    for (const k of Object.keys(obj ?? {})) need(keys.includes(k), `${where}.${k} is not a known field`);
  };
  only(o, ["apiVersion", "kind", "metadata", "spec"], "");
  need(dnsLabel(o.metadata?.name), ".metadata.name must be a DNS label");
  need(dnsLabel(o.metadata?.namespace), ".metadata.namespace must be a DNS label");
  const s = o.spec;
  need(isObject(s), ".spec must be an object");
  if (!isObject(s)) return errors;
  only(s, ["refreshInterval", "secretStoreRef", "target", "data"], ".spec");
  need(/^(\d+(h|m|s))+$/.test(s.refreshInterval ?? ""), ".spec.refreshInterval must be a duration");
  only(s.secretStoreRef, ["name", "kind"], ".spec.secretStoreRef");
  need(dnsLabel(s.secretStoreRef?.name), ".spec.secretStoreRef.name must be a DNS label");
  need(["SecretStore", "ClusterSecretStore"].includes(s.secretStoreRef?.kind), ".spec.secretStoreRef.kind");
  only(s.target, ["name", "creationPolicy"], ".spec.target");
  need(dnsLabel(s.target?.name), ".spec.target.name must be a DNS label");
  need(["Owner", "Orphan", "Merge", "None"].includes(s.target?.creationPolicy), ".spec.target.creationPolicy");
  need(Array.isArray(s.data) && s.data.length > 0, ".spec.data must be a non-empty array");
  (s.data ?? []).forEach((d, i) => {
    only(d, ["secretKey", "remoteRef"], `.spec.data[${i}]`);
    only(d.remoteRef, ["key", "property"], `.spec.data[${i}].remoteRef`);
    need(/^[-._a-zA-Z0-9]+$/.test(d.secretKey ?? ""), `.spec.data[${i}].secretKey must be a Secret key`);
    need(typeof d.remoteRef?.key === "string" && d.remoteRef.key !== "", `.spec.data[${i}].remoteRef.key`);
    need(typeof d.remoteRef?.property === "string", `.spec.data[${i}].remoteRef.property`);
  });
  return errors;
}

/** The shape check of a custom resource kind, or null for every other kind. */
export function customResourceCheck(apiVersion, kind) {
  return apiVersion === "external-secrets.io/v1beta1" && kind === "ExternalSecret" ? externalSecretErrors : null;
}
