// Helpers of the browser tests: the real manifestd binary on an ephemeral port with a
// temporary database, headless Chromium, artifacts, and the seed secrets to look for.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const ARTIFACTS = process.env.TEST_ARTIFACT_DIR || process.env.TEST_LOG_DIR || path.join(ROOT, 'build/test-logs');

// Starts `$MANIFESTD serve` on 127.0.0.1 with a fresh database in a temp dir.
// Resolves to {url, stop(), log()} once it printed "manifestd: listening on URL".
export async function startServer() {
	const bin = process.env.MANIFESTD || path.join(ROOT, 'build/manifestd');
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'manifestd-e2e-'));
	const child = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--db', path.join(dir, 'manifestd.db')],
		{ stdio: ['ignore', 'ignore', 'pipe'] });
	let log = '';
	const url = await new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`manifestd did not start within 10 s:\n${log}`)), 10000);
		child.stderr.setEncoding('utf8');
		child.stderr.on('data', (d) => {
			log += d;
			const m = /listening on (http:\/\/[^\s]+)/.exec(log);
			if (m) { clearTimeout(timer); resolve(m[1].replace(/\/$/, '')); }
		});
		child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`manifestd exited (${code}) before listening:\n${log}`)); });
		child.on('error', (e) => { clearTimeout(timer); reject(e); });
	});
	return {
		url,
		log: () => log,
		async stop() {
			if (child.exitCode === null) {
				const gone = new Promise((r) => child.once('exit', r));
				child.kill('SIGTERM');
				await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
				if (child.exitCode === null) child.kill('SIGKILL');
			}
			fs.rmSync(dir, { recursive: true, force: true });
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
