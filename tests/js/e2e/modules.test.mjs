// Unit tests of the web form's pure modules (static/*.js), run in Node: RFC 7386 merge
// patch and its inverse (the preview's overrides), JSON Pointers, the line diff, and the
// masking of Secret data in the preview.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deleteAt, fromPointer, getAt, mergeDiff, mergePatch, setAt, toPointer } from '../../../static/mergepatch.js';
import { diffLines } from '../../../static/diff.js';
import { MASK, maskSecrets } from '../../../static/preview.js';

// RFC 7386 appendix A.
const RFC_CASES = [
	[{ a: 'b' }, { a: 'c' }, { a: 'c' }],
	[{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
	[{ a: 'b' }, { a: null }, {}],
	[{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
	[{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
	[{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
	[{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
	[{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
	[['a', 'b'], ['c', 'd'], ['c', 'd']],
	[{ a: 'b' }, ['c'], ['c']],
	[{ a: 'foo' }, null, null],
	[{ a: 'foo' }, 'bar', 'bar'],
	[{ e: null }, { a: 1 }, { e: null, a: 1 }],
	[[1, 2], { a: 'b', c: null }, { a: 'b' }],
	[{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];

test('mergePatch follows RFC 7386 appendix A and does not modify its inputs', () => {
	for (const [target, patch, want] of RFC_CASES) {
		const t = JSON.stringify(target), p = JSON.stringify(patch);
		assert.deepEqual(mergePatch(target, patch), want, `${t} + ${p}`);
		assert.equal(JSON.stringify(target), t);
		assert.equal(JSON.stringify(patch), p);
	}
});

test('mergeDiff gives the patch that turns one document into the other', () => {
	const from = { namespace: 'a', services: { x: { replicas: 2, image: { tag: '1' } }, y: { replicas: 1 } }, secrets: { s: { set: true } } };
	const to = { namespace: 'a', services: { x: { replicas: 4, image: { tag: '1' } } }, secrets: { s: 'new' }, config: { k: 'v' } };
	const p = mergeDiff(from, to);
	assert.deepEqual(p, { services: { x: { replicas: 4 }, y: null }, secrets: { s: 'new' }, config: { k: 'v' } });
	assert.deepEqual(mergePatch(from, p), to);
	assert.equal(mergeDiff(from, structuredClone(from)), undefined, 'equal documents: no patch');
	assert.deepEqual(mergeDiff({ a: [1, 2] }, { a: [1, 3] }), { a: [1, 3] }, 'arrays are replaced whole');
	for (const [target, , want] of RFC_CASES)
		if (want !== null && typeof want === 'object' && !Array.isArray(want) && !JSON.stringify(want).includes('null'))
			assert.deepEqual(mergePatch(target, mergeDiff(target, want)), want);
});

test('JSON Pointers escape ~ and / and address nested fields', () => {
	assert.equal(toPointer(['config', 'a/b~c']), '/config/a~1b~0c');
	assert.deepEqual(fromPointer('/config/a~1b~0c'), ['config', 'a/b~c']);
	assert.deepEqual(fromPointer(''), []);
	const doc = {};
	setAt(doc, ['services', 'order-service', 'replicas'], 4);
	assert.equal(getAt(doc, fromPointer('/services/order-service/replicas')), 4);
	assert.equal(getAt(doc, ['services', 'nope', 'replicas']), undefined);
	deleteAt(doc, ['services', 'order-service', 'replicas']);
	assert.deepEqual(doc, {}, 'emptied parents are removed');
	const kept = { services: {} };
	setAt(kept, ['services', 'x'], 1);
	deleteAt(kept, ['services', 'x'], (parts) => parts.join('/') === 'services');
	assert.deepEqual(kept, { services: {} }, 'unless keep() says so');
});

test('diffLines marks changed lines and keeps the rest in order', () => {
	const a = ['a', 'b', 'replicas: 2', 'c', 'd'];
	const b = ['a', 'b', 'replicas: 4', 'c', 'd', 'e'];
	const ops = diffLines(a, b);
	assert.deepEqual(ops.map((o) => o.op + o.text), [' a', ' b', '-replicas: 2', '+replicas: 4', ' c', ' d', '+e']);
	assert.deepEqual(ops.filter((o) => o.op !== '-').map((o) => o.newNo), [1, 2, 3, 4, 5, 6]);
	assert.deepEqual(diffLines([], ['x']).map((o) => o.op), ['+']);
	assert.deepEqual(diffLines(['x'], []).map((o) => o.op), ['-']);
	// a key function decides equality; the text shown is still the new one
	const hashy = diffLines(['h: 1111', 'x'], ['h: 2222', 'x'], (l) => l.replace(/\d{4}/, 'N'));
	assert.deepEqual(hashy.map((o) => o.op + o.text), [' h: 2222', ' x']);
	// LCS: a moved block shows as one removal and one addition, not a rewrite
	const big = Array.from({ length: 300 }, (_, i) => `line ${i}`);
	const moved = [...big.slice(0, 100), ...big.slice(101), big[100]];
	assert.equal(diffLines(big, moved).filter((o) => o.op !== ' ').length, 2);
});

test('maskSecrets hides the values of Secret data and nothing else', () => {
	const yaml = [
		'---', 'apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: c', 'data:', '  db-host: mysql',
		'---', 'apiVersion: v1', 'kind: Secret', 'metadata:', '  name: s', 'type: Opaque', 'data:',
		'  jwt-secret: c2VjcmV0', '  "odd: key": c2VjcmV0Mg==', 'stringData:', '  pem: |', '    -----BEGIN-----', '    abc',
		'  plain: hunter2', '',
	].join('\n');
	const out = maskSecrets(yaml);
	for (const s of ['c2VjcmV0', 'c2VjcmV0Mg==', 'BEGIN', 'abc', 'hunter2']) assert.ok(!out.includes(s), s);
	assert.ok(out.includes('  db-host: mysql'), 'ConfigMap data stays');
	assert.ok(out.includes(`  jwt-secret: ${MASK}`), 'keys stay, values go');
	assert.ok(out.includes(`  "odd: key": ${MASK}`));
	assert.ok(out.includes('  name: s') && out.includes('type: Opaque'));
	assert.equal(out.split('\n').length, yaml.split('\n').length, 'same line count');
	assert.equal(maskSecrets('kind: ConfigMap\ndata:\n  a: b\n'), 'kind: ConfigMap\ndata:\n  a: b\n');
	assert.equal(maskSecrets('kind: Secret\ndata: {a: b}\n'), `kind: Secret\ndata: {${MASK}}\n`);
});
