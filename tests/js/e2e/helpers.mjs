// Helpers of the browser tests: the real manifestd binary on an ephemeral port with a
// temporary database, headless Chromium, artifacts, and the seed secrets to look for.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const ARTIFACTS = process.env.TEST_ARTIFACT_DIR || process.env.TEST_LOG_DIR || path.join(ROOT, 'build/test-logs');

// Starts `$MANIFESTD serve` (default build/manifestd) on 127.0.0.1 with a fresh database in
// a temp dir, through the shared tests/js/lib/server.mjs. Without `auth` the server runs
// with --no-auth (the form must then never ask for a token); with `auth`, tokens of each
// role are made first. Resolves to {url, tokens: {admin, editor, viewer} | null, stop(), log()}.
export async function startServer({ auth = false } = {}) {
	process.env.MANIFESTD ||= path.join(ROOT, 'build/manifestd');
	const { createToken, start, tempDir, removeDir } = await import('../lib/server.mjs'); // reads MANIFESTD on load
	const dir = tempDir('manifestd-e2e-');
	const db = path.join(dir, 'manifestd.db');
	let srv, tokens = null;
	try {
		if (auth) {
			tokens = Object.fromEntries(['admin', 'editor', 'viewer'].map((role) => [role, createToken(db, { name: `e2e-${role}`, role })]));
			srv = await start({ db, token: tokens.admin });
		} else srv = await start({ db, noAuth: true });
	} catch (e) {
		removeDir(dir);
		throw e;
	}
	return {
		url: srv.url,
		tokens,
		log: srv.stderr,
		async stop() {
			await srv.stop();
			removeDir(dir);
		},
	};
}

export function launchBrowser() {
	return chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
			'--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
	});
}

// The fixture of a browser test file: a fresh server (none when baseUrl names one already
// running) and a browser. Resolves to {server (null with baseUrl), browser, base}.
export async function startSession({ baseUrl } = {}) {
	const server = baseUrl ? null : await startServer();
	try {
		return { server, browser: await launchBrowser(), base: baseUrl || server.url };
	} catch (e) {
		await server?.stop();
		throw e;
	}
}

// Ends what startSession started (either part may be missing) and fails the file on any
// uncaught error its pages collected in errors.
export async function endSession({ server, browser }, errors) {
	await browser?.close();
	await server?.stop();
	assert.deepEqual(errors.map(String), [], 'no uncaught errors in the page');
}

// A page that fails the test on any uncaught script error.
export async function openPage(browser, url, errors) {
	const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
	const page = await context.newPage();
	page.on('pageerror', (e) => errors.push(e));
	await page.goto(url);
	await page.waitForSelector('body[data-ready="true"]');
	return page;
}

// Every non-empty secret value of the seeded documents (migrations/seed/*/*.json).
export function seedSecrets() {
	const out = [];
	const seed = path.join(ROOT, 'migrations/seed');
	for (const stack of fs.readdirSync(seed))
		for (const f of fs.readdirSync(path.join(seed, stack)).filter((n) => n.endsWith('.json'))) {
			const doc = JSON.parse(fs.readFileSync(path.join(seed, stack, f), 'utf8'));
			for (const v of Object.values(doc.secrets || {})) if (typeof v === 'string' && v) out.push(v);
		}
	return out;
}

// The form of environment env of stack, once its file tabs are shown.
export async function openEnv(browser, base, stack, env, errors) {
	const page = await openPage(browser, `${base}/#/${stack}/${env}`, errors);
	await page.waitForSelector('#file-tabs [role="tab"]');
	return page;
}

export async function api(base, method, p, body, headers = {}) {
	const res = await fetch(base + p, {
		method,
		headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await res.text();
	let json = null;
	try { json = JSON.parse(text); } catch { /* not JSON */ }
	return { status: res.status, etag: res.headers.get('etag'), json, text };
}

// Save, step by step as a person does: Save shows the diff in a dialog, "Save" confirms.
export async function saveConfirmed(page) {
	await page.click('#save-btn');
	await page.locator('#save-dialog[open] #save-confirm').click();
}

// Opens the entry (a service, an ingress rule, ...) named name in the form: a closed card
// builds its fields when opened.
export async function openEntry(page, name, within = '#env-form') {
	const card = page.locator(`${within} details[data-entry="${name}"]`).first();
	await card.waitFor();
	if (!(await card.evaluate((d) => d.open))) await card.locator('> summary').click();
	await page.waitForFunction((d) => d.open, await card.elementHandle());
}
