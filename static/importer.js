// importer: the Import page. A docker-compose.yml, Kubernetes YAML or Score workload files
// (pasted or uploaded, several files joined as one stream) go to POST
// /api/v1/import/compose, /manifests or /score
// (chosen, or told from the text); the page shows the report (path, object + detail), the
// validation errors if any, and the preview of the result (POST /render?format=files with
// the stack and environment inline), then saves it as a new stack.

import { $, el, clear } from './dom.js';
import { enc, request } from './api.js';
import { diffFiles, maskSecrets, renderFile, renderTabs } from './preview.js';

const YAML_TYPE = 'application/yaml';
const NAME_RE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const KINDS = { compose: 'docker-compose', manifests: 'Kubernetes YAML', score: 'Score' };

// What the text is: Score workloads have apiVersion score.dev/..., Kubernetes objects
// apiVersion and kind at the top of a document, a compose file a services mapping; null
// when none shows.
export function detectKind(text) {
	if (/^apiVersion\s*:\s*["']?score\.dev\//m.test(text)) return 'score';
	if (/^(apiVersion|kind)\s*:/m.test(text)) return 'manifests';
	if (/^services\s*:/m.test(text)) return 'compose';
	return null;
}

// ctx: {onSaved(stack, environment)}
export function createImporter(ctx) {
	const ui = {
		text: $('#compose-text'), file: $('#compose-file'), convert: $('#import-convert'),
		kind: $('#import-kind'), status: $('#import-status'), report: $('#import-report'), reportCount: $('#import-report-count'),
		errors: $('#import-errors'), name: $('#import-name'), env: $('#import-env'), save: $('#import-save'),
		saveError: $('#import-save-error'), tabs: $('#import-tabs'), view: $('#import-view'), previewStatus: $('#import-preview-status'),
	};
	let result = null, files = [], selected = null, sent = null, sentKind = null;

	function setStatus(text, kind = '') { ui.status.textContent = text; ui.status.className = `status ${kind}`; }

	// One file as it is; several as one YAML stream, each file its own documents.
	async function readFile() {
		const list = [...(ui.file.files ?? [])];
		if (!list.length) return;
		const texts = await Promise.all(list.map((f) => f.text()));
		ui.text.value = list.length === 1 ? texts[0] : texts.map((t) => `---\n${t}${t.endsWith('\n') ? '' : '\n'}`).join('');
		if (!ui.name.value) ui.name.value = suggestName(list[0].name);
		await convert();
	}

	function kindOf(yaml) {
		return ui.kind.value === 'auto' ? detectKind(yaml) : ui.kind.value;
	}

	// "shop-compose.yml" -> "shop-compose"; anything else -> "".
	function suggestName(file) {
		const base = file.replace(/\.(ya?ml)$/i, '').replace(/^docker-compose[-.]?/, '').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
		return NAME_RE.test(base) ? base : '';
	}

	async function convert() {
		const yaml = ui.text.value;
		if (!yaml.trim()) { setStatus('Paste a docker-compose.yml, Kubernetes YAML or Score files, or choose files first.', 'bad'); ui.text.focus(); return; }
		const kind = kindOf(yaml);
		if (!kind) { setStatus('Cannot tell what this is: choose docker-compose, Kubernetes YAML or Score above.', 'bad'); ui.kind.focus(); return; }
		ui.convert.setAttribute('aria-busy', 'true');
		setStatus(`Converting ${KINDS[kind]}…`);
		clear(ui.saveError);
		try {
			const res = await request('POST', `/api/v1/import/${kind}`, { body: yaml, contentType: YAML_TYPE });
			const body = res.body && typeof res.body === 'object' ? res.body : {};
			if (!res.ok && !body.stack) {
				result = null;
				showReport([], []);
				clearPreview();
				ui.save.disabled = true;
				setStatus(`Cannot convert: ${res.problem.detail || res.problem.title}`, 'bad');
				return;
			}
			result = body;
			sent = yaml;
			sentKind = kind;
			showReport(body.report || [], body.errors || []);
			ui.save.disabled = false;
			setStatus(`Converted ${KINDS[kind]}: ${Object.keys(body.stack?.services || {}).length} services, ${(body.report || []).length} report entr${(body.report || []).length === 1 ? 'y' : 'ies'}${body.errors?.length ? `, ${body.errors.length} problem${body.errors.length === 1 ? '' : 's'} to fix` : ''}.`, body.errors?.length ? 'bad' : 'ok');
			await preview();
		} finally {
			ui.convert.removeAttribute('aria-busy');
		}
	}

	function showReport(report, errors) {
		ui.reportCount.textContent = report.length ? `(${report.length})` : '';
		clear(ui.report).append(...(report.length ? report.map((r) => el('li', {}, el('code', { class: 'ptr', text: r.path || '/' }), ' ',
			...(r.object ? [el('span', { class: 'muted', text: r.source ? `${r.object} (${r.source})` : r.object }), ' '] : []), r.detail || ''))
			: [el('li', { class: 'muted', text: result ? 'Everything was mapped.' : 'Nothing converted yet.' })]));
		clear(ui.errors);
		ui.errors.hidden = !errors.length;
		if (errors.length)
			ui.errors.append(el('h3', { text: `${errors.length} problem${errors.length === 1 ? '' : 's'}: the result does not validate` }),
				el('ul', {}, errors.map((e) => el('li', {}, el('code', { class: 'ptr', text: e.pointer || '/' }), ' ', e.detail || ''))));
	}

	function clearPreview() {
		files = [];
		clear(ui.tabs);
		clear(ui.view);
		ui.previewStatus.textContent = '';
	}

	async function preview() {
		const name = NAME_RE.test(ui.name.value.trim()) ? ui.name.value.trim() : 'imported';
		const envName = NAME_RE.test(ui.env.value.trim()) ? ui.env.value.trim() : 'dev';
		ui.previewStatus.textContent = 'Rendering…';
		const res = await request('POST', '/render?format=files', {
			json: { stack: result.stack, stackName: name, environment: result.environment, name: envName },
		});
		if (!res.ok) {
			clearPreview();
			ui.previewStatus.textContent = `Cannot render: ${res.problem.detail || res.problem.title}`;
			return;
		}
		files = (res.body.files || []).map((f) => ({ name: f.name, content: maskSecrets(f.content) }));
		selected = files[0]?.name ?? null;
		showFiles();
		ui.previewStatus.textContent = `${files.length} files`;
	}

	function showFiles() {
		const diffs = diffFiles(files, files); // nothing to compare with: no line is marked
		renderTabs(ui.tabs, ui.view, diffs, selected, (name, focus) => {
			selected = name;
			showFiles();
			if (focus) ui.tabs.querySelector('[aria-selected="true"]')?.focus();
		});
		const f = diffs.find((d) => d.name === selected);
		if (f) renderFile(ui.view, f);
	}

	async function save() {
		const name = ui.name.value.trim(), envName = ui.env.value.trim() || 'dev';
		clear(ui.saveError);
		if (!NAME_RE.test(name)) { ui.saveError.textContent = 'The stack name must be a DNS label: lowercase letters, digits and “-”.'; ui.name.focus(); return; }
		if (!NAME_RE.test(envName)) { ui.saveError.textContent = 'The environment name must be a DNS label.'; ui.env.focus(); return; }
		if (sent === null || sent !== ui.text.value || sentKind !== kindOf(ui.text.value)) { await convert(); if (!result) return; }
		ui.save.setAttribute('aria-busy', 'true');
		try {
			const res = await request('POST', `/api/v1/import/${sentKind}?save=1&stack=${enc(name)}&environment=${enc(envName)}`, { body: sent, contentType: YAML_TYPE });
			if (res.ok) {
				setStatus(`Saved: stack ${name} with environment ${envName}.`, 'ok');
				await ctx.onSaved(name, envName);
				return;
			}
			const p = res.problem;
			ui.saveError.textContent = res.status === 409 ? `A stack called ${name} exists already: choose another name.` : `Not saved: ${p.detail || p.title}`;
			if (p.errors?.length) showReport(p.report || result?.report || [], p.errors);
			setStatus('Not saved.', 'bad');
		} finally {
			ui.save.removeAttribute('aria-busy');
		}
	}

	ui.file.addEventListener('change', readFile);
	ui.kind.addEventListener('change', () => { if (ui.text.value.trim()) convert(); });
	ui.convert.addEventListener('click', convert);
	ui.save.addEventListener('click', save);
	$('#import-form').addEventListener('submit', (ev) => { ev.preventDefault(); save(); });
	return { focus: () => ui.text.focus() };
}
