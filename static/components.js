// components: instances of the catalog's component types in the form. The document's schema
// says only that an instance is an object naming its type (the map's hint "catalogType");
// its params come from the type, whose JSON Schema the server publishes with it
// (GET /api/v1/catalog/{type}: schema.params and schema.consumer, written as the
// document's schema is). A map with the hint "catalogConsumer" (a service's uses) takes, for
// each key, the consumer params of the type of the instance that key names. Pure: the
// requests are the caller's (app.js hands in fetchType); nothing here names a type or a
// field of the document.

import { isObject } from './mergepatch.js';
import { nodeAt, readSchema } from './schema.js';

// The component types: the list (GET /api/v1/catalog) and each type once loaded.
// fetchType(name) resolves to the body of GET /api/v1/catalog/{name} or null.
export class Catalog {
	constructor(items = [], fetchType = async () => null) {
		this.items = items.map((i) => ({ ...i, builtin: i.builtin ?? i.source === 'builtin' }));
		this.fetchType = fetchType;
		this.types = new Map(); // name -> type | null (unknown)
		this.pending = new Map();
	}

	item(name) { return this.items.find((i) => i.name === name); }

	// The loaded type: {name, doc, description, params (node) | null, consumer (node) | null,
	// problem}; null when the catalog has no such type; undefined while not loaded.
	type(name) { return this.types.get(name); }

	load(name) {
		if (this.types.has(name)) return Promise.resolve(this.types.get(name));
		if (!this.pending.has(name))
			this.pending.set(name, this.fetchType(name).then((body) => {
				const t = body ? typeOf(name, body, this.item(name)) : null;
				this.types.set(name, t);
				this.pending.delete(name);
				return t;
			}, (e) => { this.pending.delete(name); throw e; }));
		return this.pending.get(name);
	}

	loadAll(names) { return Promise.all([...new Set(names)].map((n) => this.load(n).catch(() => null))); }
}

// A type from its representation ({document, schema: {params, consumer}}; a bare type
// document is taken too).
function typeOf(name, body, item) {
	const doc = isObject(body.document) ? body.document : body;
	const schema = isObject(body.schema) ? body.schema : null;
	const read = (js) => (isObject(js) && isObject(js.properties) ? readSchema(js) : null);
	return {
		name, doc,
		description: doc.description || item?.description || '',
		params: read(schema?.params),
		consumer: read(schema?.consumer),
		secrets: isObject(doc.secrets) ? doc.secrets : {},
		problem: body.problem || item?.problem || (schema ? null : 'the server did not send the schema of its params'),
	};
}

// The maps of the document that hold instances and uses, from the schema's hints:
// {instances: [{path, node, member}], consumers: [{path, node, target}]}; paths are member
// names with '*' for a map's entries.
export function catalogMaps(root) {
	const out = { instances: [], consumers: [] };
	const visit = (n, path) => {
		if (!n || path.length > 8) return;
		if (n.kind === 'map' && n.form.catalogType) out.instances.push({ path, node: n, member: n.form.catalogType });
		if (n.kind === 'map' && n.form.catalogConsumer) out.consumers.push({ path, node: n, target: n.form.catalogConsumer.split('/').slice(1) });
		if (n.kind === 'object') for (const p of n.props) visit(p, [...path, p.name]);
		else if (n.kind === 'map') visit(n.values, [...path, '*']);
	};
	visit(root, []);
	return out;
}

const matchesPath = (pattern, parts) => pattern.length <= parts.length && pattern.every((p, i) => p === '*' || p === parts[i]);

// Every concrete path of pattern ('*' over the entries each layer has, removed ones left
// out), as [{parts, keys: the entry names '*' stood for}].
export function expandPath(layers, pattern) {
	let out = [{ parts: [], keys: [] }];
	for (const seg of pattern) {
		if (seg !== '*') { out = out.map((o) => ({ ...o, parts: [...o.parts, seg] })); continue; }
		out = out.flatMap((o) => layers.entries(o.parts).filter((e) => !e.removed).map((e) => ({ parts: [...o.parts, e.key], keys: [...o.keys, e.key] })));
	}
	return out;
}

// The type an instance names (its own value over the lower layers'), read without the
// schema (the schema of its params depends on it).
export function instanceType(layers, at, member) {
	const own = layers.own([...at, member]);
	if (typeof own === 'string') return own;
	const low = layers.lower([...at, member]);
	return typeof low === 'string' ? low : undefined;
}

// What the form asks of the catalog: the node of a field inside an instance or a use, the
// services using an instance, placeholders filled in.
export class CatalogView {
	constructor(root, catalog) {
		this.root = root;
		this.catalog = catalog;
		this.maps = catalogMaps(root);
		this.nodes = new WeakMap(); // type -> node of an instance of it
	}

	// The instance node of type t for the map m: the members every instance has (type,
	// enabled...) and the type's params.
	instanceNode(m, t) {
		if (!t?.params) return null;
		if (!this.nodes.has(t)) {
			const base = m.node.values;
			const own = new Set((base.props || []).map((p) => p.name));
			this.nodes.set(t, { ...base, kind: 'object', description: t.description || base.description,
				props: [...(base.props || []), ...t.params.props.filter((p) => !own.has(p.name))] });
		}
		return this.nodes.get(t);
	}

	// Where parts lies in an instance or a use: {map, kind: 'instance' | 'use', at (the
	// instance's path), entry (the path of the map's entry), rest, type, service}, or null.
	locate(layers, parts) {
		for (const m of this.maps.instances)
			if (parts.length > m.path.length && matchesPath(m.path, parts)) {
				const at = parts.slice(0, m.path.length + 1);
				return { map: m, kind: 'instance', at, entry: at, rest: parts.slice(at.length), type: instanceType(layers, at, m.member), name: at[at.length - 1] };
			}
		for (const c of this.maps.consumers)
			if (parts.length > c.path.length && matchesPath(c.path, parts)) {
				const entry = parts.slice(0, c.path.length + 1);
				const name = entry[entry.length - 1];
				const target = this.maps.instances.find((m) => m.path.join('/') === c.target.join('/'));
				const at = [...c.target, name];
				const star = c.path.lastIndexOf('*');
				return { map: c, kind: 'use', at, entry, rest: parts.slice(entry.length), type: target ? instanceType(layers, at, target.member) : undefined,
					name, service: star >= 0 ? parts[star] : undefined, instanceMap: target };
			}
		return null;
	}

	// The node of the value at parts when it lies in an instance or a use of a loaded type,
	// else undefined (the document's schema answers).
	nodeAt(layers, parts) {
		const where = this.locate(layers, parts);
		if (!where) return undefined;
		const t = where.type ? this.catalog.type(where.type) : undefined;
		if (!t) return undefined;
		const base = where.kind === 'instance' ? this.instanceNode(where.map, t) : t.consumer;
		return base ? nodeAt(base, where.rest) : undefined;
	}

	// The services (entries of a consumer map) that use the instance name of the map at
	// path: [{key (the owner's name), parts (of the use)}].
	usersOf(layers, path, name) {
		const out = [];
		for (const c of this.maps.consumers) {
			if (c.target.join('/') !== path.join('/')) continue;
			for (const { parts, keys } of expandPath(layers, c.path)) {
				const v = layers.effective([...parts, name]);
				if (v !== undefined && v !== null) out.push({ key: keys[keys.length - 1] ?? parts.join('/'), parts: [...parts, name] });
			}
		}
		return out;
	}

	// A default that holds placeholders (${name}, ${service}, ${snake:service},
	// ${params.X}) as it reads at parts; what cannot be said here stays as written.
	expand(layers, parts, text, depth = 0) {
		if (typeof text !== 'string' || !text.includes('${') || depth > 4) return text;
		const where = this.locate(layers, parts);
		if (!where) return text;
		return text.replace(/\$\{(?:([a-z_]+):)?([A-Za-z0-9_.]+)\}/g, (m, filter, ref) => {
			let v;
			if (ref === 'name') v = where.name;
			else if (ref === 'service') v = where.service;
			else if (ref.startsWith('params.')) {
				const p = [...where.at, ...ref.slice(7).split('.')];
				v = layers.effective(p);
				if (typeof v === 'string') v = this.expand(layers, p, v, depth + 1);
			}
			if (v === undefined || v === null || isObject(v) || Array.isArray(v)) return m;
			if (!filter || filter === 'text') return String(v);
			return filter === 'snake' ? String(v).replaceAll('-', '_') : m;
		});
	}

	// The types the instances of documents name (to load before the form is drawn).
	typesIn(layers) {
		const out = new Set();
		for (const m of this.maps.instances)
			for (const { parts } of expandPath(layers, m.path))
				for (const e of layers.entries(parts)) {
					const t = instanceType(layers, [...parts, e.key], m.member);
					if (t) out.add(t);
				}
		return [...out];
	}
}
