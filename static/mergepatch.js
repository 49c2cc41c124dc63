// mergepatch: RFC 7386 JSON Merge Patch (apply and diff) and RFC 6901 JSON Pointers,
// on plain JSON values. Pure functions; nothing here touches the DOM.

export const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

export const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

export function deepEqual(a, b) {
	if (a === b) return true;
	if (Array.isArray(a) && Array.isArray(b))
		return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
	if (!isObject(a) || !isObject(b)) return false;
	const ka = Object.keys(a), kb = Object.keys(b);
	return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
}

// RFC 7386 MergePatch(target, patch): a new value; target and patch are not modified.
export function mergePatch(target, patch) {
	if (!isObject(patch)) return clone(patch);
	const out = isObject(target) ? clone(target) : {};
	for (const [k, v] of Object.entries(patch)) {
		if (v === null) delete out[k];
		else out[k] = mergePatch(out[k], v);
	}
	return out;
}

// The merge patch that turns `from` into `to` (mergePatch(from, diff) deep-equals to),
// or undefined when they are equal. Objects recurse, removed keys become null, anything
// else is replaced whole.
export function mergeDiff(from, to) {
	if (!isObject(from) || !isObject(to)) return deepEqual(from, to) ? undefined : clone(to);
	const patch = {};
	for (const k of Object.keys(from)) if (!Object.hasOwn(to, k)) patch[k] = null;
	for (const [k, v] of Object.entries(to)) {
		if (!Object.hasOwn(from, k)) patch[k] = clone(v);
		else {
			const d = mergeDiff(from[k], v);
			if (d !== undefined) patch[k] = d;
		}
	}
	return Object.keys(patch).length ? patch : undefined;
}

const escapeToken = (t) => String(t).replaceAll('~', '~0').replaceAll('/', '~1');
const unescapeToken = (t) => t.replaceAll('~1', '/').replaceAll('~0', '~');

export const toPointer = (parts) => parts.map((p) => '/' + escapeToken(p)).join('');
export const fromPointer = (ptr) => (ptr === '' ? [] : ptr.split('/').slice(1).map(unescapeToken));

export function getAt(doc, parts) {
	let cur = doc;
	for (const p of parts) {
		if (!isObject(cur) || !Object.hasOwn(cur, p)) return undefined;
		cur = cur[p];
	}
	return cur;
}

// Sets doc[parts...] = value, creating (or replacing non-object) parents.
export function setAt(doc, parts, value) {
	let cur = doc;
	for (const p of parts.slice(0, -1)) {
		if (!isObject(cur[p])) cur[p] = {};
		cur = cur[p];
	}
	cur[parts[parts.length - 1]] = value;
}

// Deletes doc[parts...]; then removes parents left empty, except those for which
// keep(parentParts) is true (for instance: they were empty objects in the saved document).
export function deleteAt(doc, parts, keep = () => false) {
	const chain = [doc];
	for (const p of parts.slice(0, -1)) {
		const next = chain[chain.length - 1][p];
		if (!isObject(next)) return;
		chain.push(next);
	}
	delete chain[chain.length - 1][parts[parts.length - 1]];
	for (let i = chain.length - 1; i > 0; i--) {
		if (Object.keys(chain[i]).length || keep(parts.slice(0, i))) break;
		delete chain[i - 1][parts[i - 1]];
	}
}

// The changes that turn `from` into `to`, keeping nulls: [{parts, value}] where a missing
// value (undefined) deletes. Unlike mergeDiff, "set to null" and "removed" stay apart, so
// a document that holds nulls (an environment removing what its stack gives) can be
// replayed onto another revision with applyChanges.
export function changes(from, to, parts = []) {
	if (!isObject(from) || !isObject(to)) return deepEqual(from, to) ? [] : [{ parts, value: clone(to) }];
	const out = [];
	for (const k of Object.keys(from)) if (!Object.hasOwn(to, k)) out.push({ parts: [...parts, k], value: undefined });
	for (const [k, v] of Object.entries(to)) {
		if (!Object.hasOwn(from, k)) out.push({ parts: [...parts, k], value: clone(v) });
		else out.push(...changes(from[k], v, [...parts, k]));
	}
	return out;
}

// doc with the changes of changes() applied in place; returns doc.
export function applyChanges(doc, list) {
	for (const { parts, value } of list) {
		if (!parts.length) return clone(value);
		if (value === undefined) deleteAt(doc, parts, () => true);
		else setAt(doc, parts, value);
	}
	return doc;
}
