// diff: line diff by longest common subsequence, for the preview's "changed since the
// saved revision" highlighting. Files are small (hundreds of lines); above a size limit
// it falls back to comparing the lines at the same positions.

const MAX_CELLS = 4_000_000;

// Lines of text, without the trailing empty line a final newline gives.
export function splitLines(text) {
	const lines = text.split('\n');
	if (lines.length && lines[lines.length - 1] === '') lines.pop();
	return lines;
}

// diffLines(oldLines, newLines, key) -> [{op: ' ' | '+' | '-', text, oldNo, newNo}]
// in display order (removals before the additions that replace them). Lines are equal
// when their key(line) is (identity by default); text always comes from the input.
export function diffLines(oldLines, newLines, key = (s) => s) {
	const a = oldLines.map(key), b = newLines.map(key);
	let start = 0;
	while (start < a.length && start < b.length && a[start] === b[start]) start++;
	let endA = a.length, endB = b.length;
	while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) { endA--; endB--; }
	const midA = a.slice(start, endA), midB = b.slice(start, endB);
	const ops = [];
	for (let i = 0; i < start; i++) ops.push([' ', i, i]);
	const mid = (midA.length + 1) * (midB.length + 1) <= MAX_CELLS ? lcsOps(midA, midB) : naiveOps(midA, midB);
	for (const [op, i, j] of mid) ops.push([op, i < 0 ? -1 : i + start, j < 0 ? -1 : j + start]);
	for (let k = 0; k < a.length - endA; k++) ops.push([' ', endA + k, endB + k]);
	return ops.map(([op, i, j]) => ({
		op,
		text: op === '-' ? oldLines[i] : newLines[j],
		oldNo: i >= 0 ? i + 1 : null,
		newNo: j >= 0 && op !== '-' ? j + 1 : null,
	}));
}

function lcsOps(a, b) {
	const n = a.length, m = b.length, w = m + 1;
	const len = new Uint32Array((n + 1) * w); // len[i*w+j] = LCS of a[i..], b[j..]
	for (let i = n - 1; i >= 0; i--)
		for (let j = m - 1; j >= 0; j--)
			len[i * w + j] = a[i] === b[j] ? len[(i + 1) * w + j + 1] + 1
				: Math.max(len[(i + 1) * w + j], len[i * w + j + 1]);
	const ops = [];
	let i = 0, j = 0;
	while (i < n && j < m) {
		if (a[i] === b[j]) { ops.push([' ', i++, j++]); continue; }
		if (len[(i + 1) * w + j] >= len[i * w + j + 1]) ops.push(['-', i++, -1]);
		else ops.push(['+', -1, j++]);
	}
	while (i < n) ops.push(['-', i++, -1]);
	while (j < m) ops.push(['+', -1, j++]);
	return ops;
}

function naiveOps(a, b) {
	const ops = [];
	for (let k = 0; k < Math.max(a.length, b.length); k++) {
		if (k < a.length && k < b.length && a[k] === b[k]) ops.push([' ', k, k]);
		else {
			if (k < a.length) ops.push(['-', k, -1]);
			if (k < b.length) ops.push(['+', -1, k]);
		}
	}
	return ops;
}
