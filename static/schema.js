// schema: reads the JSON Schema the server publishes at GET /api/v1/schema (draft 2020-12,
// derived from server/schema.json) into a tree of plain nodes the form is built from.
// Pure functions; nothing here touches the DOM or knows a field of the document by name.
//
// A node: {kind, name, label, description, default (only when the schema has one),
// defaultText, form (the x-manifestd-form hints, {} when none), nullable, inputOnly,
// enum, pattern, patternText, minimum, maximum, maxLength} and by kind:
//   object: props [node], oneOf | atMostOneOf [member names]
//   map:    values (node of every entry), keyPattern, keyText, maxEntries
//   array:  items (node), maxItems
//   raw:    allowedKeys (or undefined)
// kind is one of object, map, array, string, integer, boolean, scalar (a config value:
// string, integer or boolean), secret (write-only), intOrString, raw (any JSON object),
// any (any JSON value).

const ACRONYMS = new Set(['api', 'cpu', 'dns', 'grpc', 'http', 'https', 'id', 'ip', 'tcp', 'tls', 'ttl', 'udp', 'uid', 'url', 'uri']);

// "targetCPUUtilization" -> "Target CPU utilization", "httpGet" -> "HTTP get".
export function humanize(name) {
	const words = String(name).replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
		.split(/[\s_-]+/).filter(Boolean).map((w) => (ACRONYMS.has(w.toLowerCase()) ? w.toUpperCase() : w.toLowerCase()));
	if (!words.length) return String(name);
	words[0] = words[0][0].toUpperCase() + words[0].slice(1);
	return words.join(' ');
}

function kindOf(js) {
	if (Array.isArray(js.anyOf)) return js.anyOf.some((b) => b?.properties?.set) ? 'secret' : 'any';
	const types = (Array.isArray(js.type) ? js.type : js.type ? [js.type] : []).filter((t) => t !== 'null');
	const key = [...types].sort().join(',');
	if (key === 'object') {
		if (js.properties) return 'object';
		return js.additionalProperties && typeof js.additionalProperties === 'object' ? 'map' : 'raw';
	}
	return { array: 'array', 'integer,string': 'intOrString', 'boolean,integer,string': 'scalar', string: 'string', integer: 'integer', boolean: 'boolean', '': 'any' }[key] || 'any';
}

// The node tree of a JSON Schema (the document's, or any member's).
export function readSchema(js, name = '') {
	const form = js['x-manifestd-form'] && typeof js['x-manifestd-form'] === 'object' ? js['x-manifestd-form'] : {};
	const n = {
		kind: kindOf(js), name, form,
		label: form.label || (name ? humanize(name) : ''),
		description: js.description || '',
		defaultText: js['x-manifestd-default'],
		nullable: js['x-manifestd-nullable'] === true,
		inputOnly: js['x-manifestd-input-only'] === true,
	};
	if (Object.hasOwn(js, 'default')) n.default = js.default;
	if (Array.isArray(js.enum)) n.enum = js.enum.filter((v) => v !== null);
	for (const k of ['pattern', 'minimum', 'maximum', 'maxLength', 'maxItems'])
		if (js[k] !== undefined) n[k] = js[k];
	if (js['x-manifestd-format']) n.patternText = js['x-manifestd-format'];
	if (n.kind === 'object') {
		n.props = Object.entries(js.properties).map(([k, v]) => readSchema(v, k));
		if (js['x-manifestd-one-of']) n.oneOf = js['x-manifestd-one-of'];
		if (js['x-manifestd-at-most-one-of']) n.atMostOneOf = js['x-manifestd-at-most-one-of'];
	} else if (n.kind === 'map') {
		n.values = readSchema(js.additionalProperties, '*');
		n.keyPattern = js.propertyNames?.pattern;
		n.keyText = js.propertyNames?.['x-manifestd-format'];
		n.maxEntries = js.maxProperties;
	} else if (n.kind === 'array') {
		n.items = readSchema(js.items || {}, '[]');
	} else if (n.kind === 'raw' && Array.isArray(js.propertyNames?.enum)) {
		n.allowedKeys = js.propertyNames.enum;
	}
	return n;
}

export const prop = (node, name) => node?.props?.find((p) => p.name === name);

// The members of an object of which one (or at most one) is present, as a Set.
export const choiceMembers = (node) => new Set(node?.oneOf || node?.atMostOneOf || []);

// The node of the value at parts (map keys and array indexes step into values/items), or
// undefined outside the schema.
export function nodeAt(root, parts) {
	let n = root;
	for (const p of parts) {
		if (!n) return undefined;
		if (n.kind === 'object') n = prop(n, p);
		else if (n.kind === 'map') n = n.values;
		else if (n.kind === 'array') n = n.items;
		else return undefined;
	}
	return n;
}

// Every leaf field of the schema as a path: map entries written '*', array items '[]'.
// Leaves are values edited as one: strings, numbers, booleans, secrets, raw JSON, arrays of
// scalars.
export function schemaLeaves(node, path = []) {
	if (node.kind === 'object') return node.props.flatMap((p) => schemaLeaves(p, [...path, p.name]));
	if (node.kind === 'map') return schemaLeaves(node.values, [...path, '*']);
	if (node.kind === 'array' && node.items.kind === 'object') return schemaLeaves(node.items, [...path, '[]']);
	return [path.join('/')];
}

// Checks a value typed in the form against the node's own rules (type, enum, range,
// length, pattern): null when it passes, else a sentence. The server checks everything
// again; this only answers early.
export function checkValue(node, v) {
	if (v === undefined || v === null) return null;
	if (node.kind === 'integer' || (node.kind === 'intOrString' && typeof v === 'number')) {
		if (typeof v !== 'number' || !Number.isInteger(v)) return 'must be a whole number';
		if (node.minimum !== undefined && v < node.minimum) return `must be at least ${node.minimum}`;
		if (node.maximum !== undefined && v > node.maximum) return `must be at most ${node.maximum}`;
		return null;
	}
	if (typeof v !== 'string') return null;
	if (node.enum && !node.enum.includes(v)) return `must be one of ${node.enum.map((e) => JSON.stringify(e)).join(', ')}`;
	if (node.maxLength !== undefined && [...v].length > node.maxLength) return `must be at most ${node.maxLength} characters`;
	if (node.pattern && !matches(node.pattern, v)) return node.patternText ? `must be ${node.patternText}` : 'is not in the expected form';
	return null;
}

const compiled = new Map();
export function matches(pattern, s) {
	if (!compiled.has(pattern)) {
		let re = null;
		try { re = new RegExp(pattern, 'u'); } catch { /* a pattern this browser cannot read: the server decides */ }
		compiled.set(pattern, re);
	}
	const re = compiled.get(pattern);
	return re ? re.test(s) : true;
}
