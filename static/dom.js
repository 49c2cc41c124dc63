// dom: tiny DOM helpers. Every piece of text goes through text nodes / textContent,
// never through innerHTML, because values (config, hosts, file contents) can hold anything.

// el('div', {class: 'x', id: 'y', onclick: fn, hidden: true}, child, 'text', ...)
// Attributes: "class", "text" (textContent), "on*" (listeners), booleans (set or omit),
// "dataset" (object), everything else through setAttribute.
export function el(tag, attrs, ...children) {
	const node = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false) continue;
		if (k === 'class') node.className = v;
		else if (k === 'text') node.textContent = v;
		else if (k === 'dataset') Object.assign(node.dataset, v);
		else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
		else if (k === 'value') node.value = v;
		else if (k === 'checked') node.checked = Boolean(v);
		else if (v === true) node.setAttribute(k, '');
		else node.setAttribute(k, String(v));
	}
	append(node, children);
	return node;
}

function append(node, children) {
	for (const c of children) {
		if (c === undefined || c === null || c === false) continue;
		if (Array.isArray(c)) append(node, c);
		else node.append(typeof c === 'string' || typeof c === 'number' ? String(c) : c);
	}
}

export function $(sel, root = document) { return root.querySelector(sel); }
export function $$(sel, root = document) { return [...root.querySelectorAll(sel)]; }

export function clear(node) { node.replaceChildren(); return node; }

let ids = 0;
// A fresh element id for label/for and aria-describedby pairs.
export function uid(prefix = 'f') { ids += 1; return `${prefix}${ids}`; }

// Debounce fn by ms; the returned function has .flush() and .cancel().
export function debounce(fn, ms) {
	let t = null;
	const d = (...args) => { clearTimeout(t); t = setTimeout(() => { t = null; fn(...args); }, ms); };
	d.cancel = () => { clearTimeout(t); t = null; };
	d.flush = () => { if (t !== null) { d.cancel(); fn(); } };
	return d;
}
