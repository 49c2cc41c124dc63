// app: the manifestd web form. Loads stacks and environments over the REST API (API.md),
// keeps the saved document and the edited copy, and wires the form, the raw JSON view,
// the live preview, saving with If-Match (after a look at the diff it makes), the history
// panel, the import page, the token prompt, downloads and the dialogs together.

import { $, el, clear, debounce } from './dom.js';
import { dispositionName, enc, envPath, etagRevision, getToken, request, setToken, setTokenPrompt } from './api.js';
import { createHistory } from './history.js';
import { createImporter } from './importer.js';
import { renderUnified } from './udiff.js';
import { applyChanges, changes, clone, isObject, mergeDiff } from './mergepatch.js';
import { buildForm } from './form.js';
import { readSchema } from './schema.js';
import { formLayout } from './layout.js';
import { Layers } from './layers.js';
import { Catalog, CatalogView } from './components.js';
import { diffFiles, maskSecrets, renderFile, renderTabs, scrollToChange } from './preview.js';

const S = {
	stack: null, env: null, envs: [], stackDoc: null,
	saved: null, edited: null, revision: null, updated: null,
	mode: 'form', jsonValid: true, form: null,
	savedFiles: null, savedKey: null, files: null, selectedFile: null, previewSeq: 0,
	shownErrors: [], lastErrors: [], side: 'preview',
	schema: null, catalog: null, formState: { open: new Set() },
};
let hist = null, importer = null;

const ui = {};
const formCtx = {
	get stack() { return S.stack; }, get env() { return S.env; }, get stackDoc() { return S.stackDoc; },
	get saved() { return S.saved; }, get edited() { return S.edited; },
	get schema() { return S.schema; }, get state() { return S.formState; },
	get catalog() { return S.catalog; },
	onChange: () => onEdit(),
	focusFallback: () => ui.save,
	rebuild: () => { rebuild(); return S.form; },
	status: (text, kind) => status(text, kind),
};

const patch = () => mergeDiff(S.saved || {}, S.edited || {});

function status(text, kind = '') {
	ui.status.textContent = text;
	ui.status.className = `status ${kind}`;
}

// ---- loading ----

// The document's JSON Schema (GET /api/v1/schema): the form is built from it.
async function loadSchema() {
	const res = await request('GET', '/api/v1/schema');
	if (!res.ok) throw res.problem;
	const root = readSchema(res.body);
	S.schema = { root, sections: formLayout(root) };
}

// The component types (GET /api/v1/catalog); each type's document and the schema of its
// params are loaded when an instance of it is shown or added. A server without the
// catalog gives an empty one.
async function loadCatalog() {
	const res = await request('GET', '/api/v1/catalog');
	const fetchType = async (name) => {
		const r = await request('GET', `/api/v1/catalog/${enc(name)}`);
		return r.ok && r.body && typeof r.body === 'object' ? r.body : null;
	};
	S.catalog = new Catalog(res.ok ? res.body?.items || [] : [], fetchType);
}

// Loads the types the stack and the environment's instances name, so the form draws their
// params at once.
async function loadTypes() {
	if (!S.catalog || !S.schema) return;
	const view = new CatalogView(S.schema.root, S.catalog);
	await S.catalog.loadAll(view.typesIn(new Layers(S.schema.root, S.stackDoc, S.edited || {}, {})));
}

async function loadStacks() {
	const res = await request('GET', '/api/v1/stacks');
	if (!res.ok) throw res.problem;
	const items = res.body.items || [];
	clear(ui.stackSelect).append(...items.map((s) => el('option', { value: s.name, text: s.name })));
	return items.map((s) => s.name);
}

async function loadEnvList() {
	const envs = [];
	let cursor = null;
	do {
		const q = `?limit=200${cursor ? `&cursor=${enc(cursor)}` : ''}`;
		const res = await request('GET', envPath(S.stack) + q);
		if (!res.ok) throw res.problem;
		envs.push(...(res.body.items || []));
		cursor = res.body.next || null;
	} while (cursor);
	S.envs = envs;
	clear(ui.envSelect).append(...envs.map((e) => el('option', { value: e.name, text: e.name })));
	return envs.map((e) => e.name);
}

async function selectStack(name, envName) {
	const res = await request('GET', `/api/v1/stacks/${enc(name)}`);
	if (!res.ok) { showProblem(res.problem); return; }
	// Nothing of the previous stack's environment stays selectable or savable while the
	// new stack's environments load.
	S.env = null;
	S.edited = clone(S.saved);
	clear(ui.envSelect);
	S.stack = name;
	S.stackDoc = res.body.document || {};
	ui.stackSelect.value = name;
	const names = await loadEnvList();
	if (!names.length) {
		S.env = null;
		status(`Stack ${name} has no environments yet.`);
		return;
	}
	await openEnv(names.includes(envName) ? envName : names[0]);
}

// Loads env. With keepEdits, the person's unsaved changes are re-applied on top of the
// newly loaded revision (used after a 412).
async function openEnv(name, { keepEdits = false } = {}) {
	const res = await request('GET', envPath(S.stack, name));
	if (!res.ok) { showProblem(res.problem); return false; }
	const mine = keepEdits ? changes(S.saved, S.edited) : undefined;
	S.env = name;
	S.saved = res.body.document || {};
	S.revision = res.body.revision ?? etagRevision(res.etag);
	S.updated = res.body.updated || null;
	S.edited = mine ? applyChanges(clone(S.saved), mine) : clone(S.saved);
	S.jsonValid = true;
	S.filePicked = false;
	await loadTypes();
	ui.envSelect.value = name;
	if (location.hash !== '#import') {
		history.replaceState(null, '', `#/${enc(S.stack)}/${enc(name)}`);
		document.title = `${S.stack}/${name} · manifestd`;
	}
	redraw();
	return true;
}

function renderMeta() {
	ui.revision.textContent = String(S.revision ?? '–');
	const t = S.updated ? new Date(S.updated) : null;
	clear(ui.updated);
	if (t && !Number.isNaN(t.getTime()))
		ui.updated.append(el('time', { datetime: S.updated, title: S.updated, text: formatTime(t) }));
	else ui.updated.textContent = '–';
	const keys = new Set([...Object.keys(S.stackDoc?.secrets || {}), ...Object.keys(S.saved.secrets || {})]);
	let set = 0;
	for (const k of keys) {
		const v = S.saved.secrets?.[k] ?? S.stackDoc?.secrets?.[k];
		if (v?.set === true) set++;
	}
	ui.secretsMeta.textContent = `${set}/${keys.size} set`;
	ui.secretsMeta.title = [...keys].map((k) => {
		const v = S.saved.secrets?.[k] ?? S.stackDoc?.secrets?.[k];
		return `${k}: ${v?.set === true ? 'set' : 'not set'}`;
	}).join('\n');
}

function formatTime(t) {
	const pad = (n) => String(n).padStart(2, '0');
	const ago = Math.round((Date.now() - t.getTime()) / 60000);
	const abs = `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ${pad(t.getHours())}:${pad(t.getMinutes())}`;
	if (ago < 1) return `${abs} (just now)`;
	if (ago < 60) return `${abs} (${ago} min ago)`;
	if (ago < 60 * 48) return `${abs} (${Math.round(ago / 60)} h ago)`;
	return abs;
}

// Rebuilds the form (or the JSON text) from S.edited, keeping focus on the same field.
function rebuild() {
	const focused = document.activeElement?.dataset?.pointer;
	S.form = buildForm(ui.form, formCtx);
	S.shownErrors = [];
	if (S.lastErrors.length) placeFieldErrors(S.lastErrors);
	if (S.mode === 'json') ui.json.value = JSON.stringify(S.edited, null, 2);
	if (focused) S.form.find(focused)?.input.focus();
}

// ---- editing ----

function onEdit(now = false) {
	const p = patch();
	const n = p ? countLeaves(p) : 0;
	document.body.classList.toggle('dirty', Boolean(p));
	ui.dirty.textContent = p ? `${n} unsaved change${n === 1 ? '' : 's'}` : 'No unsaved changes';
	ui.curl.value = curlCommand();
	if (now) { schedulePreview.cancel(); refreshPreview(); } else schedulePreview();
}

function countLeaves(v) {
	return isObject(v) ? Object.values(v).reduce((a, x) => a + countLeaves(x), 0) : 1;
}

function setMode(mode) {
	if (mode === S.mode) return;
	if (mode === 'form' && !S.jsonValid) {
		ui.jsonError.textContent = 'Fix the JSON before going back to the form (or discard your changes).';
		ui.json.focus();
		return;
	}
	S.mode = mode;
	ui.modeForm.setAttribute('aria-pressed', String(mode === 'form'));
	ui.modeJson.setAttribute('aria-pressed', String(mode === 'json'));
	ui.form.hidden = mode !== 'form';
	ui.jsonPanel.hidden = mode !== 'json';
	rebuild();
	(mode === 'json' ? ui.json : ui.form.querySelector('input, select'))?.focus();
}

function onJsonInput() {
	try {
		const doc = JSON.parse(ui.json.value);
		if (!isObject(doc)) throw new Error('the environment document must be a JSON object');
		S.edited = doc;
		S.jsonValid = true;
		ui.jsonError.textContent = '';
		ui.json.removeAttribute('aria-invalid');
		onEdit();
	} catch (e) {
		S.jsonValid = false;
		ui.jsonError.textContent = `Not valid JSON: ${e.message}`;
		ui.json.setAttribute('aria-invalid', 'true');
	}
}

// ---- saving ----

// Save, step 1: the diff of the rendered manifests from the saved revision to the edited
// document (POST .../diff stores nothing), shown in a dialog; step 2 (commit) on confirm.
async function save() {
	if (!S.env || ui.saveDialog.open) return;
	if (S.mode === 'json' && !S.jsonValid) {
		showSummary('Nothing saved: the JSON document is not valid.', [], ui.jsonError.textContent);
		return;
	}
	if (!patch()) { status('Nothing to save: no changes.'); return; }
	await saving('Checking the changes…', async () => {
		const res = await request('POST', `${envPath(S.stack, S.env)}/diff`, { json: S.edited, headers: { Accept: 'text/x-diff' } });
		if (!res.ok) { notSaved(res); return; }
		const n = renderUnified(ui.saveDiff, res.body, 'No change to the rendered manifests (secret values are never shown; a changed secret still counts).');
		ui.saveSummary.textContent = n.files
			? `From revision ${S.revision}: ${n.files} file${n.files === 1 ? '' : 's'} change, +${n.added} −${n.removed} lines.`
			: `From revision ${S.revision}.`;
		ui.saveConfirm.textContent = `Save as revision ${S.revision + 1}`;
		status('Review the changes, then save.');
		ui.saveDialog.showModal();
		ui.saveConfirm.focus();
	});
}

// Runs a step of saving with the Save button busy and the status saying what; a request
// that gets no answer ends in "Not saved".
async function saving(what, step) {
	ui.save.setAttribute('aria-busy', 'true');
	status(what);
	try {
		await step();
	} catch (e) {
		showSummary('Not saved: the server did not answer.', [], String(e.message || e));
		status('Not saved.', 'bad');
	} finally {
		ui.save.removeAttribute('aria-busy');
	}
}

function notSaved(res) {
	if (res.status === 412) {
		showConflict(res.problem.currentRevision);
		status('Not saved: someone else saved first.', 'bad');
		return;
	}
	const errors = res.problem.errors || [];
	showSummary(res.status === 403 ? res.problem.title
		: `Not saved: ${errors.length ? `${errors.length} problem${errors.length === 1 ? '' : 's'}` : res.problem.title}`, errors, res.problem.detail);
	status(res.status === 403 ? 'Not saved: not allowed.' : 'Not saved.', 'bad');
}

// The representation of a stored write (save or rollback) becomes the saved state.
function applySaved(body, etag) {
	S.saved = body.document || {};
	S.revision = body.revision ?? etagRevision(etag);
	S.updated = body.updated || S.updated;
	S.edited = clone(S.saved);
	redraw();
}

// Draws the form again for a newly loaded or saved document; the History panel reloads
// when it is open.
function redraw() {
	hideConflict();
	clearErrors();
	renderMeta();
	rebuild();
	onEdit(true);
	hist.invalidate();
	if (S.side === 'history') hist.load();
}

// The whole edited document goes out with PUT (not a merge patch, in which a null could
// only delete: an environment may hold nulls that remove what its stack gives).
async function commit() {
	if (!patch()) return;
	await saving('Saving…', async () => {
		const res = await request('PUT', envPath(S.stack, S.env), {
			json: S.edited, headers: { 'If-Match': `"${S.revision}"` },
		});
		if (res.ok) {
			applySaved(res.body, res.etag);
			const warned = warningsOf(res.headers);
			status(`Saved: ${S.stack}/${S.env} is now at revision ${S.revision}.${warned.length ? ` The server warns: ${warned.join('; ')}` : ''}`, 'ok');
		} else notSaved(res);
	});
}

function showConflict(current) {
	hist?.invalidate();
	ui.conflictText.textContent = `Someone else saved ${S.stack}/${S.env}${current ? ` (now revision ${current})` : ''} after you loaded revision ${S.revision}. Nothing was saved; your changes are still in the form.`;
	ui.conflict.hidden = false;
	ui.conflictReload.focus();
}

function hideConflict() { ui.conflict.hidden = true; }

// ---- errors ----

function clearFieldErrors() {
	for (const f of S.shownErrors) {
		f.error.hidden = true;
		f.error.textContent = '';
		if (!f.local) f.input.removeAttribute('aria-invalid');
		const own = f.local ? f.check.id : f.hint;
		if (own) f.input.setAttribute('aria-describedby', own);
		else f.input.removeAttribute('aria-describedby');
		f.wrap.classList.remove('invalid');
	}
	S.shownErrors = [];
	S.lastErrors = [];
}

function clearErrors() {
	clearFieldErrors();
	ui.summary.hidden = true;
	clear(ui.previewErrors);
	ui.previewErrors.hidden = true;
}

// Puts each error next to the field its pointer names. Returns [{error, field|null}].
function showFieldErrors(errors) {
	clearErrors();
	return placeFieldErrors(errors);
}

function placeFieldErrors(errors) {
	S.lastErrors = errors;
	const placed = [];
	for (const e of errors) {
		const f = S.form?.find(e.pointer || '') || null;
		if (f) {
			if (!S.shownErrors.includes(f)) S.shownErrors.push(f);
			f.error.hidden = false;
			f.error.textContent = f.error.textContent ? `${f.error.textContent} ${e.detail}` : e.detail;
			f.input.setAttribute('aria-invalid', 'true');
			f.input.setAttribute('aria-describedby', f.error.id);
			f.wrap.classList.add('invalid');
		}
		placed.push({ error: e, field: f });
	}
	return placed;
}

function errorList(placed) {
	return el('ul', {}, placed.map(({ error, field }) => el('li', {},
		field ? el('a', { href: '#', class: 'ptr', text: error.pointer || '/', onclick: (ev) => { ev.preventDefault(); focusField(field); } })
			: el('code', { class: 'ptr', text: error.pointer || '/' }),
		' ', error.detail || '')));
}

function showSummary(title, errors, detail) {
	const placed = showFieldErrors(errors);
	clear(ui.summary).append(el('h2', { text: title }), detail ? el('p', { text: detail }) : null,
		placed.length ? errorList(placed) : null);
	ui.summary.hidden = false;
	ui.summary.focus();
}

function showProblem(problem) {
	showSummary(problem.title || 'Request failed', problem.errors || [], problem.detail);
}

function focusField(f) {
	if (S.mode !== 'form') setMode('form');
	S.form?.reveal(f);
	f.input.scrollIntoView({ block: 'center' });
	f.input.focus();
}

// ---- preview ----

// The files of the stored environment (doc undefined), or of an environment document as
// the form holds it, sent inline: the server layers it exactly as it will once saved
// (nulls included, which a merge patch of overrides could not say).
async function renderFiles(doc) {
	const res = await request('POST', '/render?format=files', {
		json: doc === undefined ? { stack: S.stack, environment: S.env } : { stack: S.stack, environment: doc, name: S.env },
	});
	if (!res.ok) return res;
	return {
		ok: true, warnings: warningsOf(res.headers),
		files: (res.body.files || []).map((f) => ({ name: f.name, content: maskSecrets(f.content) })),
	};
}

// The texts of RFC 7234 Warning headers ('299 - "runs as root"'), if the server sends any.
function warningsOf(headers) {
	const all = headers?.get?.('Warning');
	if (!all) return [];
	return [...all.matchAll(/\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1].replace(/\\(.)/g, '$1'));
}

const schedulePreview = debounce(() => refreshPreview(), 300);

// Unchanged: the stored environment's files as they are. Changed: the edited document's
// files, highlighted against the saved document's, both rendered inline (so they differ
// only by the edit).
async function refreshPreview() {
	if (!S.env || (S.mode === 'json' && !S.jsonValid)) return;
	const seq = ++S.previewSeq;
	const key = `${S.stack}/${S.env}@${S.revision}`;
	ui.preview.setAttribute('aria-busy', 'true');
	ui.previewStatus.textContent = 'Rendering…';
	let cur, sav = null;
	const dirty = Boolean(patch());
	try {
		if (!dirty) cur = await renderFiles();
		else [cur, sav] = await Promise.all([renderFiles(S.edited), S.savedKey === key ? null : renderFiles(S.saved)]);
	} catch (e) {
		if (seq === S.previewSeq) ui.previewStatus.textContent = `Preview failed: ${e.message}`;
		return;
	}
	if (seq !== S.previewSeq) return;
	ui.preview.removeAttribute('aria-busy');
	if (sav?.ok) { S.savedFiles = sav.files; S.savedKey = key; }
	if (!cur.ok) {
		ui.preview.classList.add('stale');
		const errors = cur.problem.errors || [];
		clearFieldErrors(); // a "Not saved" summary shown meanwhile stays
		const placed = placeFieldErrors(errors);
		clear(ui.previewErrors).append(el('h3', { text: errors.length ? `${errors.length} problem${errors.length === 1 ? '' : 's'} in the form` : cur.problem.title }),
			cur.problem.detail ? el('p', { text: cur.problem.detail }) : null, placed.length ? errorList(placed) : null);
		ui.previewErrors.hidden = false;
		ui.previewStatus.textContent = 'Cannot render';
		return;
	}
	ui.preview.classList.remove('stale');
	if (S.shownErrors.length || !ui.previewErrors.hidden) clearErrors();
	S.files = cur.files;
	S.baseFiles = dirty ? (S.savedKey === key ? S.savedFiles : null) : cur.files;
	showServerWarnings(cur.warnings);
	showPreview();
}

function showServerWarnings(list) {
	ui.previewWarnings.hidden = !list.length;
	clear(ui.previewWarnings).append(...(list.length ? [el('h3', { text: 'The server warns' }), el('ul', {}, list.map((w) => el('li', { text: w })))] : []));
}

function showPreview() {
	const diffs = diffFiles(S.baseFiles || null, S.files);
	// Until the person picks a tab, the view follows the first file the edit changed.
	const firstChanged = diffs.find((d) => d.changed);
	if (!diffs.some((d) => d.name === S.selectedFile) || (!S.filePicked && firstChanged))
		S.selectedFile = (firstChanged || diffs[0])?.name ?? null;
	const select = (name, focus) => {
		S.selectedFile = name;
		S.filePicked = true;
		showPreview();
		if (focus) ui.tabs.querySelector('[aria-selected="true"]')?.focus();
	};
	renderTabs(ui.tabs, ui.fileView, diffs, S.selectedFile, select);
	const file = diffs.find((d) => d.name === S.selectedFile);
	if (file) {
		renderFile(ui.fileView, file);
		scrollToChange(ui.fileView);
	}
	const changedLines = diffs.reduce((a, d) => a + d.changed, 0);
	const changedFiles = diffs.filter((d) => d.changed).length;
	ui.previewStatus.textContent = changedLines
		? `${changedLines} line${changedLines === 1 ? '' : 's'} in ${changedFiles} file${changedFiles === 1 ? '' : 's'} differ from revision ${S.revision}`
		: `${diffs.length} files, as saved in revision ${S.revision}`;
}

// ---- downloads and pipeline command ----

const MIME = { zip: 'application/zip', 'tar.gz': 'application/gzip' };

async function download(format) {
	status(`Preparing ${format}…`);
	const res = await request('POST', `/render?format=${enc(format)}`, {
		json: { stack: S.stack, environment: S.env, overrides: patch() || {} },
		headers: { Accept: MIME[format] }, raw: true,
	});
	if (!res.ok) { showProblem(res.problem); status('Download failed.', 'bad'); return; }
	const url = URL.createObjectURL(res.blob);
	const a = el('a', { href: url, download: dispositionName(res.headers, `${S.stack}-${S.env}.${format}`), hidden: true });
	document.body.append(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(url), 30000);
	status(`Downloaded ${a.download}${patch() ? ' (with your unsaved changes)' : ''}.`, 'ok');
}

const shq = (s) => `'${String(s).replaceAll("'", "'\\''")}'`;

// The same render from a pipeline. Unsaved changes go in as overrides, except secrets.
function curlCommand() {
	if (!S.env) return '';
	const body = { stack: S.stack, environment: S.env };
	const p = patch();
	if (p) {
		const o = clone(p);
		delete o.secrets;
		if (Object.keys(o).length) body.overrides = o;
	}
	return `curl -fsS -X POST ${shq(`${location.origin}/render?format=zip`)} -H 'content-type: application/json' -d ${shq(JSON.stringify(body))} -o ${shq(`${S.stack}-${S.env}.zip`)}`;
}

async function copyCurl() {
	const text = ui.curl.value;
	try {
		await navigator.clipboard.writeText(text);
	} catch {
		ui.curl.select();
		document.execCommand('copy');
	}
	status('curl command copied to the clipboard.', 'ok');
}

// ---- dialogs ----

function openNewEnv() {
	clear(ui.newFrom).append(...S.envs.map((e) => el('option', { value: e.name, text: e.name })));
	ui.newFrom.value = S.env || '';
	ui.newName.value = '';
	ui.newError.textContent = '';
	ui.newDialog.showModal();
	ui.newName.focus();
}

async function createEnv(ev) {
	ev.preventDefault();
	const name = ui.newName.value.trim();
	const res = await request('POST', envPath(S.stack), { json: { name, from: ui.newFrom.value } });
	if (!res.ok) {
		const p = res.problem;
		ui.newError.textContent = [p.detail || p.title, ...(p.errors || []).map((e) => `${e.pointer}: ${e.detail}`)].join(' ');
		ui.newName.focus();
		return;
	}
	ui.newDialog.close();
	await loadEnvList();
	await openEnv(name);
	status(`Created ${S.stack}/${name} from ${ui.newFrom.value}.`, 'ok');
}

function openDelete() {
	if (!S.env) return;
	ui.deleteName.textContent = `${S.stack}/${S.env}`;
	ui.deleteWord.textContent = S.env;
	ui.deleteInput.value = '';
	ui.deleteGo.disabled = true;
	ui.deleteError.textContent = '';
	ui.deleteDialog.showModal();
	ui.deleteInput.focus();
}

async function deleteEnv(ev) {
	ev.preventDefault();
	if (ui.deleteInput.value !== S.env) return;
	const gone = S.env;
	const res = await request('DELETE', envPath(S.stack, gone), { headers: { 'If-Match': `"${S.revision}"` } });
	if (!res.ok) {
		ui.deleteError.textContent = res.status === 412
			? 'Someone else changed this environment since you loaded it; reload it before deleting.'
			: res.problem.detail || res.problem.title;
		return;
	}
	ui.deleteDialog.close();
	S.saved = S.edited = {};
	await selectStack(S.stack);
	status(`Deleted ${S.stack}/${gone}.`, 'ok');
}

// ---- wiring ----

const discardOk = () => !patch() || window.confirm('Discard your unsaved changes?');

function bindUi() {
	for (const [k, id] of Object.entries({
		stackSelect: 'stack-select', envSelect: 'env-select', revision: 'meta-revision', updated: 'meta-updated',
		secretsMeta: 'meta-secrets', save: 'save-btn', discard: 'discard-btn', dirty: 'dirty-status', status: 'status',
		modeForm: 'mode-form', modeJson: 'mode-json', form: 'env-form', jsonPanel: 'json-panel', json: 'json-editor',
		jsonError: 'json-error', conflict: 'conflict', conflictText: 'conflict-text', conflictReload: 'conflict-reload',
		conflictDiscard: 'conflict-discard', summary: 'error-summary', preview: 'preview', previewStatus: 'preview-status',
		previewErrors: 'preview-errors', previewWarnings: 'preview-warnings', tabs: 'file-tabs', fileView: 'file-view', curl: 'curl-cmd',
		newDialog: 'new-env-dialog', newName: 'new-env-name', newFrom: 'new-env-from', newError: 'new-env-error',
		deleteDialog: 'delete-dialog', deleteName: 'delete-name', deleteWord: 'delete-word', deleteInput: 'delete-confirm',
		deleteGo: 'delete-go', deleteError: 'delete-error', saveDialog: 'save-dialog', saveDiff: 'save-diff',
		saveSummary: 'save-summary', saveConfirm: 'save-confirm', tokenDialog: 'token-dialog', tokenInput: 'token-input',
		tokenMessage: 'token-message', signOut: 'sign-out', history: 'history', showPreview: 'show-preview',
		showHistory: 'show-history', editorPage: 'editor-page', importPage: 'import-page',
	})) ui[k] = document.getElementById(id);

	hist = createHistory({
		get stack() { return S.stack; }, get env() { return S.env; }, get revision() { return S.revision; },
		get envs() { return S.envs.map((e) => e.name); },
		discardOk,
		onRolledBack: (body, n) => {
			applySaved(body);
			status(`Rolled back: ${S.stack}/${S.env} is now at revision ${S.revision}, equal to revision ${n}.`, 'ok');
		},
		onConflict: (cur) => showConflict(cur),
		status,
	});
	importer = createImporter({
		onSaved: async (stack, env) => {
			await loadStacks();
			location.hash = `#/${enc(stack)}/${enc(env)}`;
		},
	});
	ui.showPreview.addEventListener('click', () => setSide('preview'));
	ui.showHistory.addEventListener('click', () => setSide('history'));
	$('#save-form').addEventListener('submit', (ev) => { ev.preventDefault(); ui.saveDialog.close(); commit(); });
	$('#save-cancel').addEventListener('click', () => { ui.saveDialog.close(); status('Not saved: still editing.'); });
	ui.signOut.addEventListener('click', () => {
		if (!discardOk()) return;
		setToken(null);
		location.reload();
	});
	$('#import-back').addEventListener('click', (ev) => {
		ev.preventDefault();
		location.hash = S.stack && S.env ? `#/${enc(S.stack)}/${enc(S.env)}` : '#/';
	});

	ui.stackSelect.addEventListener('change', () => {
		if (!discardOk()) { ui.stackSelect.value = S.stack; return; }
		selectStack(ui.stackSelect.value);
	});
	ui.envSelect.addEventListener('change', () => {
		if (!discardOk()) { ui.envSelect.value = S.env; return; }
		openEnv(ui.envSelect.value);
	});
	ui.save.addEventListener('click', save);
	ui.form.addEventListener('submit', (ev) => ev.preventDefault());
	ui.discard.addEventListener('click', () => { if (discardOk()) openEnv(S.env); });
	ui.modeForm.addEventListener('click', () => setMode('form'));
	ui.modeJson.addEventListener('click', () => setMode('json'));
	ui.json.addEventListener('input', onJsonInput);
	ui.conflictReload.addEventListener('click', async () => {
		if (await openEnv(S.env, { keepEdits: true })) status(`Loaded revision ${S.revision}; your changes are kept on top of it. Review and save again.`, 'ok');
	});
	ui.conflictDiscard.addEventListener('click', () => openEnv(S.env));
	$('#dl-zip').addEventListener('click', () => download('zip'));
	$('#dl-tgz').addEventListener('click', () => download('tar.gz'));
	$('#copy-curl').addEventListener('click', copyCurl);
	$('#new-env-btn').addEventListener('click', openNewEnv);
	$('#new-env-form').addEventListener('submit', createEnv);
	$('#new-env-cancel').addEventListener('click', () => ui.newDialog.close());
	$('#delete-env-btn').addEventListener('click', openDelete);
	$('#delete-form').addEventListener('submit', deleteEnv);
	$('#delete-cancel').addEventListener('click', () => ui.deleteDialog.close());
	ui.deleteInput.addEventListener('input', () => { ui.deleteGo.disabled = ui.deleteInput.value !== S.env; });

	document.addEventListener('keydown', (ev) => {
		if ((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === 's') { ev.preventDefault(); if (ui.importPage.hidden) save(); }
	});
	window.addEventListener('beforeunload', (ev) => { if (patch()) { ev.preventDefault(); ev.returnValue = ''; } });
	window.addEventListener('hashchange', () => {
		if (showPage()) return;
		const [s, e] = parseHash();
		if (s && (s !== S.stack || e !== S.env) && discardOk()) (s === S.stack ? openEnv(e) : selectStack(s, e));
	});
}

// The right column shows the preview or the history of the environment.
function setSide(side) {
	S.side = side;
	ui.showPreview.setAttribute('aria-pressed', String(side === 'preview'));
	ui.showHistory.setAttribute('aria-pressed', String(side === 'history'));
	ui.preview.hidden = side !== 'preview';
	ui.history.hidden = side !== 'history';
	if (side === 'history') hist.load();
}

// #import shows the import page, anything else the editor; true on the import page.
function showPage() {
	const imp = location.hash === '#import';
	ui.importPage.hidden = !imp;
	ui.editorPage.hidden = imp;
	document.body.classList.toggle('importing', imp);
	if (imp) { document.title = 'Import · manifestd'; importer.focus(); }
	else if (S.env) document.title = `${S.stack}/${S.env} · manifestd`;
	return imp;
}

// The token dialog: resolves true once a token was entered (the call is repeated with it).
function promptToken(message) {
	return new Promise((resolve) => {
		ui.tokenMessage.textContent = message;
		ui.tokenInput.value = '';
		const form = $('#token-form');
		const done = (ev) => {
			ev.preventDefault();
			const t = ui.tokenInput.value.trim();
			if (!t) return;
			form.removeEventListener('submit', done);
			setToken(t);
			ui.signOut.hidden = false;
			ui.tokenDialog.close();
			resolve(true);
		};
		form.addEventListener('submit', done);
		if (!ui.tokenDialog.open) ui.tokenDialog.showModal();
		ui.tokenInput.focus();
	});
}

function parseHash() {
	const parts = location.hash.replace(/^#\/?/, '').split('/').map((p) => { try { return decodeURIComponent(p); } catch { return ''; } });
	return [parts[0] || null, parts[1] || null];
}

async function main() {
	bindUi();
	setTokenPrompt(promptToken);
	ui.tokenDialog.addEventListener('cancel', (ev) => ev.preventDefault()); // nothing works without a token
	ui.signOut.hidden = !getToken();
	showPage();
	try {
		await loadSchema();
		await loadCatalog();
		const stacks = await loadStacks();
		const [s, e] = parseHash();
		if (!stacks.length) { status('No stacks yet: register one with POST /api/v1/stacks.'); return; }
		await selectStack(stacks.includes(s) ? s : stacks[0], e);
	} catch (e) {
		showSummary('Cannot reach the manifestd API.', [], String(e?.detail || e?.message || e));
	}
	document.body.dataset.ready = 'true';
}

main();
