// form: builds the environment editor from the documents. Every input is bound to the
// JSON Pointer of the field it edits in the environment document: a value typed here is
// written into `edited`; an emptied input removes the key, so the value is inherited from
// the stack again (the placeholder shows what would be inherited).

import { el, uid } from './dom.js';
import { clone, deleteAt, fromPointer, getAt, isObject, mergePatch, setAt, toPointer } from './mergepatch.js';

// Built-in defaults of the fields the form shows (docs/schema.md), for placeholders only:
// the server stays the authority on what a field resolves to.
const TOP_DEFAULTS = {
	image: { registry: '', pullPolicy: 'IfNotPresent' },
	mysql: { enabled: false, storage: { size: '5Gi', className: '' } },
	ingress: { enabled: false, className: 'nginx', host: '', tls: { enabled: false } },
};
const SERVICE_DEFAULTS = {
	enabled: true,
	replicas: 1,
	resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
	autoscaling: { enabled: false, minReplicas: 2, maxReplicas: 5, targetCPUUtilization: 80 },
	probes: { readiness: { path: '/actuator/health' }, liveness: { path: '/actuator/health' }, startup: null },
};
const PROBE_DEFAULTS = { path: '/actuator/health', initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 };
const PROBES = ['readiness', 'liveness', 'startup'];
const ENV_KINDS = ['value', 'config', 'secret'];
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

const INT_RE = /^-?\d+$/;

// buildForm(container, ctx) fills container and returns {find(pointer) -> field | null}.
// ctx: {stack, env, stackDoc, saved, edited, onChange()}; edited is modified in place.
export function buildForm(container, ctx) {
	const form = new FormBuilder(ctx);
	container.replaceChildren(el('p', { class: 'legend' },
		el('span', { class: 'swatch own' }), 'set in this environment (empty a field to inherit)',
		el('span', { class: 'swatch' }), 'inherited from the stack (shown greyed)'), ...form.sections());
	return { find: (ptr) => form.find(ptr) };
}

class FormBuilder {
	constructor(ctx) {
		this.ctx = ctx;
		this.fields = new Map(); // pointer -> {input, wrap, error}
		this.configRows = [];
		const tag = getAt(ctx.edited, ['image', 'tag']);
		this.inheritedTop = mergePatch(TOP_DEFAULTS, ctx.stackDoc || {});
		if (!this.inheritedTop.ingress.tls.secretName) this.inheritedTop.ingress.tls.secretName = `${ctx.stack}-tls`;
		this.effectiveTag = tag ?? getAt(this.inheritedTop, ['image', 'tag']);
	}

	sections() {
		return [this.general(), this.services(), this.ingress(), this.mysql(), this.config(), this.secrets()];
	}

	// Exact field, a config row, or the nearest field above the pointer.
	find(ptr) {
		const parts = fromPointer(ptr);
		if (parts[0] === 'config' && parts.length === 2) {
			const row = this.configRows.find((r) => r.key() === parts[1]);
			if (row) return row.field;
		}
		for (let n = parts.length; n > 0; n--) {
			const f = this.fields.get(toPointer(parts.slice(0, n)));
			if (f) return f;
		}
		return null;
	}

	// The stored key may stay as an empty object only if the saved document had it so.
	keepEmpty = (parts) => {
		const v = getAt(this.ctx.saved, parts);
		return isObject(v) && Object.keys(v).length === 0;
	};

	write(parts, value) {
		if (value === undefined) deleteAt(this.ctx.edited, parts, this.keepEmpty);
		else setAt(this.ctx.edited, parts, value);
		if (toPointer(parts) === '/image/tag') this.retag();
		this.ctx.onChange();
	}

	// Services without their own tag show the environment's tag as they would inherit it.
	retag() {
		const tag = getAt(this.ctx.edited, ['image', 'tag']) ?? getAt(this.inheritedTop, ['image', 'tag']);
		for (const f of this.fields.values())
			if (f.input.dataset.inheritsTag) f.input.placeholder = tag === undefined ? '' : String(tag);
	}

	section(title, id, ...children) {
		const h = uid('h');
		return el('section', { class: 'section', id, 'aria-labelledby': h },
			el('h2', { id: h, text: title }), ...children);
	}

	general() {
		const t = this.inheritedTop;
		return this.section('General', 'sec-general',
			el('div', { class: 'grid g3' },
				this.text(['namespace'], 'Namespace', t.namespace ?? `${this.ctx.stack}-${this.ctx.env}`),
				this.text(['image', 'registry'], 'Image registry', t.image.registry),
				this.text(['image', 'tag'], 'Image tag', t.image.tag),
				this.select(['image', 'pullPolicy'], 'Pull policy', t.image.pullPolicy, ['IfNotPresent', 'Always', 'Never'])));
	}

	ingress() {
		const t = this.inheritedTop.ingress;
		return this.section('Ingress', 'sec-ingress',
			el('div', { class: 'grid g3' },
				this.bool(['ingress', 'enabled'], 'Ingress enabled', t.enabled),
				this.text(['ingress', 'host'], 'Host', t.host, 'any host'),
				this.text(['ingress', 'className'], 'Ingress class', t.className),
				this.bool(['ingress', 'tls', 'enabled'], 'TLS', t.tls.enabled),
				this.text(['ingress', 'tls', 'secretName'], 'TLS secret', t.tls.secretName)));
	}

	mysql() {
		const t = this.inheritedTop.mysql;
		return this.section('MySQL', 'sec-mysql',
			el('div', { class: 'grid g3' },
				this.text(['mysql', 'storage', 'size'], 'Storage size', t.storage.size),
				this.text(['mysql', 'storage', 'className'], 'Storage class', t.storage.className, 'cluster default')));
	}

	services() {
		const { stackDoc, edited } = this.ctx;
		const names = [...new Set([...Object.keys(stackDoc?.services || {}), ...Object.keys(edited.services || {})])];
		const defaults = mergePatch(mergePatch(SERVICE_DEFAULTS, stackDoc?.serviceDefaults || {}), edited.serviceDefaults || {});
		const inh = new Map(names.map((n) => [n, mergePatch(defaults, stackDoc?.services?.[n] || {})]));
		const p = (n, ...rest) => ['services', n, ...rest];
		const workloads = this.table('Services', ['Service', 'Enabled', 'Replicas', 'Image tag', 'Autoscale', 'Min', 'Max', 'CPU %'],
			names.map((n) => {
				const i = inh.get(n), a = i.autoscaling || {};
				return [
					this.bool(p(n, 'enabled'), `${n} enabled`, i.enabled, true),
					this.int(p(n, 'replicas'), `${n} replicas`, i.replicas, true),
					this.serviceTag(n, i.image?.tag),
					this.bool(p(n, 'autoscaling', 'enabled'), `${n} autoscaling`, a.enabled, true),
					this.int(p(n, 'autoscaling', 'minReplicas'), `${n} autoscaling minimum replicas`, a.minReplicas, true),
					this.int(p(n, 'autoscaling', 'maxReplicas'), `${n} autoscaling maximum replicas`, a.maxReplicas, true),
					this.int(p(n, 'autoscaling', 'targetCPUUtilization'), `${n} autoscaling CPU target percent`, a.targetCPUUtilization, true),
				];
			}), names, inh);
		const resources = this.table('Resources', ['Service', 'CPU request', 'CPU limit', 'Memory request', 'Memory limit'],
			names.map((n) => {
				const r = inh.get(n).resources || {};
				return [
					this.text(p(n, 'resources', 'requests', 'cpu'), `${n} CPU request`, r.requests?.cpu, '', true),
					this.text(p(n, 'resources', 'limits', 'cpu'), `${n} CPU limit`, r.limits?.cpu, '', true),
					this.text(p(n, 'resources', 'requests', 'memory'), `${n} memory request`, r.requests?.memory, '', true),
					this.text(p(n, 'resources', 'limits', 'memory'), `${n} memory limit`, r.limits?.memory, '', true),
				];
			}), names, inh);
		for (const n of names) this.greyReplicas(n);
		return this.section('Services', 'sec-services', workloads, resources,
			el('h3', { class: 'sub', text: 'Env vars and probes' }),
			names.map((n) => this.serviceDetails(n, inh.get(n))));
	}

	// With autoscaling on, the HorizontalPodAutoscaler sets the replica count: the replicas
	// input is greyed and disabled (its value is not rendered); min/max/target are greyed
	// while autoscaling is off.
	greyReplicas(n) {
		const f = (...rest) => this.fields.get(toPointer(['services', n, ...rest]));
		const auto = f('autoscaling', 'enabled'), replicas = f('replicas');
		const ranges = [f('autoscaling', 'minReplicas'), f('autoscaling', 'maxReplicas'), f('autoscaling', 'targetCPUUtilization')];
		const sync = () => {
			const on = auto.input.checked;
			replicas.input.disabled = on;
			replicas.wrap.classList.toggle('greyed', on);
			if (on) replicas.input.title = 'Autoscaling is on: the HorizontalPodAutoscaler sets the replicas (min to max)';
			else this.markOwn(replicas, ['services', n, 'replicas']);
			for (const r of ranges) r.wrap.classList.toggle('greyed', !on);
		};
		auto.input.addEventListener('change', sync);
		sync();
	}

	// One <details> per service: its env vars (values and config/secret keys editable, vars
	// added here removable) and the HTTP probes it has.
	serviceDetails(n, inherited) {
		const own = getAt(this.ctx.edited, ['services', n, 'env']) || {};
		const base = inherited.env || {};
		const names = [...new Set([...Object.keys(base), ...Object.keys(own)])];
		const tbody = el('tbody', {}, names.map((v) => this.envRow(n, v, base[v], own[v])));
		const add = el('button', { type: 'button', class: 'small', text: '+ Add env var', 'aria-label': `Add an env var to ${n}` });
		add.addEventListener('click', () => {
			const row = this.newEnvRow(n);
			tbody.append(row);
			row.querySelector('input').focus();
		});
		const on = PROBES.filter((k) => (getAt(this.ctx.edited, ['services', n, 'probes', k]) ?? inherited.probes?.[k]) != null);
		return el('details', { class: 'svc-details', dataset: { service: n } },
			el('summary', {}, el('span', { class: 'svc-name', text: n }),
				el('span', { class: 'muted', text: ` ${names.length} env var${names.length === 1 ? '' : 's'} · probes: ${on.join(', ') || 'none'}` })),
			el('table', { class: 'kv env' },
				el('caption', { class: 'sr-only', text: `${n} env vars` }),
				el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Env var' }), el('th', { scope: 'col', text: 'Source' }),
					el('th', { scope: 'col', text: 'Value or key' }), el('th', { scope: 'col' }, el('span', { class: 'sr-only', text: 'Actions' })))),
				tbody),
			add,
			this.probeTable(n, inherited, on));
	}

	envRow(n, v, inh, mine) {
		const src = mergePatch(inh || {}, mine || {});
		const kind = ENV_KINDS.find((k) => src[k] !== undefined && src[k] !== null) || 'value';
		const label = `${n} env ${v}${kind === 'value' ? '' : ` (${kind} key)`}`;
		const cell = this.text(['services', n, 'env', v, kind], label, inh?.[kind] ?? '', '', true);
		const tr = el('tr', {}, el('th', { scope: 'row', class: 'mono', text: v }), el('td', { class: 'muted', text: kind }), cell);
		if (inh === undefined) {
			const remove = el('button', { type: 'button', class: 'icon', text: '×', 'aria-label': `Remove env var ${v} of ${n}` });
			remove.addEventListener('click', () => { this.write(['services', n, 'env', v], undefined); tr.remove(); });
			tr.append(el('td', {}, remove));
		} else tr.append(el('td'));
		return tr;
	}

	// A var added here: name and value inputs; the var is written once the name is valid.
	newEnvRow(n) {
		const name = el('input', { type: 'text', id: uid(), class: 'mono', spellcheck: 'false', autocomplete: 'off', 'aria-label': `New env var name for ${n}` });
		const value = el('input', { type: 'text', id: uid(), spellcheck: 'false', autocomplete: 'off', 'aria-label': `New env var value for ${n}` });
		let written = null;
		const sync = () => {
			const v = name.value.trim();
			if (written !== null) this.write(['services', n, 'env', written], undefined);
			written = ENV_NAME_RE.test(v) ? v : null;
			name.setAttribute('aria-invalid', String(v !== '' && written === null));
			if (written !== null) this.write(['services', n, 'env', written], { value: value.value });
		};
		name.addEventListener('input', sync);
		value.addEventListener('input', sync);
		const remove = el('button', { type: 'button', class: 'icon', text: '×', 'aria-label': `Remove the new env var of ${n}` });
		const tr = el('tr', { class: 'own' }, el('td', {}, name), el('td', { class: 'muted', text: 'value' }), el('td', {}, value), el('td', {}, remove));
		remove.addEventListener('click', () => {
			if (written !== null) this.write(['services', n, 'env', written], undefined);
			tr.remove();
		});
		return tr;
	}

	probeTable(n, inherited, on) {
		const heads = ['Probe', 'Path', 'Initial delay s', 'Period s', 'Timeout s', 'Failures'];
		const rows = on.map((k) => {
			const i = { ...PROBE_DEFAULTS, ...(inherited.probes?.[k] || {}) };
			const p = (f) => ['services', n, 'probes', k, f];
			return el('tr', {}, el('th', { scope: 'row', text: k }),
				this.text(p('path'), `${n} ${k} probe path`, i.path, '', true),
				this.int(p('initialDelaySeconds'), `${n} ${k} probe initial delay seconds`, i.initialDelaySeconds, true),
				this.int(p('periodSeconds'), `${n} ${k} probe period seconds`, i.periodSeconds, true),
				this.int(p('timeoutSeconds'), `${n} ${k} probe timeout seconds`, i.timeoutSeconds, true),
				this.int(p('failureThreshold'), `${n} ${k} probe failure threshold`, i.failureThreshold, true));
		});
		return el('table', { class: 'svc probes' },
			el('caption', { class: 'sr-only', text: `${n} probes` }),
			el('thead', {}, el('tr', {}, heads.map((h) => el('th', { scope: 'col', text: h })))),
			el('tbody', {}, rows));
	}

	serviceTag(name, ownInherited) {
		const cell = this.text(['services', name, 'image', 'tag'], `${name} image tag`, ownInherited ?? this.effectiveTag, '', true);
		if (ownInherited === undefined) cell.querySelector('input').dataset.inheritsTag = '1';
		return cell;
	}

	// A table with one row per service: a header cell with its name, then the cells given.
	table(caption, heads, rows, names, inh) {
		return el('table', { class: `svc ${caption.toLowerCase()}` },
			el('caption', { class: 'sr-only', text: caption }),
			el('thead', {}, el('tr', {}, heads.map((h) => el('th', { scope: 'col', text: h })))),
			el('tbody', {}, rows.flatMap((cells, k) => [
				el('tr', { dataset: { service: names[k] } },
					el('th', { scope: 'row' }, el('span', { class: 'svc-name', text: names[k] }),
						inh.get(names[k]).port ? el('span', { class: 'svc-port', text: `:${inh.get(names[k]).port}` }) : null),
					cells),
				this.errorRow(cells, heads.slice(1), heads.length - 1)])));
	}

	// Cells are too narrow for messages: a row's errors go to a full-width row below it
	// (shown only while one is set; each stays the aria-describedby of its input).
	errorRow(cells, heads, span) {
		const errors = cells.map((c, i) => {
			const e = c.querySelector('.field-error');
			e.dataset.label = heads[i];
			return e;
		});
		return el('tr', { class: 'row-errors' }, el('td'), el('td', { colspan: String(span) }, errors));
	}

	// A labelled control bound to parts. make(id) builds the control.
	// In a table cell (cell: true) the label is read by screen readers only; the column
	// header shows it.
	field(parts, label, control, { inline = false, cell = false } = {}) {
		const ptr = toPointer(parts);
		const error = el('p', { class: 'field-error', id: uid('e'), hidden: true });
		control.dataset.pointer = ptr;
		const lab = el('label', { for: control.id, text: label, class: cell ? 'sr-only' : null });
		const wrap = el(cell ? 'td' : 'div', { class: cell ? 'field cell' : inline ? 'field check' : 'field' },
			...(inline && !cell ? [control, lab] : [lab, control]), error);
		const f = { input: control, wrap, error, pointer: ptr };
		this.fields.set(ptr, f);
		this.markOwn(f, parts);
		return wrap;
	}

	markOwn(f, parts) {
		const own = getAt(this.ctx.edited, parts) !== undefined;
		f.wrap.classList.toggle('own', own);
		f.input.title = own ? 'Set in this environment (empty it to inherit)' : 'Inherited from the stack';
	}

	textInput(parts, inherited, emptyText, parse) {
		const own = getAt(this.ctx.edited, parts);
		const input = el('input', {
			type: 'text', id: uid(), spellcheck: 'false', autocomplete: 'off',
			value: own === undefined ? '' : String(own),
			placeholder: inherited === undefined || inherited === '' ? (emptyText || '') : String(inherited),
		});
		input.addEventListener('input', () => {
			const v = input.value.trim();
			this.write(parts, v === '' ? undefined : parse(v));
			this.markOwn(this.fields.get(toPointer(parts)), parts);
		});
		return input;
	}

	text(parts, label, inherited, emptyText, cell = false) {
		return this.field(parts, label, this.textInput(parts, inherited, emptyText, (v) => v), { cell });
	}

	// Integers go out as JSON numbers; anything else as typed, for the server to refuse.
	int(parts, label, inherited, cell = false) {
		const input = this.textInput(parts, inherited, '', (v) => (INT_RE.test(v) ? Number(v) : v));
		input.inputMode = 'numeric';
		input.classList.add('num');
		return this.field(parts, label, input, { cell });
	}

	bool(parts, label, inherited, cell = false) {
		const own = getAt(this.ctx.edited, parts);
		const input = el('input', { type: 'checkbox', id: uid(), checked: own ?? Boolean(inherited) });
		input.addEventListener('change', () => {
			const v = input.checked;
			const backToInherited = v === Boolean(inherited) && getAt(this.ctx.saved, parts) === undefined;
			this.write(parts, backToInherited ? undefined : v);
			this.markOwn(this.fields.get(toPointer(parts)), parts);
		});
		return this.field(parts, label, input, { inline: true, cell });
	}

	select(parts, label, inherited, options) {
		const own = getAt(this.ctx.edited, parts);
		const input = el('select', { id: uid() },
			el('option', { value: '', text: `inherit (${inherited ?? 'default'})` }),
			options.map((o) => el('option', { value: o, text: o })));
		input.value = own ?? '';
		input.addEventListener('change', () => {
			this.write(parts, input.value === '' ? undefined : input.value);
			this.markOwn(this.fields.get(toPointer(parts)), parts);
		});
		return this.field(parts, label, input);
	}

	// Config: one row per key of stack and environment. Stack keys keep their name and
	// inherit their value when the input is empty; keys added here can be renamed and removed.
	config() {
		const { stackDoc, edited } = this.ctx;
		const base = stackDoc?.config || {};
		const own = edited.config || {};
		const tbody = el('tbody');
		const table = el('table', { class: 'kv config' },
			el('caption', { class: 'sr-only', text: 'Config values' }),
			el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Key' }), el('th', { scope: 'col', text: 'Value' }), el('th', { scope: 'col' }, el('span', { class: 'sr-only', text: 'Actions' })))),
			tbody);
		const keys = [...new Set([...Object.keys(base), ...Object.keys(own)])];
		for (const k of keys) tbody.append(this.configRow(k, Object.hasOwn(base, k) ? String(base[k]) : null, own[k]));
		const add = el('button', { type: 'button', class: 'small', text: '+ Add config value' });
		add.addEventListener('click', () => {
			const row = this.configRow('', null, undefined);
			tbody.append(row);
			row.querySelector('input').focus();
		});
		return this.section('Config', 'sec-config', table, add);
	}

	configRow(key, inherited, value) {
		const added = inherited === null;
		const valueInput = el('input', {
			type: 'text', id: uid(), spellcheck: 'false', autocomplete: 'off',
			value: value === undefined ? '' : String(value),
			placeholder: added ? '' : inherited,
		});
		const error = el('p', { class: 'field-error', id: uid('e'), hidden: true });
		let keyCell, keyOf;
		if (added) {
			const keyInput = el('input', { type: 'text', id: uid(), value: key, spellcheck: 'false', autocomplete: 'off', class: 'mono' });
			keyInput.addEventListener('input', () => {
				remove.setAttribute('aria-label', `Remove config value ${keyInput.value.trim()}`.trim());
				this.syncConfig();
			});
			keyCell = el('td', {}, el('label', { for: keyInput.id, class: 'sr-only', text: 'Config key' }), keyInput);
			keyOf = () => keyInput.value.trim();
			valueInput.setAttribute('aria-label', 'Value');
		} else {
			keyCell = el('td', {}, el('label', { for: valueInput.id, class: 'mono key', text: key }));
			keyOf = () => key;
		}
		const tr = el('tr', {}, keyCell, el('td', {}, valueInput, error));
		const row = { key: keyOf, added, value: () => valueInput.value, tr, field: { input: valueInput, wrap: tr, error } };
		const remove = added ? el('button', { type: 'button', class: 'icon', 'aria-label': `Remove config value ${key}`.trim(), text: '×' }) : null;
		if (added) {
			remove.addEventListener('click', () => {
				this.configRows = this.configRows.filter((r) => r !== row);
				const next = tr.nextElementSibling || tr.previousElementSibling;
				tr.remove();
				this.syncConfig();
				(next?.querySelector('input') || this.ctx.focusFallback?.())?.focus();
			});
			tr.append(el('td', {}, remove));
		} else tr.append(el('td'));
		tr.classList.toggle('own', value !== undefined);
		valueInput.addEventListener('input', () => { tr.classList.toggle('own', added || valueInput.value !== ''); this.syncConfig(); });
		this.configRows.push(row);
		return tr;
	}

	syncConfig() {
		const config = {};
		for (const r of this.configRows) {
			const k = r.key();
			if (!k || (!r.added && r.value() === '')) continue;
			config[k] = r.value();
		}
		this.write(['config'], Object.keys(config).length ? config : undefined);
	}

	// Secrets are write-only: the server only says whether each is set.
	secrets() {
		const { stackDoc, saved } = this.ctx;
		const keys = [...new Set([...Object.keys(stackDoc?.secrets || {}), ...Object.keys(saved.secrets || {})])];
		const rows = keys.map((k) => {
			const mine = saved.secrets?.[k];
			const isSet = mine !== undefined ? mine?.set === true : stackDoc?.secrets?.[k]?.set === true;
			const parts = ['secrets', k];
			const input = el('input', {
				type: 'password', id: uid(), autocomplete: 'new-password', spellcheck: 'false',
				placeholder: isSet ? 'leave empty to keep' : 'not set: type a value',
			});
			input.addEventListener('input', () => {
				if (input.value !== '') this.write(parts, input.value);
				else this.write(parts, mine === undefined ? undefined : clone(mine));
				cell.classList.toggle('own', input.value !== '');
			});
			const cell = this.field(parts, `New value for ${k}`, input, { cell: true });
			cell.classList.remove('own');
			return el('tr', { dataset: { secret: k } },
				el('th', { scope: 'row', class: 'mono', text: k }),
				el('td', {}, el('span', { class: isSet ? 'badge ok' : 'badge warn', text: isSet ? 'set' : 'not set' })),
				cell);
		});
		return this.section('Secrets', 'sec-secrets',
			el('table', { class: 'kv secrets' },
				el('caption', { class: 'sr-only', text: 'Secrets (write-only)' }),
				el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Secret' }), el('th', { scope: 'col', text: 'Status' }),
					el('th', { scope: 'col', text: 'New value (write-only; leave empty to keep)' }))),
				el('tbody', {}, rows)));
	}
}
