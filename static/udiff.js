// udiff: shows a unified diff (text/x-diff from the server's diff endpoints) as colored
// lines, one block per file. Lines go in as text nodes only.

import { el, clear } from './dom.js';

// Parses unified diff text into [{from, to, lines: [{kind, text}]}], kind one of
// 'hunk' | 'add' | 'del' | 'ctx' | 'note'.
export function parseUnified(text) {
	const files = [];
	let file = null;
	const lines = text.split('\n');
	if (lines.length && lines[lines.length - 1] === '') lines.pop();
	for (let i = 0; i < lines.length; i++) {
		const line = lines[i];
		if (line.startsWith('--- ') && lines[i + 1]?.startsWith('+++ ')) {
			file = { from: line.slice(4), to: lines[i + 1].slice(4), lines: [] };
			files.push(file);
			i++;
			continue;
		}
		if (!file) continue;
		const kind = line.startsWith('@@') ? 'hunk' : line[0] === '+' ? 'add' : line[0] === '-' ? 'del' : line[0] === '\\' ? 'note' : 'ctx';
		file.lines.push({ kind, text: line });
	}
	return files;
}

// The file name a diff block is about: b/NAME, or a/NAME for a removed file.
const nameOf = (f) => (f.to === '/dev/null' ? f.from : f.to).replace(/^[ab]\//, '');

// Fills container with the diff; returns {files, added, removed}. empty: the text shown
// when nothing differs.
export function renderUnified(container, text, empty = 'No differences.') {
	const files = parseUnified(text || '');
	clear(container);
	let added = 0, removed = 0;
	if (!files.length) {
		container.append(el('p', { class: 'diff-empty', text: empty }));
		return { files: 0, added, removed };
	}
	for (const f of files) {
		const state = f.from === '/dev/null' ? 'added' : f.to === '/dev/null' ? 'removed' : 'modified';
		const block = el('div', { class: 'diff-file', dataset: { file: nameOf(f) } },
			el('div', { class: 'diff-name' }, el('span', { class: 'mono', text: nameOf(f) }), el('span', { class: `badge ${state}`, text: state })));
		for (const l of f.lines) {
			if (l.kind === 'add') added++;
			if (l.kind === 'del') removed++;
			block.append(el('span', { class: `dline ${l.kind}`, text: l.text }));
		}
		container.append(block);
	}
	return { files: files.length, added, removed };
}
