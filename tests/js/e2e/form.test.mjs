// Browser tests of the web form against the real binary ($MANIFESTD, default
// build/manifestd) with a temporary database: edit + live preview + save, validation
// errors at the field, 412 conflicts, downloads, keyboard use, and secrets never shown.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ARTIFACTS, ROOT, api, endSession, openEntry, openEnv, saveConfirmed, seedSecrets, startSession } from './helpers.mjs';

const STACK = 'msa-shop';
const ENV_PATH = (env) => `/api/v1/stacks/${STACK}/environments/${env}`;
const field = (ptr) => `[data-pointer="${ptr}"]`;
// The cell/field wrapping an input: where its error message is shown.
const errorOf = (ptr) => `:is(.field, tr):has(> ${field(ptr)}) .field-error, :is(.field, tr):has(${field(ptr)}) .field-error:not([hidden])`;

let server, browser, base;
const pageErrors = [];

// E2E_BASE_URL: run against an already running server instead (development only).
before(async () => ({ server, browser, base } = await startSession({ baseUrl: process.env.E2E_BASE_URL })));
after(() => endSession({ server, browser }, pageErrors));

async function open(env) {
	const page = await openEnv(browser, base, STACK, env, pageErrors);
	assert.equal(await page.inputValue('#env-select'), env);
	return page;
}

async function revisionOf(env) {
	const r = await api(base, 'GET', ENV_PATH(env));
	assert.equal(r.status, 200, r.text);
	return r.json.revision;
}

test('edit order-service replicas: the preview highlights it, save, reload and find 4', async () => {
	const page = await open('staging');
	const rev = await revisionOf('staging');
	assert.equal(await page.textContent('#meta-revision'), String(rev));
	await openEntry(page, 'order-service');
	const replicas = page.locator(field('/services/order-service/replicas'));
	assert.notEqual(await replicas.inputValue(), '4');

	// services without their own tag show the environment's tag, live
	await page.fill(field('/image/tag'), '7.7.7');
	assert.equal(await page.getAttribute(field('/services/order-service/image/tag'), 'placeholder'), '7.7.7');
	page.once('dialog', (d) => d.accept()); // "Discard your unsaved changes?"
	await page.click('#discard-btn');
	await page.waitForFunction(() => !document.body.classList.contains('dirty'));

	await replicas.fill('4');
	const tab = page.locator('#file-tabs [role="tab"][data-file*="order-service"].changed');
	await tab.waitFor();
	await tab.click();
	await page.locator('#file-view .line.add', { hasText: /replicas:\s*4\b/ }).waitFor();
	await page.locator('#file-view .line.del', { hasText: /replicas:\s*\d+/ }).first().waitFor();
	assert.match(await page.textContent('#preview-status'), /differ from revision/);

	fs.mkdirSync(ARTIFACTS, { recursive: true });
	await page.screenshot({ path: path.join(ARTIFACTS, 'web-form.png') });
	if (process.env.UPDATE_SCREENSHOT) await page.screenshot({ path: path.join(ROOT, 'docs/screenshot.png') });

	await saveConfirmed(page);
	await page.locator('#status', { hasText: `revision ${rev + 1}` }).waitFor();
	const stored = await api(base, 'GET', ENV_PATH('staging'));
	assert.equal(stored.json.document.services['order-service'].replicas, 4);
	assert.equal(stored.json.revision, rev + 1);

	await page.reload();
	await page.waitForSelector('body[data-ready="true"]');
	await openEntry(page, 'order-service');
	assert.equal(await page.inputValue(field('/services/order-service/replicas')), '4');
	assert.equal(await page.textContent('#meta-revision'), String(rev + 1));
	assert.match(await page.textContent('#dirty-status'), /No unsaved changes/);
	await page.context().close();
});

test('an invalid memory limit is shown at its field, and nothing is saved', async () => {
	const page = await open('dev');
	const rev = await revisionOf('dev');
	const ptr = '/services/user-service/resources/limits/memory';
	await openEntry(page, 'user-service');
	await page.fill(field(ptr), 'lots of memory');
	// live validation by the preview render
	await page.locator(`${field(ptr)}[aria-invalid="true"]`).waitFor();
	const describedBy = await page.getAttribute(field(ptr), 'aria-describedby');
	const message = await page.textContent(`#${describedBy}`);
	assert.ok(message && message.length > 5, `an error message next to the field: ${message}`);
	assert.ok(await page.isVisible(`#${describedBy}`));

	await page.click('#save-btn');
	const summary = page.locator('#error-summary');
	await summary.waitFor();
	assert.match(await summary.textContent(), /Not saved/);
	assert.ok((await summary.textContent()).includes(ptr), 'the summary names the pointer');
	assert.equal(await page.getAttribute(field(ptr), 'aria-invalid'), 'true');
	// the summary links to the field
	await summary.locator('a.ptr', { hasText: ptr }).click();
	assert.equal(await page.evaluate(() => document.activeElement.dataset.pointer), ptr);
	assert.equal(await revisionOf('dev'), rev, 'nothing was saved');

	// fixing the value clears the error
	await page.fill(field(ptr), '1Gi');
	await page.waitForFunction((sel) => !document.querySelector(sel).hasAttribute('aria-invalid'), field(ptr));
	await page.context().close();
});

test('a save after someone else saved gets 412: the conflict is shown and the typed value kept', async () => {
	const page = await open('prod');
	const rev = await revisionOf('prod');
	await openEntry(page, 'api-gateway');
	const tag = field('/services/api-gateway/image/tag');
	await page.fill(tag, '9.9.9-mine');

	// a second client saves first
	const other = await api(base, 'PATCH', ENV_PATH('prod'), { ingress: { rules: { main: { host: 'other.example.com' } } } },
		{ 'Content-Type': 'application/merge-patch+json', 'If-Match': `"${rev}"` });
	assert.equal(other.status, 200, other.text);

	await saveConfirmed(page);
	await page.locator('#conflict').waitFor();
	assert.match(await page.textContent('#conflict'), /Someone else saved/);
	assert.match(await page.textContent('#conflict'), new RegExp(`revision ${rev + 1}`));
	assert.equal(await page.inputValue(tag), '9.9.9-mine', 'the typed value is still there');
	assert.equal((await api(base, 'GET', ENV_PATH('prod'))).json.document.services?.['api-gateway']?.image?.tag, undefined);

	// reload their revision, keeping the edit, and save again
	await page.click('#conflict-reload');
	await page.locator('#meta-revision', { hasText: String(rev + 1) }).waitFor();
	assert.equal(await page.inputValue(tag), '9.9.9-mine');
	await openEntry(page, 'main');
	assert.equal(await page.inputValue(field('/ingress/rules/main/host')), 'other.example.com');
	await saveConfirmed(page);
	await page.locator('#status', { hasText: `revision ${rev + 2}` }).waitFor();
	const stored = (await api(base, 'GET', ENV_PATH('prod'))).json.document;
	assert.equal(stored.services['api-gateway'].image.tag, '9.9.9-mine');
	assert.equal(stored.ingress.rules.main.host, 'other.example.com', 'the other save is not lost');
	await page.context().close();
});

test('download zip and tar.gz, and run the copied curl command: all unpack to the files of the preview', async () => {
	const page = await open('staging');
	const tabs = await page.$$eval('#file-tabs [role="tab"]', (ts) => ts.map((t) => t.dataset.file));
	for (const f of ['00-namespace.yaml', 'apply.sh', 'kustomization.yaml', 'README.md'])
		assert.ok(tabs.includes(f), `preview has ${f}: ${tabs}`);
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'manifestd-dl-'));
	try {
		for (const [button, ext, list] of [['#dl-zip', 'zip', (f) => execFileSync('unzip', ['-Z1', f])],
			['#dl-tgz', 'tar.gz', (f) => execFileSync('tar', ['tzf', f])]]) {
			const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
			assert.equal(download.suggestedFilename(), `${STACK}-staging.${ext}`);
			const file = path.join(dir, download.suggestedFilename());
			await download.saveAs(file);
			const names = list(file).toString().split('\n').filter((n) => n && !n.endsWith('/'));
			assert.deepEqual([...names].sort(), tabs.map((t) => `${STACK}-staging/${t}`).sort(), `${ext} entries`);
			if (ext === 'zip') {
				execFileSync('unzip', ['-q', '-t', file]); // CRCs check out
				assert.match(execFileSync('unzip', ['-l', file]).toString(), /msa-shop-staging\/apply\.sh/);
			}
		}
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
	// the pipeline command, copied to the clipboard, renders the same bundle
	await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
	await page.click('#copy-curl');
	await page.locator('#status', { hasText: 'copied' }).waitFor();
	const curl = await page.evaluate(() => navigator.clipboard.readText());
	assert.equal(curl, await page.inputValue('#curl-cmd'));
	assert.match(curl, /^curl -fsS -X POST '.*\/render\?format=zip'/);
	const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'manifestd-curl-'));
	try {
		execFileSync('sh', ['-c', curl], { cwd, timeout: 20000 });
		const names = execFileSync('unzip', ['-Z1', path.join(cwd, `${STACK}-staging.zip`)]).toString().split('\n').filter((n) => n && !n.endsWith('/'));
		assert.deepEqual(names.sort(), tabs.map((t) => `${STACK}-staging/${t}`).sort());
	} finally {
		fs.rmSync(cwd, { recursive: true, force: true });
	}
	await page.context().close();
});

test('keyboard only: Tab reaches Save with a visible focus ring, edit and Ctrl+S save, file tabs follow the arrow keys', async () => {
	const page = await open('dev');
	await page.locator('body').focus();
	let found = false;
	for (let i = 0; i < 30 && !found; i++) {
		await page.keyboard.press('Tab');
		found = await page.evaluate(() => document.activeElement?.id === 'save-btn');
	}
	assert.ok(found, 'Save is reachable with Tab');
	const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
	assert.notEqual(outline, 'none', 'focus is visible');

	// the next Tab enters the form; edit with the keyboard and save with Ctrl+S
	await page.keyboard.press('Tab');
	assert.equal(await page.evaluate(() => document.activeElement.dataset.pointer), '/description');
	await page.keyboard.press('Tab');
	assert.equal(await page.evaluate(() => document.activeElement.dataset.pointer), '/namespace');
	await page.keyboard.press('Control+A');
	await page.keyboard.type('msa-shop-keyboard');
	const rev = await revisionOf('dev');
	await page.keyboard.press('Control+S');
	// the diff to confirm: Enter on the focused "Save" button
	await page.locator('#save-dialog[open] #save-confirm:focus').waitFor();
	await page.keyboard.press('Enter');
	await page.locator('#status', { hasText: `revision ${rev + 1}` }).waitFor();
	assert.equal((await api(base, 'GET', ENV_PATH('dev'))).json.document.namespace, 'msa-shop-keyboard');
	assert.equal(await page.evaluate(() => document.activeElement.dataset.pointer), '/namespace', 'focus stays in place after saving');

	// Every form control has a label.
	const unlabelled = await page.$$eval('input:not([type="hidden"]), select, textarea', (els) =>
		els.filter((e) => !e.labels?.length && !e.getAttribute('aria-label')).map((e) => e.id || e.outerHTML.slice(0, 80)));
	assert.deepEqual(unlabelled, []);

	const first = page.locator('#file-tabs [role="tab"]').first();
	await first.focus();
	await page.keyboard.press('Enter');
	await page.keyboard.press('ArrowRight');
	const selected = await page.evaluate(() => [document.activeElement.getAttribute('aria-selected'), document.activeElement.dataset.file]);
	assert.equal(selected[0], 'true');
	assert.notEqual(selected[1], await first.getAttribute('data-file'));

	// A preview refresh in the background (an edit elsewhere) redraws the tabs: the focused
	// tab keeps the focus.
	await page.locator(field('/image/tag')).evaluate((e) => { e.value = '9.9.9'; e.dispatchEvent(new Event('input', { bubbles: true })); });
	await page.waitForFunction((file) => {
		const tab = document.querySelector(`#file-tabs [data-file="${file}"]`);
		return tab && tab.querySelector('.count') && !document.querySelector('[aria-busy="true"]');
	}, '50-order-service.yaml');
	assert.equal(await page.evaluate(() => document.activeElement.dataset.file), selected[1], 'focus survives the redraw');
	await page.context().close();
});

test('secrets never appear in the page: not stored ones, not newly typed ones', async () => {
	// as typed and as the base64 of a Secret's data
	const secrets = seedSecrets().flatMap((s) => [s, Buffer.from(s).toString('base64')]);
	assert.ok(secrets.length >= 4, 'the seed has secrets to look for');
	const page = await open('staging');
	const check = async (values, where) => {
		const html = await page.content();
		const inputs = await page.$$eval('input, textarea', (els) => els.filter((e) => e.type !== 'password').map((e) => e.value).join('\n'));
		for (const s of values) {
			assert.ok(!html.includes(s), `${where}: page shows a secret`);
			assert.ok(!inputs.includes(s), `${where}: an input holds a secret`);
		}
	};
	const secretShown = await page.$$eval('#sec-secrets .badge', (bs) => bs.map((b) => b.textContent));
	assert.ok(secretShown.length >= 4 && secretShown.every((t) => t === 'set'), `every staging secret is set: ${secretShown}`);
	// every preview file, one tab after the other
	const tabs = page.locator('#file-tabs [role="tab"]');
	let sawSecret = false;
	for (let i = 0; i < await tabs.count(); i++) {
		await tabs.nth(i).click();
		await check(secrets, `file ${await tabs.nth(i).getAttribute('data-file')}`);
		const text = await page.textContent('#file-view');
		if (/kind:\s*Secret/.test(text)) {
			sawSecret = true;
			assert.match(text, /••••••/, 'secret data is masked');
		}
	}
	assert.ok(sawSecret, 'the preview includes the Secret manifest (masked)');
	await page.click('#mode-json');
	await check(secrets, 'JSON view');
	await page.click('#mode-form');

	// type a new one: it is saved, then gone from the page
	const typed = 'n3w-Jwt-Secret-typed-in-the-form';
	await page.fill(field('/secrets/jwt-secret'), typed);
	await page.waitForTimeout(500); // the preview renders it (masked)
	await check([typed, Buffer.from(typed).toString('base64')], 'typed secret, preview');
	const rev = await revisionOf('staging');
	await saveConfirmed(page);
	await page.locator('#status', { hasText: `revision ${rev + 1}` }).waitFor();
	assert.equal(await page.inputValue(field('/secrets/jwt-secret')), '', 'the password field is empty again');
	await check([typed, Buffer.from(typed).toString('base64'), ...secrets], 'after save');
	const stored = await api(base, 'GET', ENV_PATH('staging'));
	assert.deepEqual(stored.json.document.secrets['jwt-secret'], { set: true });
	assert.ok(!stored.text.includes(typed));
	await page.context().close();
});

test('create an environment by copying another, then delete it with typed confirmation', async () => {
	const page = await open('staging');
	await page.click('#new-env-btn');
	await page.fill('#new-env-name', 'qa');
	await page.selectOption('#new-env-from', 'staging');
	await page.click('#new-env-form button[type="submit"]');
	await page.waitForFunction(() => document.querySelector('#env-select').value === 'qa');
	const qa = await api(base, 'GET', ENV_PATH('qa'));
	assert.equal(qa.status, 200);
	assert.equal(qa.json.document.ingress.rules.main.host, (await api(base, 'GET', ENV_PATH('staging'))).json.document.ingress.rules.main.host);

	await page.click('#delete-env-btn');
	await page.fill('#delete-confirm', 'q');
	assert.ok(await page.isDisabled('#delete-go'), 'a wrong name does not enable Delete');
	await page.fill('#delete-confirm', 'qa');
	await page.click('#delete-go');
	await page.waitForFunction(() => ![...document.querySelectorAll('#env-select option')].some((o) => o.value === 'qa'));
	assert.equal((await api(base, 'GET', ENV_PATH('qa'))).status, 404);
	await page.context().close();
});

test('config rows: a value with markup and quotes is added, previewed as text, saved, and removed', async () => {
	const page = await open('staging');
	await page.evaluate(() => { window.__pwned = false; });
	const value = `<img src=x onerror="window.__pwned=true"> it's "quoted": # not a comment`;
	await page.click('#sec-config button:has-text("Add config value")');
	// the new key input has focus: type the key, Tab to the value
	await page.keyboard.type('feature-banner');
	await page.keyboard.press('Tab');
	await page.keyboard.insertText(value);
	const tab = page.locator('#file-tabs [role="tab"].changed', { hasText: 'config' }).first();
	await tab.waitFor();
	await tab.click();
	const line = page.locator('#file-view .line.add', { hasText: 'feature-banner' });
	await line.waitFor();
	assert.ok((await line.textContent()).includes('<img src=x'), 'markup shows as text');
	assert.equal(await page.evaluate(() => window.__pwned), false);
	assert.equal(await page.locator('#file-view img, #env-form img').count(), 0);

	const rev = await revisionOf('staging');
	await saveConfirmed(page);
	await page.locator('#status', { hasText: `revision ${rev + 1}` }).waitFor();
	assert.equal((await api(base, 'GET', ENV_PATH('staging'))).json.document.config['feature-banner'], value);

	await page.click('#sec-config button[aria-label="Remove config value feature-banner"]');
	await saveConfirmed(page);
	await page.locator('#status', { hasText: `revision ${rev + 2}` }).waitFor();
	const config = (await api(base, 'GET', ENV_PATH('staging'))).json.document.config || {};
	assert.equal(config['feature-banner'], undefined);
	assert.equal(await page.evaluate(() => window.__pwned), false);
	await page.context().close();
});

test('autoscaling greys the replicas; env vars and probes are edited, previewed and saved', async () => {
	const page = await open('dev');
	await openEntry(page, 'user-service');
	const replicas = field('/services/user-service/replicas');
	const auto = field('/services/user-service/autoscaling/enabled');
	assert.equal(await page.isDisabled(replicas), false);
	await page.check(auto);
	assert.equal(await page.isDisabled(replicas), true, 'autoscaling sets the replicas');
	assert.match(await page.getAttribute(replicas, 'title'), /HorizontalPodAutoscaler/);
	await page.uncheck(auto);
	assert.equal(await page.isDisabled(replicas), false);

	// order-service: an inherited value var, a probe path and threshold; a new var
	await openEntry(page, 'order-service');
	const url = field('/services/order-service/env/SPRING_DATASOURCE_URL/value');
	assert.equal(await page.getAttribute(url, 'placeholder'), 'jdbc:mysql://$(DB_HOST):$(DB_PORT)/orderdb');
	await page.fill(url, 'jdbc:mysql://$(DB_HOST):$(DB_PORT)/orders2');
	const path = field('/services/order-service/probes/readiness/httpGet/path');
	assert.equal(await page.getAttribute(path, 'placeholder'), '/actuator/health/readiness', 'the stack\'s serviceDefaults');
	await page.fill(path, '/ready-now');
	await page.fill(field('/services/order-service/probes/startup/failureThreshold'), '48');
	await page.click('details[data-entry="order-service"] button:has-text("Add env var")');
	await page.keyboard.type('FEATURE_X');
	await page.fill(field('/services/order-service/env/FEATURE_X/value'), 'on');
	const tab = page.locator('#file-tabs [role="tab"][data-file*="order-service"].changed');
	await tab.waitFor();
	await tab.click();
	await page.locator('#file-view .line.add', { hasText: '/orders2' }).waitFor();
	await page.locator('#file-view .line.add', { hasText: 'path: /ready-now' }).waitFor();
	await page.locator('#file-view .line.add', { hasText: 'FEATURE_X' }).waitFor();

	const rev = await revisionOf('dev');
	await saveConfirmed(page);
	await page.locator('#status', { hasText: `revision ${rev + 1}` }).waitFor();
	const svc = (await api(base, 'GET', ENV_PATH('dev'))).json.document.services['order-service'];
	assert.equal(svc.env.SPRING_DATASOURCE_URL.value, 'jdbc:mysql://$(DB_HOST):$(DB_PORT)/orders2');
	assert.deepEqual(svc.env.FEATURE_X, { value: 'on' });
	assert.deepEqual(svc.probes.readiness, { httpGet: { path: '/ready-now' } });
	assert.deepEqual(svc.probes.startup, { failureThreshold: 48 });

	// the added var is removable; an inherited one (from serviceDefaults) is removed as null
	await page.click('[aria-label="Remove env var FEATURE_X of order-service"]');
	await page.click('[aria-label="Remove env var SPRING_PROFILES_ACTIVE of order-service"]');
	await page.locator('details[data-entry="order-service"] [aria-label="Restore env var SPRING_PROFILES_ACTIVE of order-service"]').waitFor();
	await saveConfirmed(page);
	await page.locator('#status', { hasText: `revision ${rev + 2}` }).waitFor();
	const env = (await api(base, 'GET', ENV_PATH('dev'))).json.document.services['order-service'].env;
	assert.equal(env.FEATURE_X, undefined);
	assert.equal(env.SPRING_PROFILES_ACTIVE, null, 'an inherited entry removed here is null here');
	const files = await api(base, 'GET', `${ENV_PATH('dev')}/manifests?format=files`);
	const deploy = files.json.files.find((f) => f.name === '50-order-service.yaml').content;
	assert.ok(!deploy.includes('SPRING_PROFILES_ACTIVE') && !deploy.includes('FEATURE_X'));
	assert.ok(deploy.includes('/orders2'));
	await page.context().close();
});
