// Browser tests of the form's Components section (static/componentform.js) against the real
// binary: an instance added from the catalog to an environment of a new stack, its params
// edited, a service's use of it with its consumer params, saved and rendered (the
// StatefulSet, the provisioning Job); msa-shop's instances with who uses them, the
// stack's params inherited and overridden in an environment's layer, remove/restore and
// disable; a stored catalog override shown (when the server has the catalog's PUT).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ARTIFACTS, api, endSession, openEntry, openEnv, saveConfirmed, startSession } from './helpers.mjs';

const field = (ptr) => `[data-pointer="${ptr}"]`;
const SEC = '#sec-components';
const card = (name) => `${SEC} details[data-entry="${name}"]`;

let server, browser, base;
const pageErrors = [];

before(async () => ({ server, browser, base } = await startSession({ baseUrl: process.env.E2E_BASE_URL })));
after(() => endSession({ server, browser }, pageErrors));

const rendered = async (stack, env) => {
	const r = await api(base, 'GET', `/api/v1/stacks/${stack}/environments/${env}/manifests?format=files`);
	assert.equal(r.status, 200, r.text);
	return r.json.files;
};

test('a postgres component added from the catalog, its storage set in prod, used by a service: stored and rendered', async () => {
	const stack = `shop-${Date.now() % 100000}`;
	let r = await api(base, 'POST', '/api/v1/stacks', { name: stack, document: { services: { api: { image: { repository: 'api', tag: '1.0.0' }, port: 8080 } } } });
	assert.equal(r.status, 201, r.text);
	for (const env of ['dev', 'prod']) {
		r = await api(base, 'POST', `/api/v1/stacks/${stack}/environments`, { name: env, document: {} });
		assert.equal(r.status, 201, r.text);
	}
	const page = await openEnv(browser, base, stack, 'prod', pageErrors);
	const sec = page.locator(SEC);
	await sec.getByRole('heading', { name: 'Components' }).waitFor();
	assert.match(await sec.textContent(), /No components yet/);

	// the types are the catalog's, picked by label; the name is checked as it is typed
	const type = sec.getByLabel('Type', { exact: true });
	const types = await type.locator('option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
	const catalog = await api(base, 'GET', '/api/v1/catalog');
	assert.deepEqual(types, catalog.json.items.map((i) => i.name));
	await type.selectOption('postgres');
	const name = sec.getByLabel('Name', { exact: true });
	assert.equal(await name.inputValue(), 'postgres', 'the type suggests a name');
	await name.fill('api');
	await sec.locator('.field-check', { hasText: /taken by a service/ }).waitFor();
	assert.equal(await name.getAttribute('aria-invalid'), 'true');
	await name.fill('9db');
	await sec.locator('.field-check', { hasText: /must be a DNS label/ }).waitFor();
	await name.fill('db');
	assert.equal(await name.getAttribute('aria-invalid'), null);
	await sec.getByRole('button', { name: 'Add component' }).click();

	// the card opens on the type's params, defaults as placeholders; the secrets it needs
	// are declared in the Secrets section
	await page.locator(card('db')).waitFor();
	await page.waitForFunction((sel) => document.querySelector(sel)?.open, card('db'));
	assert.match(await page.textContent('#status'), /Added component db \(postgres\)\. Declared the secrets db-root-password, db-password/);
	assert.match(await page.locator(`${card('db')} > summary`).textContent(), /postgres · enabled · used by no service/);
	const size = page.locator(field('/components/db/storage/size'));
	assert.equal(await size.getAttribute('placeholder'), '5Gi');
	assert.equal(await page.getAttribute(field('/components/db/image/tag'), 'placeholder'), '16.4');
	assert.equal(await page.getAttribute(field('/components/db/passwordSecret'), 'placeholder'), 'db-password', '${name} filled in');
	const sizeLabel = await page.locator(`label[for="${await size.getAttribute('id')}"]`).textContent();
	assert.equal(sizeLabel, 'Size');
	await size.fill('20Gi');
	await page.fill(field('/components/db/maxConnections'), '200');
	await page.fill(field('/secrets/db-root-password'), 'root-pw-1');
	await page.fill(field('/secrets/db-password'), 'app-pw-1');

	// the service uses it, with a database of its own
	await openEntry(page, 'api', '#sec-services');
	const uses = page.locator('[data-entry="api"] fieldset[data-name="uses"]');
	const box = uses.getByLabel('api uses component db');
	assert.equal(await box.isChecked(), false);
	await box.check();
	const db = page.locator(field('/services/api/uses/db/database'));
	await db.waitFor();
	assert.equal(await db.getAttribute('placeholder'), 'api', 'the consumer default: the service name in snake case');
	await db.fill('orders');
	await page.locator(`${card('db')} .used-by`, { hasText: 'Used by: api' }).waitFor();
	assert.match(await page.locator(`${card('db')} > summary`).textContent(), /used by api/);

	// the preview renders it before it is saved
	await page.locator('#file-tabs [role="tab"][data-file="50-db.yaml"]').waitFor();
	fs.mkdirSync(ARTIFACTS, { recursive: true });
	await page.locator(SEC).screenshot({ path: path.join(ARTIFACTS, 'web-form-components.png') });

	await saveConfirmed(page);
	await page.locator('#status', { hasText: 'revision 2' }).waitFor();
	const doc = (await api(base, 'GET', `/api/v1/stacks/${stack}/environments/prod`)).json.document;
	assert.deepEqual(doc.components, { db: { type: 'postgres', storage: { size: '20Gi' }, maxConnections: 200 } });
	assert.deepEqual(doc.services, { api: { uses: { db: { database: 'orders' } } } });
	assert.deepEqual(doc.secrets, { 'db-root-password': { set: true }, 'db-password': { set: true } });
	assert.deepEqual((await api(base, 'GET', `/api/v1/stacks/${stack}/environments/dev`)).json.document, {}, 'dev untouched');

	const files = await rendered(stack, 'prod');
	const text = (n) => files.find((f) => f.name === n)?.content || '';
	assert.match(text('50-db.yaml'), /kind: StatefulSet/);
	assert.match(text('50-db.yaml'), /storage: "?20Gi"?\n/);
	assert.match(text('50-db-provision.yaml'), /kind: Job/);
	assert.match(text('50-db-provision.yaml'), /name: db-provision-[0-9a-f]{8}/);
	assert.match(text('20-extra.yaml'), /orders/, 'the provisioning files make the database orders');
	assert.match(text('50-api.yaml'), /wait-for-db/);
	assert.ok(!files.some((f) => f.name === '50-db.yaml' && /app-pw-1|root-pw-1/.test(f.content)));

	// removing the service's use: unchecked, nothing left under uses
	await box.uncheck();
	assert.equal(await db.isVisible(), false);
	await page.locator(`${card('db')} .used-by`, { hasText: 'Used by: no service' }).waitFor();
	await page.context().close();
});

test("msa-shop: the stack's mysql, rabbitmq and zipkin with who uses them; prod's layer overrides a param; remove, restore, disable", async () => {
	const page = await openEnv(browser, base, 'msa-shop', 'staging', pageErrors);
	const summary = async (n) => (await page.locator(`${card(n)} > summary`).textContent()).replace(/\s+/g, ' ');
	assert.deepEqual(await page.locator(`${SEC} .instance > details.entry.card`).evaluateAll((ds) => ds.map((d) => d.dataset.entry)), ['mysql', 'rabbitmq', 'zipkin']);
	assert.match(await summary('mysql'), /mysql · mysql · enabled · used by user-service, product-service, order-service, payment-service, settlement-service/);
	assert.match(await summary('rabbitmq'), /rabbitmq · enabled · used by payment-service, settlement-service/);
	assert.match(await summary('zipkin'), /zipkin · enabled · used by no service/);

	// the stack's params show greyed; staging's own value is its own
	await openEntry(page, 'mysql', SEC);
	const mysqlSize = field('/components/mysql/storage/size');
	assert.equal(await page.inputValue(mysqlSize), '10Gi');
	assert.ok(await page.locator(`.field.own:has(> ${mysqlSize})`).count());
	await openEntry(page, 'rabbitmq', SEC);
	const rSize = page.locator(field('/components/rabbitmq/storage/size'));
	assert.equal(await rSize.inputValue(), '');
	assert.equal(await rSize.getAttribute('placeholder'), '1Gi', "the stack's value");
	assert.equal(await page.getAttribute(field('/components/rabbitmq/image/tag'), 'placeholder'), '3.13-management');
	await rSize.fill('3Gi');

	// a service's uses: the stack's, with their consumer params inherited
	await openEntry(page, 'order-service', '#sec-services');
	const uses = page.locator('[data-entry="order-service"] fieldset[data-name="uses"]');
	assert.equal(await uses.getByLabel('order-service uses component mysql').isChecked(), true);
	assert.equal(await uses.getByLabel('order-service uses component rabbitmq').isChecked(), false);
	assert.equal(await page.getAttribute(field('/services/order-service/uses/mysql/database'), 'placeholder'), 'orderdb');
	await uses.getByLabel('order-service uses component rabbitmq').check();
	assert.equal(await page.getAttribute(field('/services/order-service/uses/rabbitmq/user'), 'placeholder'), 'msa-shop', '${params.user} of the instance');
	await page.locator(`${card('rabbitmq')} > summary`, { hasText: 'used by order-service, payment-service, settlement-service' }).waitFor();

	// zipkin: disabled here (the stack disables it, staging enabled it)
	const disable = page.getByRole('button', { name: 'Disable component zipkin' });
	await disable.click();
	await page.getByRole('button', { name: 'Enable component zipkin' }).waitFor();
	assert.match(await summary('zipkin'), /disabled/);

	// mysql removed in this environment is a null; Restore takes it back
	await page.getByRole('button', { name: 'Remove component mysql' }).click();
	assert.match(await summary('mysql'), /removed in this environment/);
	await page.getByRole('button', { name: 'Restore component mysql' }).click();
	assert.match(await summary('mysql'), /enabled/);

	await saveConfirmed(page);
	await page.locator('#status', { hasText: /Saved: msa-shop\/staging/ }).waitFor();
	const doc = (await api(base, 'GET', '/api/v1/stacks/msa-shop/environments/staging')).json.document;
	assert.deepEqual(doc.components, { mysql: { storage: { size: '10Gi' } }, rabbitmq: { storage: { size: '3Gi' } } });
	assert.deepEqual(doc.services['order-service'].uses, { rabbitmq: {} });
	const files = await rendered('msa-shop', 'staging');
	assert.ok(!files.some((f) => /zipkin/.test(f.name)), 'zipkin renders nothing when disabled');
	assert.match(files.find((f) => f.name === '50-rabbitmq.yaml').content, /storage: "?3Gi"?\n/);
	assert.match(files.find((f) => f.name === '50-order-service.yaml').content, /wait-for-rabbitmq/);

	// an inherited use unchecked in prod is a null there
	const prod = await openEnv(browser, base, 'msa-shop', 'prod', pageErrors);
	await openEntry(prod, 'payment-service', '#sec-services');
	await prod.locator('[data-entry="payment-service"] fieldset[data-name="uses"]').getByLabel('payment-service uses component rabbitmq').uncheck();
	await prod.locator(`${card('rabbitmq')} > summary`, { hasText: 'used by settlement-service' }).waitFor();
	await prod.click('#mode-json');
	assert.deepEqual(JSON.parse(await prod.inputValue('#json-editor')).services['payment-service'].uses, { rabbitmq: null });
	await prod.context().close();
	await page.context().close();
});

test('a stored override of a catalog type shows up in the form', async (t) => {
	const got = await api(base, 'GET', '/api/v1/catalog/zipkin');
	assert.equal(got.status, 200, got.text);
	const doc = structuredClone(got.json.document);
	doc.description = 'Zipkin, as the platform team runs it';
	doc.params.maxSpans = { ...doc.params.maxSpans, default: 12345 };
	const put = await api(base, 'PUT', '/api/v1/catalog/zipkin', doc);
	if (put.status === 404 || put.status === 405) {
		t.skip(`PUT /api/v1/catalog/{type} is not routed on this server (${put.status})`);
		return;
	}
	assert.ok([200, 201].includes(put.status), put.text);
	try {
		const page = await openEnv(browser, base, 'msa-shop', 'dev', pageErrors);
		const option = page.locator(`${SEC} option[value="zipkin"]`);
		assert.match(await option.textContent(), /override|stored/);
		await openEntry(page, 'zipkin', SEC);
		await page.locator(`${card('zipkin')} .hint`, { hasText: 'Zipkin, as the platform team runs it' }).waitFor();
		assert.equal(await page.getAttribute(field('/components/zipkin/maxSpans'), 'placeholder'), '12345');
		await page.context().close();
	} finally {
		const cur = await api(base, 'GET', '/api/v1/catalog/zipkin');
		await api(base, 'DELETE', '/api/v1/catalog/zipkin', undefined, { 'If-Match': cur.etag || '*' });
	}
});
