// preview: the file tabs and the line-diffed view of one rendered file. Secret values
// are masked before anything is shown, whatever the server sent.

import { el, clear } from './dom.js';
import { diffLines, splitLines } from './diff.js';

export const MASK = '••••••';

// Masks the values under data:/stringData: of every `kind: Secret` document of a YAML
// stream. Other files pass unchanged.
export function maskSecrets(text) {
	if (!/^kind:\s*Secret\s*$/m.test(text)) return text;
	const docs = text.split(/^(?=---)/m);
	return docs.map((d) => (/^kind:\s*Secret\s*$/m.test(d) ? maskDoc(d) : d)).join('');
}

function maskDoc(doc) {
	const out = [];
	let inData = false;
	for (const line of doc.split('\n')) {
		const top = /^(data|stringData):(.*)$/.exec(line);
		if (top) {
			const rest = top[2].trim();
			inData = rest === '';
			out.push(inData || rest === '{}' ? line : `${top[1]}: {${MASK}}`);
			continue;
		}
		if (inData && /^\s+\S/.test(line)) {
			const kv = /^(\s+)("(?:[^"\\]|\\.)*"|'[^']*'|[^:\s][^:]*?):(\s|$)/.exec(line);
			const indent = /^\s+/.exec(line)[0];
			out.push(kv ? `${kv[1]}${kv[2]}: ${MASK}` : `${indent}${MASK}`);
			continue;
		}
		if (!/^\s/.test(line)) inData = false;
		out.push(line);
	}
	return out.join('\n');
}

// Content hashes (64 hex digits, e.g. a bundle-hash annotation) change with any edit:
// lines that differ only in those are not counted as changed, so the highlight shows
// what the edit did.
const hashless = (line) => line.replace(/(["']?)\b[0-9a-f]{64}\b\1/g, '<hash>');

// Diff of every file: [{name, ops, changed}] where ops come from diffLines.
export function diffFiles(savedFiles, files) {
	const before = new Map((savedFiles || []).map((f) => [f.name, f.content]));
	return files.map((f) => {
		const old = before.get(f.name);
		const ops = diffLines(old === undefined ? [] : splitLines(old), splitLines(f.content), hashless);
		return { name: f.name, ops, changed: ops.filter((o) => o.op !== ' ').length, isNew: old === undefined && savedFiles !== null };
	});
}

// Tab strip with roving tabindex and arrow keys (WAI-ARIA tabs pattern). A tab that had
// the focus keeps it (its new button gets it) when a background refresh redraws the
// strip: keyboard users are not dropped back to the top of the page.
export function renderTabs(list, panel, files, selected, onSelect) {
	const focused = list.contains(document.activeElement) ? document.activeElement.dataset.file : undefined;
	clear(list);
	const tabs = files.map((f) => {
		const tab = el('button', {
			type: 'button', role: 'tab', id: `tab-${f.name.replace(/[^A-Za-z0-9_-]/g, '_')}`,
			'aria-selected': String(f.name === selected), 'aria-controls': panel.id,
			tabindex: f.name === selected ? '0' : '-1', class: f.changed ? 'tab changed' : 'tab',
			dataset: { file: f.name },
		}, f.name, f.changed ? el('span', { class: 'count', text: String(f.changed), 'aria-label': `${f.changed} changed lines` }) : null);
		tab.addEventListener('click', () => onSelect(f.name, true));
		return tab;
	});
	list.append(...tabs);
	list.onkeydown = (ev) => {
		const i = tabs.indexOf(document.activeElement);
		if (i < 0) return;
		const move = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[ev.key];
		let j = null;
		if (move) j = (i + move + tabs.length) % tabs.length;
		else if (ev.key === 'Home') j = 0;
		else if (ev.key === 'End') j = tabs.length - 1;
		if (j === null) return;
		ev.preventDefault();
		onSelect(files[j].name, true);
	};
	const sel = tabs.find((t) => t.dataset.file === selected);
	if (sel) panel.setAttribute('aria-labelledby', sel.id);
	if (focused !== undefined) tabs.find((t) => t.dataset.file === focused)?.focus();
	return tabs;
}

// The file as numbered lines; added lines and removed lines (since the saved revision) marked.
export function renderFile(panel, file) {
	const frag = document.createDocumentFragment();
	for (const o of file.ops) {
		const cls = o.op === '+' ? 'line add' : o.op === '-' ? 'line del' : 'line';
		frag.append(el('span', { class: cls },
			el('span', { class: 'no', 'aria-hidden': 'true', text: o.op === '-' ? '−' : String(o.newNo) }),
			el('span', { class: 'code', text: o.text })));
	}
	clear(panel).append(frag);
}

// Scrolls panel so that its first changed line is in view (a third from the top).
export function scrollToChange(panel) {
	const first = panel.querySelector('.line.add, .line.del');
	if (!first) return;
	const top = first.offsetTop - panel.clientHeight / 3;
	if (first.offsetTop < panel.scrollTop || first.offsetTop > panel.scrollTop + panel.clientHeight - 20)
		panel.scrollTop = Math.max(0, top);
}
