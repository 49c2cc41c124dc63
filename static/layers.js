// layers: what an environment inherits, field by field: built-in default (the schema's)
// <- stack <- the environment's own value, as the server layers them (RFC 7386, null kept
// as a value where the schema says null is one). Two hints of the schema take part:
// "defaultsFor" (a top-level member merged under every entry of the map it names, e.g.
// serviceDefaults under services) and "shorthandFor" (an input-only member standing for
// another field unless some layer sets that one). Pure; form.js asks it for placeholders,
// map entries and the values hints depend on. Fields inside a component instance or a use
// take their node from hooks.nodeAt (components.js: the params of the instance's type).

import { clone, fromPointer, getAt, isObject, setAt } from './mergepatch.js';
import { nodeAt } from './schema.js';

// b over a, RFC 7386 style, except that a null in b stays (as "removed here" or "null").
export function overlay(a, b) {
	if (b === undefined) return a;
	if (!isObject(a) || !isObject(b)) return clone(b);
	const out = clone(a);
	for (const [k, v] of Object.entries(b)) out[k] = v === null ? null : overlay(out[k], v);
	return out;
}

// The value at parts: undefined when absent or below a null.
function at(doc, parts) {
	let cur = doc;
	for (const p of parts) {
		if (!isObject(cur) || !Object.hasOwn(cur, p)) return undefined;
		cur = cur[p];
	}
	return cur;
}

// In place: every shorthand of v (an instance of node) that some value gives, written
// into the field it stands for when that is not set.
function fold(node, v) {
	if (!node || !isObject(v)) return v;
	if (node.kind === 'map') for (const x of Object.values(v)) fold(node.values, x);
	if (node.kind !== 'object') return v;
	for (const p of node.props) {
		const target = p.form.shorthandFor;
		if (target && v[p.name] !== undefined && v[p.name] !== null && at(v, target.split('/')) === undefined)
			setAt(v, target.split('/'), v[p.name]);
		if (isObject(v[p.name])) fold(p, v[p.name]);
	}
	return v;
}

export class Layers {
	// root: the document's schema node; stackDoc: the stack's document; edited: the
	// environment's (read live: it changes as the person types); names: {stack, env};
	// hooks (optional): nodeAt(layers, parts) -> node | undefined for fields the document's
	// schema does not describe, expand(layers, parts, text) -> a placeholder's text.
	constructor(root, stackDoc, edited, names, hooks = {}) {
		this.root = root;
		this.hooks = hooks;
		this.stack = fold(root, clone(stackDoc || {}));
		this.edited = edited;
		this.names = names;
		this.defaultsOf = new Map(); // map member -> the top-level member merged under its entries
		for (const p of root.props) if (p.form.defaultsFor) this.defaultsOf.set(p.form.defaultsFor, p.name);
		this.memo = new Map();
	}

	// The node of the value at parts: the hooks' (inside an instance or a use) or the
	// document schema's.
	nodeAt(parts) {
		return this.hooks.nodeAt?.(this, parts) ?? nodeAt(this.root, parts);
	}

	// Call after every change of the edited document.
	changed() { this.memo.clear(); }

	own(parts) { return at(this.edited, parts); }

	// Below the environment's own value: the stack's, over what a "defaultsFor" member (of
	// the stack, then of the environment) gives an entry of its map.
	lower(parts) {
		const d = this.defaultsOf.get(parts[0]);
		if (d === undefined || parts.length < 2) return at(this.stack, parts);
		const key = `${parts[0]}\u0000${parts[1]}`;
		if (!this.memo.has(key)) {
			const node = nodeAt(this.root, [d]);
			const defaults = fold(node, overlay(clone(this.stack[d]), clone(this.edited[d])));
			this.memo.set(key, overlay(defaults, at(this.stack, parts.slice(0, 2))));
		}
		return at(this.memo.get(key), parts.slice(2));
	}

	// What the field is when the environment does not set it: the lower layers over the
	// schema's literal default.
	inherited(parts) {
		const node = this.nodeAt(parts);
		const low = this.lower(parts);
		return node && Object.hasOwn(node, 'default') ? overlay(clone(node.default), low) : low;
	}

	// What the field resolves to with the environment's own value.
	effective(parts) {
		return overlay(this.inherited(parts), this.own(parts));
	}

	// The entries of the map at parts: inherited ones first (in their order), then those
	// only this environment has. {key, inherited, removed (null here), own}.
	entries(parts) {
		const low = this.inherited(parts);
		const own = this.own(parts);
		const out = [];
		if (isObject(low))
			for (const [k, v] of Object.entries(low))
				if (v !== null) out.push({ key: k, inherited: true, removed: isObject(own) && own[k] === null, own: isObject(own) ? own[k] : undefined });
		if (isObject(own))
			for (const [k, v] of Object.entries(own))
				if (v !== null && !out.some((e) => e.key === k)) out.push({ key: k, inherited: false, removed: false, own: v });
		return out;
	}

	// The input-only shorthand members (as parts) that stand for the field or entry at parts
	// or a field inside it ("port" for ports/http), whatever their value.
	shorthandsFor(parts) {
		const out = [];
		for (let i = parts.length - 1; i >= 0; i--) {
			const node = this.nodeAt(parts.slice(0, i));
			if (node?.kind !== 'object') continue;
			for (const p of node.props) {
				const t = p.form.shorthandFor?.split('/');
				if (t && parts.length - i <= t.length && parts.slice(i).every((x, j) => x === t[j])) out.push([...parts.slice(0, i), p.name]);
			}
		}
		return out;
	}

	// The shorthand that gives the field or entry at parts its value now, or null.
	shorthandOf(parts) {
		return this.shorthandsFor(parts).find((sh) => { const v = this.effective(sh); return v !== undefined && v !== null; }) || null;
	}

	// A computed default in words ("<stack>-<environment>"), a sibling's name or a JSON
	// Pointer into the document: what it amounts to here.
	computedDefault(parts, text) {
		if (typeof text !== 'string' || !text) return undefined;
		if (text.startsWith('/')) return this.effective(fromPointer(text));
		const parent = this.nodeAt(parts.slice(0, -1));
		if (parent?.kind === 'object' && parent.props.some((p) => p.name === text))
			return this.effective([...parts.slice(0, -1), text]) ?? this.computedDefault([...parts.slice(0, -1), text], this.nodeAt([...parts.slice(0, -1), text])?.defaultText);
		return text.replaceAll('<stack>', this.names.stack).replaceAll('<environment>', this.names.env);
	}

	// The placeholder of the field at parts: what it would be without the environment's
	// own value, in words.
	placeholder(parts) {
		const node = this.nodeAt(parts);
		const v = this.inherited(parts);
		if (v !== undefined && v !== null && !(v === '' && node?.defaultText))
			return this.hooks.expand ? this.hooks.expand(this, parts, display(v)) : display(v);
		const computed = this.computedDefault(parts, node?.defaultText);
		if (computed !== undefined && computed !== null && computed !== '') return display(computed);
		if (v === null || (node?.nullable && v === undefined)) return 'none';
		return '';
	}
}

export function display(v) {
	if (Array.isArray(v)) return v.every((x) => typeof x !== 'object' || x === null) ? v.join('\n') : JSON.stringify(v);
	if (isObject(v)) return JSON.stringify(v);
	return String(v);
}

// The value of a hint's path ("autoscaling/enabled") relative to the object at parent.
const hintPath = (parent, rel) => [...parent, ...rel.split('/')];

// true when the hint {path: [values]} holds for the object at parent (every path).
export function hintHolds(layers, parent, cond) {
	return Object.entries(cond).every(([rel, values]) => {
		const v = layers.effective(hintPath(parent, rel));
		return Array.isArray(values) && values.some((x) => x === v || (x === null && v === undefined));
	});
}
