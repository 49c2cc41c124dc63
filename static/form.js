// form: builds the environment editor from the schema's layout (layout.js) and binds every
// input to the JSON Pointer of the field it edits in the environment document. A value
// typed here is written into `edited`; an emptied input removes the key, so the value is
// inherited again (the placeholder shows what would be inherited: built-in default <-
// stack <- environment, layers.js). Maps are edited entry by entry as RFC 7386 wants it:
// an entry this environment adds is its own, one it removes from the stack is null here.
// Nothing here knows a field of the document: labels, help, controls, placement and the
// hints (show, disable, warn) all come from the schema.

import { el, uid } from './dom.js';
import { clone, deleteAt, fromPointer, getAt, isObject, setAt, toPointer } from './mergepatch.js';
import { checkValue, choiceMembers, matches } from './schema.js';
import { Layers, display, hintHolds, overlay } from './layers.js';
import { Catalog, CatalogView } from './components.js';
import { instancesBody, usesBody } from './componentform.js';

const INT_RE = /^-?\d+$/;
const WIDE = new Set(['textarea', 'lines', 'json']);

// buildForm(container, ctx) fills container and returns {find(pointer) -> field | null,
// reveal(field)}. ctx: {schema: {root, sections}, stack, env, stackDoc, saved, edited,
// catalog (components.js), onChange(), focusFallback(), rebuild(), state: {open: Set of
// pointers}}; edited is changed in place.
export function buildForm(container, ctx) {
	const form = new FormBuilder(ctx);
	container.replaceChildren(el('p', { class: 'legend' },
		el('span', { class: 'swatch own' }), 'set in this environment (empty a field to inherit)',
		el('span', { class: 'swatch' }), 'inherited from the stack or the defaults (shown greyed)'),
	form.warningBox, ...form.sections());
	form.refresh();
	return { find: (ptr) => form.find(ptr), reveal: (f) => reveal(f.input) };
}

// Opens every <details> around node (building what they hold).
function reveal(node) {
	for (let d = node?.closest('details'); d; d = d.parentElement?.closest('details')) d.open = true;
}

// Whether item or anything below it has a "warnIf" hint (remembered per item).
const warnsBelow = new WeakMap();
function mayWarn(item) {
	if (!warnsBelow.has(item)) {
		const kids = item.type === 'group' ? [...item.items, ...item.advanced] : item.type === 'map' ? [item.entry] : [];
		warnsBelow.set(item, Boolean(item.node.form.warnIf) || kids.some(mayWarn));
	}
	return warnsBelow.get(item);
}

// The document, as the form edits it: the environment's own values over what it inherits.
class DocScope {
	constructor(form) { this.form = form; this.layers = form.layers; }
	own(parts) { return this.layers.own(parts); }
	inherited(parts) { return this.layers.inherited(parts); }
	effective(parts) { return this.layers.effective(parts); }
	placeholder(parts) { return this.layers.placeholder(parts); }
	entries(parts) { return this.layers.entries(parts); }
	write(parts, value) {
		if (value === undefined) deleteAt(this.form.ctx.edited, parts, (p) => this.keep(p));
		else setAt(this.form.ctx.edited, parts, value);
		this.form.changed();
	}

	// An object left empty by a deletion stays when it is what makes something exist: an
	// entry, a chosen member or a nullable object that no lower layer gives, or an empty
	// object the saved document had.
	keep(parts) {
		const saved = getAt(this.form.ctx.saved, parts);
		if (isObject(saved) && !Object.keys(saved).length) return true;
		const node = this.layers.nodeAt(parts), parent = this.layers.nodeAt(parts.slice(0, -1));
		const makesExist = node?.nullable || parent?.kind === 'map' || choiceMembers(parent).has(parts[parts.length - 1]);
		return Boolean(makesExist) && (this.layers.lower(parts) ?? null) === null;
	}
}

// An array of objects, edited as one value (a merge patch replaces arrays whole): a copy
// is edited here and written back whole on every change.
class ListScope {
	constructor(outer, parts, nodeOf) {
		this.outer = outer;
		this.base = parts;
		this.nodeOf = nodeOf; // parts -> the schema node there
		const own = outer.own(parts);
		this.list = clone(Array.isArray(own) ? own : Array.isArray(outer.effective(parts)) ? outer.effective(parts) : []);
	}
	rel(parts) { return parts.slice(this.base.length); }
	own(parts) { return getAt(this.list, this.rel(parts)); }
	inherited(parts) {
		const node = this.nodeOf(parts);
		return node && Object.hasOwn(node, 'default') ? clone(node.default) : undefined;
	}
	effective(parts) { return overlay(this.inherited(parts), this.own(parts)); }
	placeholder(parts) {
		const v = this.inherited(parts);
		const node = this.nodeOf(parts);
		return v !== undefined && v !== null ? display(v) : node?.defaultText && !node.defaultText.startsWith('/') ? node.defaultText : '';
	}
	entries(parts) {
		const own = this.own(parts);
		return isObject(own) ? Object.entries(own).filter(([, v]) => v !== null).map(([key, v]) => ({ key, inherited: false, removed: false, own: v })) : [];
	}
	write(parts, value) {
		const rel = this.rel(parts);
		if (!rel.length) this.list = value === undefined ? [] : value;
		else if (value === undefined) deleteAt(this.list, rel, (p) => p.length === 1);
		else setAt(this.list, rel, value);
		this.outer.write(this.base, clone(this.list));
	}
	push(item) { this.list.push(item); this.outer.write(this.base, clone(this.list)); }
	remove(i) { this.list.splice(i, 1); this.outer.write(this.base, clone(this.list)); }
}

class FormBuilder {
	constructor(ctx) {
		this.ctx = ctx;
		this.root = ctx.schema.root;
		this.catalog = new CatalogView(this.root, ctx.catalog || new Catalog());
		this.layers = new Layers(this.root, ctx.stackDoc, ctx.edited, { stack: ctx.stack, env: ctx.env }, {
			nodeAt: (layers, parts) => this.catalog.nodeAt(layers, parts),
			expand: (layers, parts, text) => this.catalog.expand(layers, parts, text),
		});
		this.doc = new DocScope(this);
		this.fields = new Map(); // pointer -> {input, wrap, error, pointer, local}
		this.lazy = new Map();   // pointer -> build(): content not built until shown or looked for
		this.live = [];          // refreshers run after every change: placeholders, hints, summaries
		this.open = ctx.state?.open || new Set();
		this.warningBox = el('div', { class: 'banner warnings', role: 'status', 'aria-live': 'polite', hidden: true });
	}

	// Runs fn with one refresh (and one onChange) for all the writes it makes.
	batch(fn) {
		this.batching = (this.batching || 0) + 1;
		try { fn(); } finally { this.batching--; }
		if (!this.batching) this.changed();
	}

	changed() {
		this.layers.changed();
		if (this.batching) return;
		this.refresh();
		this.ctx.onChange();
	}

	refresh() {
		this.warned = this.warnings();
		this.live = this.live.filter((r) => r.node.isConnected);
		for (const r of this.live) r.run();
		this.showWarnings();
	}

	// run() now and after every change, while node is in the page.
	watch(node, run) {
		this.live.push({ node, run });
		run();
	}

	// Exact field, or the nearest one above the pointer (building closed parts on the way).
	find(ptr) {
		const parts = fromPointer(ptr);
		for (let n = 1; n <= parts.length; n++) this.lazy.get(toPointer(parts.slice(0, n)))?.();
		for (let n = parts.length; n > 0; n--) {
			const f = this.fields.get(toPointer(parts.slice(0, n)));
			if (f) return f;
		}
		return null;
	}

	register(parts, f) {
		f.pointer = toPointer(parts);
		f.input.dataset.pointer = f.pointer;
		this.fields.set(f.pointer, f);
		return f;
	}

	// ---- sections ----

	sections() {
		return this.ctx.schema.sections.map((s) => {
			const h = uid('h');
			const basic = s.items.filter((i) => !i.node.form.advanced), adv = s.items.filter((i) => i.node.form.advanced);
			const body = [];
			for (const item of basic) body.push(...(item.label === s.title ? this.bare(item, [item.name], this.doc) : this.items([item], [], this.doc, '')));
			if (adv.length) body.push(this.more(adv, [], this.doc, ''));
			return el('section', { class: 'section', id: s.id, 'aria-labelledby': h }, el('h2', { id: h, text: s.title }), ...body);
		});
	}

	// An item without its own frame: the section titled like it holds it.
	bare(item, parts, sc) {
		if (item.type === 'group') return this.groupBody(item, parts, sc, '');
		if (item.type === 'map') return this.mapBody(item, parts, sc, '');
		return this.items([item], parts.slice(0, -1), sc, '');
	}

	// Items of one object (at parent): short fields side by side, the rest one below the
	// other.
	items(items, parent, sc, owner) {
		const out = [];
		let grid = null;
		for (const item of items) {
			const node = this.item(item, [...parent, item.name], sc, owner);
			if (item.type === 'field' && !WIDE.has(item.control)) {
				if (!grid) out.push(grid = el('div', { class: 'grid' }));
				grid.append(node);
			} else {
				grid = null;
				out.push(node);
			}
		}
		return out;
	}

	item(item, parts, sc, owner) {
		switch (item.type) {
		case 'group': return item.node.form.collapsed ? this.card(item, parts, sc, owner) : this.group(item, parts, sc, owner);
		case 'map': return this.map(item, parts, sc, owner);
		case 'list': return this.list(item, parts, sc, owner);
		default: return this.field(item, parts, sc, owner);
		}
	}

	// "More settings": the advanced items, built when first opened.
	more(items, parent, sc, owner) {
		const body = el('div', { class: 'more-body' });
		const names = items.map((i) => i.label.toLowerCase()).join(', ');
		const d = el('details', { class: 'more' }, el('summary', {}, 'More settings', el('span', { class: 'muted', text: ` ${names}` })), body);
		this.lazyDetails(d, toPointer([...parent, '#more']), () => body.append(...this.items(items, parent, sc, owner)),
			items.map((i) => toPointer([...parent, i.name])));
		return d;
	}

	// Builds content the first time d opens (or a pointer under keys is looked for); keeps
	// d open across rebuilds.
	lazyDetails(d, key, build, keys = [key]) {
		let built = false;
		const once = () => { if (!built) { built = true; build(); this.refreshIn(d); } };
		for (const k of keys) this.lazy.set(k, once);
		d.addEventListener('toggle', () => {
			if (d.open) { once(); this.open.add(key); } else this.open.delete(key);
		});
		if (this.open.has(key)) { once(); d.open = true; }
	}

	refreshIn(node) {
		for (const r of this.live) if (node.contains(r.node)) r.run();
	}

	// ---- fields ----

	field(item, parts, sc, owner, { srLabel = false } = {}) {
		const node = item.node;
		if (item.control === 'secret') return this.secretField(item, parts, sc, owner);
		const control = this.control(item, parts, sc);
		const help = this.help(item);
		const hint = help ? el('p', { class: 'hint', id: uid('h'), text: help }) : null;
		const error = el('p', { class: 'field-error', id: uid('e'), hidden: true });
		const check = el('p', { class: 'field-check', id: uid('c'), hidden: true });
		const warn = node.form.warnIf ? el('p', { class: 'field-warning', hidden: true }) : null;
		const label = el('label', { for: control.id, text: item.label, class: srLabel ? 'sr-only' : null });
		const inline = item.control === 'bool';
		const wrap = el('div', { class: `field${inline ? ' check' : ''}${WIDE.has(item.control) ? ' wide' : ''}`, dataset: { name: item.name } },
			...(inline ? [control, label] : [label, control]), this.nullToggle(item, parts, sc, owner), hint, check, warn, error);
		if (hint) control.setAttribute('aria-describedby', hint.id);
		const f = this.register(parts, { input: control, wrap, error, check, local: null, hint: hint?.id });
		this.watch(wrap, () => this.refreshField(f, item, parts, sc, warn));
		return wrap;
	}

	help(item) {
		const node = item.node;
		const bits = [item.control === 'lines' ? 'One per line.' : '', node.description];
		if (node.minimum !== undefined && node.maximum !== undefined && node.kind !== 'intOrString') bits.push(`(${node.minimum} to ${node.maximum})`);
		return bits.filter(Boolean).join(' ');
	}

	refreshField(f, item, parts, sc, warn) {
		const own = sc.own(parts);
		const node = item.node;
		f.wrap.classList.toggle('own', own !== undefined);
		f.wrap.classList.toggle('nulled', own === null);
		if (!f.input.matches(':focus')) this.showValue(f.input, item, own, sc, parts);
		else if ('placeholder' in f.input && item.control !== 'select') f.input.placeholder = own === null ? 'none (removed here)' : sc.placeholder(parts);
		const parent = parts.slice(0, -1);
		f.wrap.hidden = sc === this.doc && Boolean(node.form.showIf) && !hintHolds(this.layers, parent, node.form.showIf);
		const off = Boolean(node.form.disableIf) && sc === this.doc && hintHolds(this.layers, parent, node.form.disableIf);
		f.input.disabled = off || own === null;
		f.wrap.classList.toggle('greyed', off);
		f.input.title = off ? node.form.disabledText || 'Not used with the current settings'
			: own !== undefined ? 'Set in this environment (empty it to inherit)' : 'Inherited from the stack or the defaults';
		if (warn) {
			const v = sc.effective(parts);
			const on = node.form.warnIf.some((x) => x === v);
			warn.hidden = !on;
			warn.textContent = on ? `⚠ ${node.form.warning || 'check this value'}` : '';
			f.wrap.classList.toggle('warned', on);
		}
	}

	showValue(input, item, own, sc, parts) {
		const c = item.control;
		if (c === 'bool') { input.checked = Boolean(sc.effective(parts)); return; }
		if (c === 'select') {
			input.value = own === undefined || own === null ? '\u0000' : `=${own}`;
			input.options[0].text = `inherit (${this.enumText(item.node, sc.placeholder(parts)) || 'default'})`;
			return;
		}
		input.value = own === undefined || own === null ? '' : c === 'json' ? JSON.stringify(own, null, 2) : c === 'lines' ? (Array.isArray(own) ? own.join('\n') : String(own)) : String(own);
		input.placeholder = own === null ? 'none (removed here)' : sc.placeholder(parts);
	}

	enumText(node, v) {
		const words = node.form.enumLabels;
		return words && Object.hasOwn(words, v) ? words[v] : v === '' ? '(empty)' : String(v);
	}

	control(item, parts, sc) {
		const c = item.control, node = item.node;
		const id = uid();
		if (c === 'bool') {
			const input = el('input', { type: 'checkbox', id });
			input.addEventListener('change', () => {
				const inh = sc.inherited(parts);
				const back = input.checked === Boolean(inh) && getAt(this.ctx.saved, parts) === undefined && sc === this.doc;
				sc.write(parts, back ? undefined : input.checked);
			});
			return input;
		}
		if (c === 'select') {
			const values = node.kind === 'boolean' ? [true, false] : node.enum;
			const input = el('select', { id }, el('option', { value: '\u0000', text: 'inherit' }),
				values.map((v) => el('option', { value: `=${v}`, text: this.enumText(node, v) })));
			input.addEventListener('change', () => sc.write(parts, input.value === '\u0000' ? undefined
				: values.find((v) => `=${v}` === input.value)));
			return input;
		}
		const multi = WIDE.has(c);
		const input = el(multi ? 'textarea' : 'input', { id, spellcheck: 'false', autocomplete: 'off', ...(multi ? { rows: c === 'json' ? '4' : '2' } : { type: 'text' }) });
		if (c === 'int') { input.inputMode = 'numeric'; input.classList.add('num'); }
		input.addEventListener('input', () => this.typed(input, item, parts, sc));
		input.addEventListener('blur', () => this.showValue(input, item, sc.own(parts), sc, parts), { passive: true });
		return input;
	}

	// A value typed: parsed for its kind, checked early, written (or removed when empty).
	typed(input, item, parts, sc) {
		const f = this.fields.get(toPointer(parts));
		const raw = item.control === 'lines' || item.control === 'textarea' || item.control === 'json' ? input.value : input.value.trim();
		let v, problem = null;
		if (raw === '') v = this.keepsEmpty(parts, sc) ? '' : undefined;
		else if (item.control === 'json') {
			try { v = JSON.parse(raw); } catch (e) { problem = `not valid JSON: ${e.message}`; }
		} else if (item.control === 'lines') v = raw.replace(/\n$/, '').split('\n');
		else if (item.control === 'int' || item.control === 'intOrString') v = INT_RE.test(raw) ? Number(raw) : raw;
		else v = raw;
		if (!problem && v !== undefined) problem = item.control === 'lines' ? v.map((x) => checkValue(item.node.items, x)).find(Boolean) || null : checkValue(item.node, v);
		if (f) this.setLocal(f, problem);
		if (item.control === 'json' && problem) return; // nothing sensible to write yet
		sc.write(parts, v);
	}

	// An emptied value of an entry only this environment has stays "" (removing it would
	// remove the entry).
	keepsEmpty(parts, sc) {
		const parent = this.layers.nodeAt(parts.slice(0, -1));
		return parent?.kind === 'map' && sc === this.doc && this.layers.inherited(parts) === undefined && sc.own(parts) !== undefined;
	}

	setLocal(f, problem) {
		f.local = problem;
		f.check.hidden = !problem;
		f.check.textContent = problem ? `${problem[0].toUpperCase()}${problem.slice(1)}.` : '';
		if (!f.error.hidden) return; // the server's message stays the description
		if (problem) f.input.setAttribute('aria-invalid', 'true');
		else f.input.removeAttribute('aria-invalid');
		const own = problem ? f.check.id : f.hint;
		if (own) f.input.setAttribute('aria-describedby', own);
		else f.input.removeAttribute('aria-describedby');
	}

	// Nullable arrays and JSON values: "none" (null) is a value of its own.
	nullToggle(item, parts, sc, owner) {
		if (!item.node.nullable || !WIDE.has(item.control)) return null;
		const b = el('button', { type: 'button', class: 'small link' });
		this.watch(b, () => {
			const own = sc.own(parts), eff = sc.effective(parts);
			b.hidden = own !== null && (eff === null || eff === undefined);
			b.textContent = own === null ? 'Inherit again' : 'Set to none';
			b.setAttribute('aria-label', `${own === null ? 'Inherit' : 'Set to none'}: ${item.label}${owner ? ` of ${owner}` : ''}`);
		});
		b.addEventListener('click', () => sc.write(parts, sc.own(parts) === null ? undefined : null));
		return b;
	}

	// Secrets are write-only: the server only says whether each is set.
	secretField(item, parts, sc) {
		const key = parts[parts.length - 1];
		const mine = getAt(this.ctx.saved, parts);
		const inh = this.layers.lower(parts);
		const isSet = (mine !== undefined ? mine : inh)?.set === true;
		const input = el('input', { type: 'password', id: uid(), autocomplete: 'new-password', spellcheck: 'false', placeholder: isSet ? 'leave empty to keep' : 'not set: type a value' });
		const error = el('p', { class: 'field-error', id: uid('e'), hidden: true });
		const cell = el('td', { class: 'field cell' }, el('label', { for: input.id, class: 'sr-only', text: `New value for ${key}` }), input, error);
		input.addEventListener('input', () => {
			sc.write(parts, input.value !== '' ? input.value : mine === undefined ? undefined : clone(mine));
			cell.classList.toggle('own', input.value !== '');
		});
		this.register(parts, { input, wrap: cell, error, check: el('p'), local: null });
		return el('tr', { dataset: { secret: key } },
			el('th', { scope: 'row', class: 'mono', text: key }),
			el('td', {}, el('span', { class: isSet ? 'badge ok' : 'badge warn', text: isSet ? 'set' : 'not set' })),
			cell);
	}

	// ---- groups (objects) ----

	group(item, parts, sc, owner) {
		const legend = el('legend', { text: item.label });
		const box = el('fieldset', { class: 'group', dataset: { name: item.name } }, legend);
		this.groupFrame(item, parts, sc, owner, box, legend);
		return box;
	}

	// The frame of an object: its label, "Add"/"Remove" for a nullable one, error and
	// hints; the body is built now or when a closed card opens.
	groupFrame(item, parts, sc, owner, box, head) {
		const node = item.node;
		const error = el('p', { class: 'field-error', id: uid('e'), hidden: true });
		const target = el('span', { class: 'anchor', tabindex: '-1' });
		head.append(target);
		if (!box.contains(head)) box.prepend(head);
		if (node.description) box.append(el('p', { class: 'hint', text: node.description }));
		const body = el('div', { class: 'group-body' });
		const toggle = node.nullable ? el('button', { type: 'button', class: 'small' }) : null;
		if (toggle) head.after(toggle);
		box.append(error, body);
		this.register(parts, { input: target, wrap: box, error, check: el('p'), local: null });
		let built = false;
		const build = () => { built = true; body.replaceChildren(...this.groupBody(item, parts, sc, owner)); this.refreshIn(body); };
		this.watch(box, () => {
			const v = sc.effective(parts), own = sc.own(parts);
			const off = node.nullable && (v === null || v === undefined);
			box.classList.toggle('own', own !== undefined);
			box.classList.toggle('off', off);
			body.hidden = off;
			if (node.form.showIf && sc === this.doc) box.hidden = !hintHolds(this.layers, parts.slice(0, -1), node.form.showIf);
			if (toggle) {
				toggle.textContent = off ? `+ Add ${item.label.toLowerCase()}` : 'Remove';
				toggle.setAttribute('aria-label', `${off ? 'Add' : 'Remove'} ${this.what(item, owner)}`);
			}
			if (!off && !built) build();
		});
		toggle?.addEventListener('click', () => {
			const v = sc.effective(parts), own = sc.own(parts);
			if (v === null || v === undefined) sc.write(parts, own === null && sc.inherited(parts) ? undefined : {});
			else sc.write(parts, null);
		});
	}

	// The fields of an object: its short fields side by side first, then the longer ones in
	// order; the member picker of a oneOf before them when its members come first in the
	// schema, else after the short fields; "More settings" for the advanced ones.
	groupBody(item, parts, sc, owner) {
		const node = item.node;
		const pos = (name) => node.props.findIndex((p) => p.name === name);
		const short = item.items.filter((i) => i.type === 'field' && !WIDE.has(i.control));
		const long = item.items.filter((i) => !short.includes(i));
		const out = [];
		const choice = item.choice ? this.choice(item, parts, sc, owner) : null;
		const choiceFirst = choice && (!short.length || Math.min(...item.choice.members.map((m) => pos(m.name))) < pos(short[0].name));
		if (choiceFirst) out.push(choice);
		out.push(...this.items(short, parts, sc, owner));
		if (choice && !choiceFirst) out.push(choice);
		out.push(...this.items(long, parts, sc, owner));
		if (item.advanced.length) out.push(this.more(item.advanced, parts, sc, owner));
		return out;
	}

	// The member picker of an object with oneOf / atMostOneOf and the chosen member's fields.
	choice(item, parts, sc, owner) {
		const ch = item.choice;
		const present = () => ch.members.find((m) => { const v = sc.effective([...parts, m.name]); return v !== undefined && v !== null; })?.name;
		let current = present() ?? (ch.exactly ? ch.members[0].name : '');
		const select = el('select', { id: uid() },
			ch.exactly ? null : el('option', { value: '', text: ch.none }),
			ch.members.map((m) => el('option', { value: m.name, text: m.name })));
		select.value = current;
		const slot = el('div', { class: 'choice-body' });
		const draw = () => {
			const m = ch.members.find((x) => x.name === current);
			slot.replaceChildren(...(m ? (m.type === 'group' ? this.groupBody(m, [...parts, m.name], sc, owner) : this.items([m], parts, sc, owner)) : []));
			this.refreshIn(slot);
		};
		select.addEventListener('change', () => {
			current = select.value;
			this.batch(() => this.choose(ch, parts, sc, current));
			draw();
		});
		const label = el('label', { for: select.id, text: ch.label });
		select.setAttribute('aria-label', `${ch.label} of ${this.what(item, owner)}`);
		select.dataset.choice = toPointer(parts);
		draw();
		return el('div', { class: 'choice' }, el('div', { class: 'field choice-pick' }, label, select), slot);
	}

	// How an object reads in a label: "volume cache" for a map's entry, else "readiness of
	// order-service".
	what(item, owner) {
		const entry = ['*', '[]'].includes(item.path[item.path.length - 1]);
		return entry ? `${item.label}${owner ? ` ${owner}` : ''}` : `${item.label.toLowerCase()}${owner ? ` of ${owner}` : ''}`;
	}

	// Picking member m (or none: ''): the others the environment inherits become null, its
	// own others go; m itself is inherited again if it was null here, or made present.
	choose(ch, parts, sc, m) {
		for (const c of ch.members) {
			const p = [...parts, c.name];
			const inh = sc.inherited(p), own = sc.own(p);
			if (c.name === m) {
				if (own === null) sc.write(p, undefined);
				const v = sc.effective(p);
				if ((v === undefined || v === null) && (c.node.kind === 'object' || c.node.kind === 'map')) sc.write(p, {});
			} else if (inh !== undefined && inh !== null) {
				if (own !== null) sc.write(p, null);
			} else if (own !== undefined) sc.write(p, undefined);
		}
	}

	// A group shown as a closed card (hint "collapsed"): built when opened.
	card(item, parts, sc, owner) {
		const summary = el('summary', {}, el('span', { class: 'entry-name', text: item.label }));
		const d = el('details', { class: 'entry card', dataset: { entry: item.name } }, summary);
		const inner = el('div', { class: 'entry-body' });
		d.append(inner);
		this.lazyDetails(d, toPointer(parts), () => {
			const box = el('div', { class: 'group bare' });
			inner.append(box);
			this.groupFrame(item, parts, sc, owner, box, el('span'));
		});
		return d;
	}

	// ---- maps ----

	map(item, parts, sc, owner) {
		const legend = el('legend', { text: item.label });
		const box = el('fieldset', { class: 'group map', dataset: { name: item.name } }, legend);
		if (item.node.description) box.append(el('p', { class: 'hint', text: item.node.description }));
		box.append(...this.mapBody(item, parts, sc, owner));
		return box;
	}

	mapBody(item, parts, sc, owner) {
		const entry = item.entry;
		const error = el('p', { class: 'field-error', id: uid('e'), hidden: true });
		const anchor = el('span', { class: 'anchor', tabindex: '-1' });
		if (entry.type === 'field' && entry.control === 'secret') return this.secretTable(item, parts, sc, owner, error, anchor);
		if (item.node.form.catalogType && sc === this.doc) return instancesBody(this, item, parts, owner, error, anchor);
		if (item.node.form.catalogConsumer && sc === this.doc) return usesBody(this, item, parts, owner, error, anchor);
		const rows = el('div', { class: `entries ${entry.type === 'field' || item.node.form.compact ? 'rows' : 'cards'}` });
		for (const e of sc.entries(parts)) rows.append(this.entry(item, parts, sc, owner, e));
		const add = el('button', { type: 'button', class: 'small add', text: `+ Add ${item.item}`, 'aria-label': `Add ${item.item}${owner ? ` to ${owner}` : ''}` });
		add.addEventListener('click', () => {
			const row = this.entry(item, parts, sc, owner, null);
			rows.append(row);
			row.querySelector('input')?.focus();
		});
		this.register(parts, { input: anchor, wrap: rows, error, check: el('p'), local: null });
		return [anchor, error, rows, add];
	}

	// One entry of a map: its name, its value, and its actions. An entry this environment
	// adds has its name in an input (renamed in place); one it inherits can be removed (null
	// here; Restore takes the null back) or renamed (null under the old name, its value
	// copied under the new one).
	entry(item, parts, sc, owner, e) {
		const v = new EntryView(this, item, parts, sc, owner, e);
		return v.row;
	}

	// One-line summary of an entry: the fields its schema marks "summary", and a warning.
	chips(entry, parts, sc) {
		if (entry.type !== 'group') return '';
		const bits = [];
		for (const i of entry.items) {
			if (!i.node.form.summary) continue;
			const p = [...parts, i.name];
			if (i.node.form.showIf && !hintHolds(this.layers, parts, i.node.form.showIf)) continue;
			if (i.type === 'map') {
				const keys = sc.entries(p).filter((x) => !x.removed).map((x) => x.key);
				bits.push(`${i.label.toLowerCase()}: ${keys.join(', ') || 'none'}`);
			} else {
				const v = sc.effective(p);
				if (v !== undefined && v !== null) bits.push(`${i.label.toLowerCase()}: ${i.node.enum ? this.enumText(i.node, v) : display(v)}`);
			}
		}
		const warned = (this.warned || []).filter((w) => toPointer(w.parts).startsWith(`${toPointer(parts)}/`));
		if (warned.length) bits.push(`⚠ ${warned.length} warning${warned.length === 1 ? '' : 's'}`);
		return bits.length ? ` · ${bits.join(' · ')}` : '';
	}

	// Secrets: one row per key (write-only values).
	secretTable(item, parts, sc, owner, error, anchor) {
		const rows = sc.entries(parts).map((e) => this.secretField(item.entry, [...parts, e.key], sc, owner));
		this.register(parts, { input: anchor, wrap: anchor, error, check: el('p'), local: null });
		return [anchor, error, el('table', { class: 'kv secrets' },
			el('caption', { class: 'sr-only', text: `${item.label} (write-only)` }),
			el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Secret' }), el('th', { scope: 'col', text: 'Status' }),
				el('th', { scope: 'col', text: 'New value (write-only; leave empty to keep)' }))),
			el('tbody', {}, rows))];
	}

	// ---- lists (arrays of objects, replaced whole) ----

	list(item, parts, sc, owner) {
		const legend = el('legend', { text: item.label });
		const box = el('fieldset', { class: 'group list', dataset: { name: item.name } }, legend);
		const body = el('div', { class: 'entries rows' });
		const error = el('p', { class: 'field-error', id: uid('e'), hidden: true });
		const anchor = el('span', { class: 'anchor', tabindex: '-1' });
		const inherit = el('button', { type: 'button', class: 'small link', text: 'Inherit again', 'aria-label': `Inherit ${item.label.toLowerCase()} again${owner ? ` for ${owner}` : ''}` });
		const add = el('button', { type: 'button', class: 'small add', text: `+ Add ${item.item}`, 'aria-label': `Add ${item.item}${owner ? ` to ${owner}` : ''}` });
		box.append(anchor, inherit, error, body, add);
		this.register(parts, { input: anchor, wrap: box, error, check: el('p'), local: null });
		let ls;
		const draw = () => {
			ls = new ListScope(sc, parts, (p) => this.layers.nodeAt(p));
			body.replaceChildren(...ls.list.map((_, i) => {
				const p = [...parts, String(i)];
				const remove = el('button', { type: 'button', class: 'icon', text: '×', 'aria-label': `Remove ${item.item} ${i + 1}${owner ? ` of ${owner}` : ''}` });
				remove.addEventListener('click', () => { ls.remove(i); draw(); });
				const inner = el('div', { class: 'group bare' });
				const card = el('div', { class: 'entry row' }, el('span', { class: 'entry-key mono', text: `#${i + 1}` }), inner, el('span', { class: 'entry-actions' }, remove));
				inner.append(...this.groupBody(item.entry, p, ls, owner));
				return card;
			}));
			inherit.hidden = sc.own(parts) === undefined;
			box.classList.toggle('own', sc.own(parts) !== undefined);
			this.refreshIn(body);
		};
		add.addEventListener('click', () => { ls.push({}); draw(); body.lastElementChild?.querySelector('input, select')?.focus(); });
		inherit.addEventListener('click', () => { sc.write(parts, undefined); draw(); });
		draw();
		return box;
	}

	// ---- warnings ----

	// Every field whose value its schema warns about ("warnIf"), over the entries of maps.
	warnings() {
		const out = [];
		const visit = (item, parts, owner) => {
			if (item.node.inputOnly || !mayWarn(item)) return;
			if (item.type === 'field' && item.node.form.warnIf) {
				const v = this.layers.effective(parts);
				if (item.node.form.warnIf.some((x) => x === v)) out.push({ parts, owner, text: item.node.form.warning || `${item.label} is ${display(v)}` });
			} else if (item.type === 'group') {
				for (const i of [...item.items, ...item.advanced]) visit(i, [...parts, i.name], owner);
			} else if (item.type === 'map') {
				for (const e of this.layers.entries(parts)) if (!e.removed) visit(item.entry, [...parts, e.key], e.key);
			}
		};
		for (const s of this.ctx.schema.sections) for (const i of s.items) visit(i, [i.name], '');
		return out;
	}

	showWarnings() {
		const list = this.warned;
		const key = JSON.stringify(list);
		if (key === this.shownWarnings) return;
		this.shownWarnings = key;
		this.warningBox.hidden = !list.length;
		this.warningBox.replaceChildren(...(list.length ? [el('h2', { text: `${list.length} warning${list.length === 1 ? '' : 's'}` }),
			el('ul', {}, list.map((w) => el('li', {},
				el('a', { href: '#', class: 'ptr', text: w.owner || toPointer(w.parts), onclick: (ev) => {
					ev.preventDefault();
					const f = this.find(toPointer(w.parts));
					if (f) { reveal(f.input); f.input.scrollIntoView({ block: 'center' }); f.input.focus(); }
				} }), `: ${w.text}`))),
		] : []));
	}
}


// Values without the nulls in them: what an entry copied under a new name keeps (a null
// there would remove nothing).
function withoutNulls(v) {
	if (!isObject(v)) return clone(v);
	return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, withoutNulls(x)]));
}

// A text input that may sit in a <summary>: clicks and the space bar stay with it (they
// would open or close the <details> around it).
function summaryInput(attrs) {
	const input = el('input', { type: 'text', id: uid(), class: 'mono', spellcheck: 'false', autocomplete: 'off', ...attrs });
	input.addEventListener('click', (ev) => ev.preventDefault());
	input.addEventListener('keyup', (ev) => { if (ev.key === ' ') ev.preventDefault(); });
	return input;
}

// One entry of a map in the form (FormBuilder.entry).
class EntryView {
	constructor(form, item, parts, sc, owner, e) {
		Object.assign(this, { form, item, parts, sc, owner });
		this.key = e?.key ?? null;
		this.inherited = Boolean(e?.inherited);
		this.compact = item.entry.type === 'field' || item.node.form.compact;
		this.of = owner ? ` of ${owner}` : '';
		this.keyBox = el('span', { class: 'entry-key' });
		this.body = el('div', { class: 'entry-body' });
		this.actions = el('span', { class: 'entry-actions' });
		this.drawKey();
		if (this.compact) this.row = el('div', { class: 'entry row' }, this.keyBox, this.body, this.actions);
		else this.card();
		this.row.dataset.entry = this.key ?? '';
		this.row.classList.toggle('own', !this.inherited);
		this.row.classList.toggle('removed', this.key !== null && this.removed);
		if (this.compact || this.key === null) this.drawBody();
		this.drawActions();
		if (this.key !== null) this.registerKey();
	}

	get at() { return [...this.parts, this.key]; }
	get removed() { return this.inherited && this.sc.own(this.at) === null; }

	card() {
		const chips = el('span', { class: 'chips muted' });
		this.row = el('details', { class: 'entry card' }, el('summary', {}, this.keyBox, chips), this.actions, this.body);
		if (this.key === null) { this.row.open = true; return; }
		this.form.watch(chips, () => { chips.textContent = this.form.chips(this.item.entry, this.at, this.sc); });
		this.form.lazyDetails(this.row, toPointer(this.at), () => this.drawBody());
	}

	registerKey() {
		const input = this.compact ? (this.keyBox.querySelector('input') || this.keyBox) : this.row.querySelector('summary');
		this.form.register(this.at, { input, wrap: this.row, error: el('p', { class: 'field-error', hidden: true }), check: el('p'), local: null });
	}

	drawKey() {
		this.keyBox.replaceChildren();
		if (!this.inherited) { this.keyBox.append(this.keyInput()); return; }
		this.keyBox.append(el('span', { class: 'mono key', text: this.key, title: this.key }));
		this.keyBox.tabIndex = -1;
	}

	drawBody() {
		const { form, item, sc, body } = this;
		const entry = item.entry;
		body.replaceChildren();
		this.row.classList.toggle('removed', Boolean(this.key !== null && this.removed));
		if (this.key === null) {
			if (entry.type === 'field') body.append(this.pendingValue());
			return;
		}
		const p = this.at;
		if (this.removed) body.append(el('span', { class: 'muted', text: 'removed in this environment' }));
		else if (entry.type === 'group' && this.compact) body.append(...form.groupBody(entry, p, sc, this.key));
		else if (entry.type === 'group') {
			const box = el('div', { class: 'group bare' });
			body.append(box);
			form.groupFrame(entry, p, sc, this.key, box, el('span'));
		} else if (entry.type === 'list') body.append(form.list(entry, p, sc, this.key));
		else if (entry.type === 'map') body.append(form.map(entry, p, sc, this.key));
		else body.append(form.field({ ...entry, label: `${item.item} ${this.key}` }, p, sc, this.owner, { srLabel: true }));
		form.refreshIn(body);
	}

	drawActions() {
		const noun = this.item.item;
		const button = (text, label, onclick, cls = 'small') => el('button', { type: 'button', class: cls, text, 'aria-label': label, onclick });
		this.actions.replaceChildren();
		if (this.key !== null && this.removed) {
			this.actions.append(button('Restore', `Restore ${noun} ${this.key}${this.of}`, () => this.restore()));
			return;
		}
		if (this.inherited) this.actions.append(button('Rename', `Rename ${noun} ${this.key}${this.of}`, () => this.startRename()));
		this.actions.append(button('×', `Remove ${noun}${this.key !== null ? ` ${this.key}` : ''}${this.of}`, () => this.remove(), 'icon'));
	}

	// The shorthands that stand for this entry (when the document has one), all at once.
	writeWithShorthands(value, restore) {
		const { form, sc } = this;
		form.batch(() => {
			sc.write(this.at, value);
			if (sc !== form.doc) return;
			if (restore) for (const sh of form.layers.shorthandsFor(this.at)) { if (sc.own(sh) === null) sc.write(sh, undefined); }
			else {
				const sh = form.layers.shorthandOf(this.at);
				if (sh) sc.write(sh, sc.inherited(sh) !== undefined && sc.inherited(sh) !== null ? null : undefined);
			}
		});
	}

	restore() {
		this.writeWithShorthands(undefined, true);
		this.drawBody();
		this.drawActions();
	}

	remove() {
		if (this.key !== null && this.inherited) {
			this.writeWithShorthands(null, false);
			this.drawBody();
			this.drawActions();
			this.actions.querySelector('button')?.focus();
			return;
		}
		if (this.key !== null) this.sc.write(this.at, undefined);
		const next = this.row.nextElementSibling || this.row.previousElementSibling;
		this.row.remove();
		(next?.querySelector('input, select, summary') || this.form.ctx.focusFallback?.())?.focus();
	}

	// Why k cannot name this entry, or null.
	badName(k) {
		const node = this.item.node;
		if (k === '') return 'needs a name';
		if (k !== this.key && this.sc.entries(this.parts).some((x) => x.key === k)) return 'is taken';
		if (node.keyPattern && !matches(node.keyPattern, k)) return `must be ${node.keyText || 'a valid name'}`;
		return null;
	}

	// The name of an entry this environment adds: written once it is a valid, unused key;
	// renaming keeps the entry's place and value.
	keyInput() {
		const noun = this.item.item, for_ = this.owner ? ` for ${this.owner}` : '';
		const input = summaryInput({ value: this.key ?? '', 'aria-label': `${this.key === null ? 'New ' : ''}${noun} name${for_}` });
		const problem = el('span', { class: 'field-check', hidden: true });
		input.addEventListener('input', () => {
			const k = input.value.trim();
			const bad = this.badName(k);
			input.setAttribute('aria-invalid', String(bad !== null && k !== ''));
			problem.hidden = bad === null || k === '';
			problem.textContent = bad ? `The name ${bad}.` : '';
			if (bad) return;
			this.moveOwn(k);
			input.setAttribute('aria-label', `${noun} name${for_}`);
			this.row.dataset.entry = k;
			this.registerKey();
			this.drawBody();
			this.drawActions();
		});
		return el('span', {}, input, problem);
	}

	// This environment's entry moved from its name to k in place (or added: the value typed
	// before it had a name, or an empty object).
	moveOwn(k) {
		const own = isObject(this.sc.own(this.parts)) ? this.sc.own(this.parts) : {};
		const out = {};
		let moved = false;
		for (const [key, v] of Object.entries(own)) {
			if (key === this.key) { out[k] = v; moved = true; } else out[key] = v;
		}
		const type = this.item.entry.type;
		if (!moved) out[k] = type === 'field' ? (this.pending ?? '') : type === 'list' ? [] : {};
		this.key = k;
		this.sc.write(this.parts, out);
	}

	// An inherited entry renamed: null under its name, its value under the new one.
	startRename() {
		const input = summaryInput({ value: this.key, 'aria-label': `New name of ${this.item.item} ${this.key}${this.of}` });
		const problem = el('span', { class: 'field-check', hidden: true });
		const done = (commit) => {
			const k = input.value.trim();
			const bad = commit && k !== this.key ? this.badName(k) : null;
			if (bad) { problem.hidden = false; problem.textContent = `The name ${bad}.`; input.setAttribute('aria-invalid', 'true'); return; }
			if (commit && k !== this.key) this.renameInherited(k);
			else { this.drawKey(); this.keyBox.focus(); }
		};
		input.addEventListener('keydown', (ev) => {
			if (ev.key === 'Enter') { ev.preventDefault(); done(true); }
			if (ev.key === 'Escape') { ev.preventDefault(); done(false); }
		});
		input.addEventListener('change', () => done(true));
		this.keyBox.replaceChildren(input, problem);
		input.focus();
		input.select();
	}

	renameInherited(k) {
		const value = withoutNulls(this.sc.effective(this.at));
		this.writeWithShorthands(null, false);
		this.sc.write([...this.parts, k], value);
		const fresh = this.form.entry(this.item, this.parts, this.sc, this.owner, { key: k, inherited: false });
		this.drawKey();
		this.drawBody();
		this.drawActions();
		this.row.after(fresh);
		fresh.querySelector('input')?.focus();
	}

	// The value input of a new scalar entry before it has a name.
	pendingValue() {
		const input = el('input', { type: 'text', id: uid(), spellcheck: 'false', autocomplete: 'off',
			'aria-label': `New ${this.item.item} value${this.owner ? ` for ${this.owner}` : ''}` });
		input.addEventListener('input', () => {
			if (this.key === null) this.pending = input.value;
			else this.sc.write(this.at, input.value);
		});
		return el('div', { class: 'field' }, input);
	}
}
