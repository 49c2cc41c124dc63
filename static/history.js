// history: the History panel of the selected environment: its revisions (newest first,
// paged), the diff of the rendered manifests a revision made, a comparison with another
// environment, and rollback to a revision (a new revision, with If-Match).

import { $, el, clear } from './dom.js';
import { enc, envPath, request } from './api.js';
import { renderUnified } from './udiff.js';

const PAGE = 20;

// ctx: {stack, env, revision, envs (names), discardOk(), onRolledBack(representation),
// onConflict(currentRevision), status(text, kind)} (getters for the first four).
// 2026-11-24 14:05:09 in the browser's time zone.
function localTime(t) {
	const p = (n) => String(n).padStart(2, '0');
	return `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())} ${p(t.getHours())}:${p(t.getMinutes())}:${p(t.getSeconds())}`;
}

export function createHistory(ctx) {
	const ui = {
		list: $('#rev-list'), more: $('#rev-more'), status: $('#history-status'),
		diffTitle: $('#diff-title'), diffView: $('#diff-view'), diffActions: $('#diff-actions'),
		compareEnv: $('#compare-env'), compareBtn: $('#compare-btn'),
	};
	let cursor = null, seq = 0, loadedFor = null;

	async function load() {
		const key = `${ctx.stack}/${ctx.env}@${ctx.revision}`;
		if (!ctx.env || loadedFor === key) return;
		loadedFor = key;
		cursor = null;
		clear(ui.list);
		clear(ui.diffActions);
		ui.diffTitle.textContent = 'Choose a revision to see what it changed.';
		clear(ui.diffView);
		fillCompare();
		await page();
	}

	async function page() {
		const my = ++seq;
		ui.status.textContent = 'Loading…';
		const q = `?limit=${PAGE}${cursor !== null ? `&cursor=${enc(String(cursor))}` : ''}`;
		const res = await request('GET', `${envPath(ctx.stack, ctx.env)}/revisions${q}`);
		if (my !== seq) return;
		if (!res.ok) { ui.status.textContent = `Cannot load the history: ${res.problem.detail || res.problem.title}`; loadedFor = null; return; }
		ui.list.append(...(res.body.items || []).map(row));
		cursor = res.body.next ?? null;
		ui.more.hidden = cursor === null;
		ui.status.textContent = `${ui.list.children.length} revision${ui.list.children.length === 1 ? '' : 's'}${cursor === null ? '' : ' (more below)'}`;
	}

	function row(item) {
		const n = item.revision;
		const current = n === ctx.revision;
		const t = new Date(item.time);
		const diffBtn = el('button', { type: 'button', class: 'small', text: 'Diff', 'aria-label': `What revision ${n} changed`, onclick: () => showRevisionDiff(n) });
		const rbBtn = current ? el('span', { class: 'badge ok', text: 'current' })
			: el('button', { type: 'button', class: 'small', text: 'Roll back…', 'aria-label': `Roll back to revision ${n}`, onclick: () => proposeRollback(n) });
		return el('tr', { dataset: { revision: String(n) } },
			el('td', { class: 'num', text: String(n) }),
			el('td', {}, el('time', { datetime: item.time, title: item.time, text: Number.isNaN(t.getTime()) ? item.time : localTime(t) })),
			el('td', { class: 'mono actor', text: item.actor || '' }),
			el('td', { class: 'summary', text: item.summary || '' }),
			el('td', { class: 'acts' }, diffBtn, ' ', rbBtn));
	}

	function select(n) {
		for (const tr of ui.list.children) tr.classList.toggle('selected', tr.dataset.revision === String(n));
	}

	async function showDiff(title, path, empty) {
		const my = ++seq;
		ui.diffTitle.textContent = title;
		clear(ui.diffActions);
		clear(ui.diffView).append(el('p', { class: 'diff-empty', text: 'Loading…' }));
		const res = await request('GET', path, { headers: { Accept: 'text/x-diff' } });
		if (my !== seq) return null;
		if (!res.ok) {
			const p = res.problem;
			clear(ui.diffView).append(el('p', { class: 'diff-error', text: `${p.title}: ${p.detail || ''}` }),
				p.errors?.length ? el('ul', {}, p.errors.map((e) => el('li', {}, el('code', { text: e.pointer }), ' ', e.detail))) : null);
			return null;
		}
		return renderUnified(ui.diffView, res.body, empty);
	}

	async function showRevisionDiff(n) {
		select(n);
		await showDiff(`Revision ${n}: what it changed in the rendered manifests${n === 1 ? ' (everything is new)' : ` since revision ${n - 1}`}`,
			`${envPath(ctx.stack, ctx.env)}/diff?to=${n}`, 'This revision changed nothing in the rendered manifests (secret values are never shown).');
	}

	// Rollback is two steps: see what it would change, then confirm.
	async function proposeRollback(n) {
		if (!ctx.discardOk()) return;
		select(n);
		const from = ctx.revision;
		const shown = await showDiff(`Rolling back to revision ${n} would change (from revision ${from}):`,
			`${envPath(ctx.stack, ctx.env)}/diff?from=${from}&to=${n}`, 'No change to the rendered manifests (a rollback still restores the document of that revision).');
		if (!shown) return;
		const go = el('button', { type: 'button', id: 'rollback-go', class: 'primary', text: `Roll back to revision ${n}`, onclick: () => rollback(n, from, go) });
		const cancel = el('button', { type: 'button', text: 'Cancel', onclick: () => { clear(ui.diffActions); ui.diffTitle.textContent = 'Rollback cancelled.'; } });
		clear(ui.diffActions).append(go, cancel);
		go.focus();
	}

	async function rollback(n, from, btn) {
		btn.setAttribute('aria-busy', 'true');
		const res = await request('POST', `${envPath(ctx.stack, ctx.env)}/rollback`, {
			json: { revision: n }, headers: { 'If-Match': `"${from}"` },
		});
		btn.removeAttribute('aria-busy');
		clear(ui.diffActions);
		if (res.ok) {
			ui.diffTitle.textContent = `Rolled back to revision ${n}.`;
			ctx.onRolledBack(res.body, n);
			return;
		}
		if (res.status === 412) { ctx.onConflict(res.problem.currentRevision); ctx.status('Not rolled back: someone else saved first.', 'bad'); return; }
		const p = res.problem;
		ui.diffTitle.textContent = `Not rolled back: ${p.title}`;
		clear(ui.diffView).append(el('p', { class: 'diff-error', text: p.detail || '' }),
			p.errors?.length ? el('ul', {}, p.errors.map((e) => el('li', {}, el('code', { text: e.pointer }), ' ', e.detail))) : null);
		ctx.status('Not rolled back.', 'bad');
	}

	function fillCompare() {
		const others = ctx.envs.filter((e) => e !== ctx.env);
		clear(ui.compareEnv).append(...others.map((e) => el('option', { value: e, text: e })));
		ui.compareBtn.disabled = others.length === 0;
	}

	async function compare() {
		const other = ui.compareEnv.value;
		if (!other) return;
		select(null);
		await showDiff(`${ctx.env} → ${other}: how ${other} differs from ${ctx.env}, as stored now`,
			`/api/v1/stacks/${enc(ctx.stack)}/diff?from=${enc(ctx.env)}&to=${enc(other)}`,
			`${ctx.env} and ${other} render the same manifests (secret values are never shown).`);
	}

	ui.more.addEventListener('click', page);
	ui.compareBtn.addEventListener('click', compare);
	return { load, invalidate: () => { loadedFor = null; } };
}
