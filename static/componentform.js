// componentform: the form's parts for component instances and their uses (components.js
// finds their nodes). A map with the hint "catalogType" lists its instances, each with its
// type, whether it is enabled and the services that use it, and opens on the fields of its
// type's params (built from the type's schema like any other group: placeholders, own
// values, null); "Add" picks a type of the catalog and a name. A map with the hint
// "catalogConsumer" (a service's uses) is one checkbox per instance, with the consumer
// params of its type under a checked one. Everything comes from the catalog and the
// schema's hints: no type or field is named here.

import { el, uid } from './dom.js';
import { clone, fromPointer, isObject, toPointer } from './mergepatch.js';
import { matches } from './schema.js';
import { layoutOf } from './layout.js';
import { instanceType } from './components.js';

// The type's name of the instance at `at` and its loaded type (undefined while loading,
// null when the catalog has none).
function typeAt(form, m, at) {
	const name = instanceType(form.layers, at, m.member);
	return { name, type: name ? form.catalog.catalog.type(name) : null };
}

// ---- instances ----

export function instancesBody(form, item, parts, owner, error, anchor) {
	const m = form.catalog.maps.instances.find((x) => x.path.join('/') === item.path.join('/'))
		|| { path: item.path, node: item.node, member: item.node.form.catalogType };
	const rows = el('div', { class: 'entries cards components' });
	for (const e of form.doc.entries(parts)) rows.append(instanceCard(form, item, m, parts, e));
	form.register(parts, { input: anchor, wrap: rows, error, check: el('p'), local: null });
	const empty = el('p', { class: 'muted', text: `No ${item.node.noun || 'components'} yet.` });
	form.watch(empty, () => { empty.hidden = rows.children.length > 0; });
	return [anchor, error, empty, rows, addInstance(form, item, m, parts, rows, owner)];
}

function instanceCard(form, item, m, parts, e) {
	const key = e.key, at = [...parts, key];
	const sc = form.doc, noun = item.item;
	const removed = () => e.inherited && sc.own(at) === null;
	const chips = el('span', { class: 'chips muted' });
	const actions = el('span', { class: 'entry-actions' });
	const body = el('div', { class: 'entry-body' });
	const d = el('details', { class: `entry card${e.inherited ? '' : ' own'}`, dataset: { entry: key } },
		el('summary', {}, el('span', { class: 'mono key', text: key, title: key }), chips), body);
	// the actions stay outside the <details>: shown while it is closed, and no buttons in
	// its summary
	const wrap = el('div', { class: 'instance', dataset: { instance: key } }, d, actions);
	const enabledPath = [...at, 'enabled'];
	let kept;
	form.watch(chips, () => {
		const { name, type } = typeAt(form, m, at);
		const bits = [name || 'no type'];
		if (removed()) bits.push('removed in this environment');
		else {
			bits.push(sc.effective(enabledPath) === false ? 'disabled' : 'enabled');
			const users = form.catalog.usersOf(form.layers, m.path, key).map((u) => u.key);
			bits.push(users.length ? `used by ${users.join(', ')}` : 'used by no service');
		}
		if (type === null && name) bits.push('⚠ unknown type');
		chips.textContent = ` · ${bits.join(' · ')}`;
		d.classList.toggle('removed', removed());
		d.classList.toggle('disabled', sc.effective(enabledPath) === false);
	});
	const button = (text, label, onclick, cls = 'small') => el('button', { type: 'button', class: cls, text, 'aria-label': label, onclick });
	const drawActions = () => {
		actions.replaceChildren();
		if (removed()) {
			actions.append(button('Restore', `Restore ${noun} ${key}`, () => { sc.write(at, kept); kept = undefined; redraw(); }));
			return;
		}
		const on = sc.effective(enabledPath) !== false;
		actions.append(button(on ? 'Disable' : 'Enable', `${on ? 'Disable' : 'Enable'} ${noun} ${key}`, () => {
			const want = !on;
			const inh = sc.inherited(enabledPath);
			sc.write(enabledPath, (inh ?? true) === want && sc.own(enabledPath) !== undefined ? undefined : want);
			drawActions();
			actions.querySelector('button')?.focus();
		}));
		actions.append(button('×', `Remove ${noun} ${key}`, () => {
			if (e.inherited) {
				kept = clone(sc.own(at)); // what this environment set, back on Restore
				sc.write(at, null);
				redraw();
				actions.querySelector('button')?.focus();
				return;
			}
			sc.write(at, undefined);
			const next = wrap.nextElementSibling || wrap.previousElementSibling;
			wrap.remove();
			(next?.querySelector('summary') || form.ctx.focusFallback?.())?.focus();
		}, 'icon'));
	};
	const drawBody = () => {
		body.replaceChildren();
		if (removed()) { body.append(el('p', { class: 'muted', text: 'Removed in this environment (Restore brings it back).' })); return; }
		const { name, type } = typeAt(form, m, at);
		if (type === undefined && name) {
			body.append(el('p', { class: 'muted', text: `Loading the type ${name}…` }));
			form.catalog.catalog.load(name).catch(() => null).then(() => { form.layers.changed(); drawBody(); });
			return;
		}
		const node = type ? form.catalog.instanceNode(m, type) : null;
		const users = el('p', { class: 'hint used-by' });
		form.watch(users, () => {
			const list = form.catalog.usersOf(form.layers, m.path, key).map((u) => u.key);
			users.textContent = `Used by: ${list.length ? list.join(', ') : 'no service (a service uses it under its "Uses components")'}`;
		});
		const box = el('div', { class: 'group bare' });
		if (!node) {
			// an unknown type, or one whose params the server could not describe: the members
			// every instance has, and the rest as the raw JSON of the document
			box.append(el('p', { class: 'field-warning', text: type === null ? `The catalog has no type ${name || ''}: pick another or remove this ${noun}.` : `The type ${name} cannot be edited here (${type.problem}); use the JSON view.` }));
			body.append(box, users);
			return;
		}
		const lay = layoutOf(node, item.entry.path);
		const shown = { ...lay, items: lay.items.filter((i) => i.name !== m.member), advanced: lay.advanced.filter((i) => i.name !== m.member) };
		body.append(box, users);
		form.groupFrame(shown, at, sc, key, box, el('span'));
		form.refreshIn(body);
	};
	const redraw = () => { drawActions(); drawBody(); form.refreshIn(d); };
	drawActions();
	form.lazyDetails(d, toPointer(at), drawBody);
	form.register(at, { input: d.querySelector('summary'), wrap: d, error: el('p', { class: 'field-error', hidden: true }), check: el('p'), local: null });
	return wrap;
}

// Why name cannot name a new instance, or null.
function badName(form, item, parts, name) {
	const node = item.node, hint = node.form;
	if (name === '') return 'needs a name';
	if (node.keyPattern && !matches(node.keyPattern, name)) return `must be ${node.keyText || 'a valid name'}`;
	if (form.doc.entries(parts).some((x) => x.key === name)) return `is taken by another ${item.item}`;
	if (hint.distinctFrom) {
		const other = fromPointer(hint.distinctFrom);
		if (form.layers.entries(other).some((x) => x.key === name && !x.removed))
			return `is taken by a ${form.layers.nodeAt(other)?.form?.item || 'entry'} of ${hint.distinctFrom}`;
	}
	return null;
}

function addInstance(form, item, m, parts, rows, owner) {
	const noun = item.item;
	const catalog = form.catalog.catalog;
	const typeSel = el('select', { id: uid() }, el('option', { value: '', text: 'choose a type…' }),
		catalog.items.map((t) => el('option', { value: t.name, disabled: Boolean(t.problem),
			text: `${t.name}${t.category ? ` (${t.category})` : ''}${t.builtin ? '' : ` · ${t.source || 'stored'}`}` })));
	const nameIn = el('input', { type: 'text', id: uid(), class: 'mono', spellcheck: 'false', autocomplete: 'off' });
	const check = el('p', { class: 'field-check', id: uid('c'), hidden: true });
	const desc = el('p', { class: 'hint', id: uid('h') });
	const done = el('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
	typeSel.setAttribute('aria-describedby', desc.id);
	nameIn.setAttribute('aria-describedby', check.id);
	const add = el('button', { type: 'button', class: 'small add', text: `+ Add ${noun}`, 'aria-label': `Add ${noun}${owner ? ` to ${owner}` : ''}` });
	const say = (problem) => {
		check.hidden = !problem;
		check.textContent = problem || '';
		if (problem) nameIn.setAttribute('aria-invalid', 'true'); else nameIn.removeAttribute('aria-invalid');
	};
	typeSel.addEventListener('change', () => {
		const t = catalog.item(typeSel.value);
		desc.textContent = t ? t.description || '' : '';
		if (t && !nameIn.value.trim() && !badName(form, item, parts, t.name)) nameIn.value = t.name;
	});
	nameIn.addEventListener('input', () => {
		const name = nameIn.value.trim();
		const bad = name === '' ? null : badName(form, item, parts, name);
		say(bad ? `The name ${bad}.` : null);
	});
	add.addEventListener('click', async () => {
		const name = nameIn.value.trim(), typeName = typeSel.value;
		if (!typeName) { say(`Choose the type of the ${noun}.`); typeSel.focus(); return; }
		const bad = badName(form, item, parts, name);
		if (bad) { say(`The name ${bad}.`); nameIn.focus(); return; }
		add.disabled = true;
		let type = null;
		try { type = await catalog.load(typeName); } catch { /* told below */ }
		add.disabled = false;
		if (!type) { say(`The type ${typeName} could not be loaded from the catalog.`); return; }
		const at = [...parts, name];
		const declared = [];
		form.batch(() => {
			form.doc.write(at, { [m.member]: typeName });
			declared.push(...declareSecrets(form, item, at, type));
		});
		form.open.add(toPointer(at));
		const message = `Added ${noun} ${name} (${typeName}).${declared.length ? ` Declared the secret${declared.length === 1 ? '' : 's'} ${declared.join(', ')}: give ${declared.length === 1 ? 'it a value' : 'them values'} under ${item.node.form.secretsIn}.` : ''}`;
		if (declared.length && form.ctx.rebuild) {
			const fresh = form.ctx.rebuild(); // the secrets section lists the new keys
			fresh?.find(toPointer(at))?.input.focus();
			form.ctx.status?.(message, 'ok');
			return;
		}
		const card = instanceCard(form, item, m, parts, { key: name, inherited: false });
		rows.append(card);
		form.refreshIn(rows);
		card.querySelector('summary')?.focus();
		nameIn.value = '';
		typeSel.value = '';
		desc.textContent = '';
		done.textContent = message;
	});
	const field = (label, control, ...rest) => el('div', { class: 'field' }, el('label', { for: control.id, text: label }), control, ...rest);
	return el('fieldset', { class: 'group add-instance' }, el('legend', { text: `Add a ${noun} from the catalog` }),
		el('div', { class: 'grid' }, field('Type', typeSel, desc), field('Name', nameIn, check), el('div', { class: 'field check' }, add)),
		done);
}

// The keys of the stack's secrets that the type's (required) secrets take by default for
// the instance at `at`, declared (without a value) where none is: returns them.
function declareSecrets(form, item, at, type) {
	const where = item.node.form.secretsIn;
	if (!where || !isObject(type.secrets)) return [];
	const secretsAt = fromPointer(where);
	const have = new Set(form.layers.entries(secretsAt).filter((x) => !x.removed).map((x) => x.key));
	const out = [];
	for (const s of Object.values(type.secrets)) {
		if (!isObject(s) || s.optional || typeof s.default !== 'string') continue;
		const key = form.catalog.expand(form.layers, [...at, s.param || ''], s.default);
		if (key.includes('${') || have.has(key)) continue;
		form.doc.write([...secretsAt, key], '');
		have.add(key);
		out.push(key);
	}
	return out;
}

// ---- uses ----

export function usesBody(form, item, parts, owner, error, anchor) {
	const sc = form.doc;
	const c = form.catalog.maps.consumers.find((x) => x.path.join('/') === item.path.join('/'))
		|| { path: item.path, node: item.node, target: item.node.form.catalogConsumer.split('/').slice(1) };
	const m = form.catalog.maps.instances.find((x) => x.path.join('/') === c.target.join('/'));
	const list = el('div', { class: 'entries rows uses' });
	form.register(parts, { input: anchor, wrap: list, error, check: el('p'), local: null });
	let shown = null;
	const draw = () => {
		const instances = form.layers.entries(c.target).filter((x) => !x.removed).map((x) => x.key);
		const extra = sc.entries(parts).filter((x) => !x.removed && !instances.includes(x.key)).map((x) => x.key);
		const keys = [...instances, ...extra];
		const sig = keys.join('\u0000');
		if (sig === shown) return;
		shown = sig;
		list.replaceChildren(...keys.map((k) => useRow(form, item, m, parts, k, owner, !instances.includes(k))));
		if (!keys.length) list.append(el('p', { class: 'muted', text: `No ${m?.node.noun || 'components'} to use: add one under ${c.target.join('/') ? `/${c.target.join('/')}` : 'components'}.` }));
		form.refreshIn(list);
	};
	form.watch(list, draw);
	return [anchor, error, list];
}

function useRow(form, item, m, parts, key, owner, dangling) {
	const sc = form.doc, at = [...parts, key];
	const box = el('input', { type: 'checkbox', id: uid() });
	const typeName = m ? instanceType(form.layers, [...m.path, key], m.member) : undefined;
	const label = el('label', { for: box.id }, el('span', { class: 'mono', text: key }), el('span', { class: 'muted', text: typeName ? ` (${typeName})` : '' }));
	box.setAttribute('aria-label', `${owner ? `${owner} uses` : 'Uses'} ${item.item} ${key}`);
	const params = el('div', { class: 'use-params' });
	const warn = dangling ? el('p', { class: 'field-warning', text: `⚠ There is no ${item.item} ${key}.` }) : null;
	const row = el('div', { class: 'entry row use', dataset: { entry: key } }, el('div', { class: 'field check' }, box, label), warn, params);
	const used = () => { const v = sc.effective(at); return v !== undefined && v !== null; };
	let built = false;
	const drawParams = () => {
		params.hidden = !used();
		if (!used() || built) return;
		built = true;
		const type = typeName ? form.catalog.catalog.type(typeName) : null;
		if (type === undefined && typeName) {
			params.append(el('p', { class: 'muted', text: `Loading the type ${typeName}…` }));
			form.catalog.catalog.load(typeName).catch(() => null).then(() => { built = false; params.replaceChildren(); form.layers.changed(); drawParams(); form.refreshIn(params); });
			return;
		}
		if (!type?.consumer) return;
		if (!type.consumer.props.length) { params.append(el('p', { class: 'muted', text: `${typeName} takes no consumer params.` })); return; }
		const lay = layoutOf(type.consumer, item.entry.path);
		params.append(...form.groupBody(lay, at, sc, `${key} of ${owner}`));
		form.refreshIn(params);
	};
	form.watch(row, () => {
		box.checked = used();
		row.classList.toggle('own', sc.own(at) !== undefined);
		drawParams();
	});
	box.addEventListener('change', () => {
		if (box.checked) {
			if (sc.own(at) === null) sc.write(at, undefined);
			if (!used()) sc.write(at, {});
		} else {
			const low = form.layers.lower(at);
			sc.write(at, low !== undefined && low !== null ? null : undefined);
		}
	});
	return row;
}
