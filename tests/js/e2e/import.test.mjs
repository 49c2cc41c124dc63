// The Import page in Chromium: Score workload files pasted (two files as one stream) are
// told apart by their apiVersion, converted with a report and a preview of the bundle,
// and saved as a new stack whose resources became components; a compose file on the same
// page goes to the compose importer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, api, endSession, openPage, startSession } from './helpers.mjs';

const score = (name) => fs.readFileSync(path.join(ROOT, 'tests/data/score', name, 'score.yaml'), 'utf8');
let session;
const errors = [];

before(async () => { session = await startSession({ baseUrl: process.env.E2E_BASE_URL }); });
after(async () => { await endSession(session, errors); });

async function openImport() {
	const page = await openPage(session.browser, session.base, errors);
	await page.click('#import-link');
	await page.waitForSelector('#import-page:not([hidden])');
	return page;
}

async function convert(page, text) {
	await page.fill('#compose-text', text);
	await page.click('#import-convert');
	await page.waitForSelector('#import-tabs [role="tab"]');
}

test('two Score files: converted with a report and a preview, saved as a stack with a postgres component', async () => {
	const page = await openImport();
	const text = `${score("resource-postgres")}\n---\n${score("sample-score-app")}`;
	await convert(page, text);
	assert.match(await page.textContent('#import-status'), /Score/);
	// the preview holds the component's StatefulSet and the workloads
	const tabs = await page.locator('#import-tabs [role="tab"]').allTextContents();
	assert.ok(tabs.some((t) => /my-postgres/.test(t)), tabs.join(', '));
	assert.ok(tabs.some((t) => /my-workload/.test(t)), tabs.join(', '));
	assert.ok(await page.locator('#import-report li, #import-report tr').count() > 0, 'the report lists what was guessed');
	await page.fill('#import-name', 'score-shop');
	await page.fill('#import-env', 'dev');
	await page.click('#import-save');
	await page.waitForFunction(() => location.hash.includes('score-shop'));
	const stack = await api(session.base, 'GET', '/api/v1/stacks/score-shop');
	assert.equal(stack.status, 200);
	assert.equal(stack.json.document.components['my-postgres'].type, 'postgres');
	assert.ok(stack.json.document.services['my-workload'].uses['my-postgres']);
	assert.equal((await api(session.base, 'GET', '/api/v1/stacks/score-shop/environments/dev')).status, 200);
});

test('a compose file on the same page goes to the compose importer', async () => {
	const page = await openImport();
	await convert(page, fs.readFileSync(path.join(ROOT, 'tests/data/compose/wordpress.yml'), 'utf8'));
	assert.match(await page.textContent('#import-status'), /compose/i);
});
