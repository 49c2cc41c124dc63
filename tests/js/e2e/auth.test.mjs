// Browser tests of the token prompt against the real binary with authentication on: the
// page asks for a token, a wrong one is refused with a message, the right one works and
// stays for the tab (sessionStorage) until "Sign out"; a viewer's save is refused with
// "not allowed" while the preview (masked) still works. With --no-auth the page never asks.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openEntry, saveConfirmed, startServer } from './helpers.mjs';

const STACK = 'msa-shop';
const field = (ptr) => `[data-pointer="${ptr}"]`;

let server, open, browser;
const pageErrors = [];

before(async () => {
	[server, open] = await Promise.all([startServer({ auth: true }), startServer()]);
	browser = await launchBrowser();
});

after(async () => {
	await browser?.close();
	await server?.stop();
	await open?.stop();
	assert.deepEqual(pageErrors.map(String), [], 'no uncaught errors in the page');
});

async function newPage(url) {
	const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
	const page = await context.newPage();
	page.on('pageerror', (e) => pageErrors.push(e));
	await page.goto(url);
	return page;
}

async function signIn(page, token) {
	await page.locator('#token-dialog[open]').waitFor();
	await page.fill('#token-input', token);
	await page.click('#token-form button[type="submit"]');
}

const revision = async (env) => (await (await fetch(`${server.url}/api/v1/stacks/${STACK}/environments/${env}`, {
	headers: { authorization: `Bearer ${server.tokens.admin}` },
})).json()).revision;

test('the page asks for a token; a wrong one gets a message, the right one works until Sign out', async () => {
	const page = await newPage(`${server.url}/#/${STACK}/dev`);
	await page.locator('#token-dialog[open]').waitFor();
	assert.match(await page.textContent('#token-message'), /needs an API token/);
	assert.equal(await page.getAttribute('#token-input', 'type'), 'password');

	// Escape does not dismiss it: nothing works without a token
	await page.keyboard.press('Escape');
	assert.equal(await page.locator('#token-dialog[open]').count(), 1);

	await signIn(page, `mfd_${'0'.repeat(64)}`);
	await page.locator('#token-message', { hasText: 'did not accept' }).waitFor();
	assert.equal(await page.locator('#token-dialog[open]').count(), 1);
	assert.equal(await page.inputValue('#token-input'), '', 'the refused token is not kept in the field');

	await signIn(page, server.tokens.editor);
	await page.waitForSelector('body[data-ready="true"]');
	await page.locator('#file-tabs [role="tab"]').first().waitFor();
	assert.equal(await page.inputValue('#env-select'), 'dev');
	assert.equal(await page.evaluate(() => sessionStorage.getItem('manifestd.token')), server.tokens.editor);
	assert.ok(await page.isVisible('#sign-out'));

	// an editor saves
	const rev = await revision('dev');
	await openEntry(page, 'order-service');
	await page.fill(field('/services/order-service/replicas'), '2');
	await saveConfirmed(page);
	await page.locator('#status', { hasText: `revision ${rev + 1}` }).waitFor();

	// a reload keeps the token (same tab): no prompt
	await page.reload();
	await page.waitForSelector('body[data-ready="true"]');
	assert.equal(await page.locator('#token-dialog[open]').count(), 0);

	// Sign out forgets it and asks again
	await page.click('#sign-out');
	await page.locator('#token-dialog[open]').waitFor();
	assert.equal(await page.evaluate(() => sessionStorage.getItem('manifestd.token')), null);
	assert.ok(await page.isHidden('#sign-out'));
	await page.context().close();
});

test('a viewer sees the environment and its (masked) preview; saving says the role may not', async () => {
	const page = await newPage(`${server.url}/#/${STACK}/staging`);
	await signIn(page, server.tokens.viewer);
	await page.waitForSelector('body[data-ready="true"]');
	await page.locator('#file-tabs [role="tab"]').first().waitFor();
	const rev = await revision('staging');
	await openEntry(page, 'order-service');
	await page.fill(field('/services/order-service/replicas'), '5');
	await page.locator('#file-tabs [role="tab"].changed').first().waitFor();
	await saveConfirmed(page);
	const summary = page.locator('#error-summary');
	await summary.waitFor();
	assert.match(await summary.textContent(), /Not allowed: your token’s role may not do this/);
	assert.match(await summary.textContent(), /viewer/);
	assert.match(await page.textContent('#status'), /not allowed/);
	assert.equal(await page.locator('#token-dialog[open]').count(), 0, 'a 403 does not ask for another token');
	assert.equal(await revision('staging'), rev, 'nothing was saved');
	assert.equal(await page.inputValue(field('/services/order-service/replicas')), '5', 'the typed value is kept');
	await page.context().close();
});

test('with --no-auth the page never asks for a token', async () => {
	const page = await newPage(`${open.url}/#/${STACK}/dev`);
	await page.waitForSelector('body[data-ready="true"]');
	await page.locator('#file-tabs [role="tab"]').first().waitFor();
	assert.equal(await page.locator('#token-dialog[open]').count(), 0);
	assert.ok(await page.isHidden('#sign-out'));
	assert.equal(await page.evaluate(() => sessionStorage.getItem('manifestd.token')), null);
	await page.context().close();
});
