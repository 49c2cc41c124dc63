// Browser tests of the History panel, the diff before saving and the Import page, against
// the real binary ($MANIFESTD, default build/manifestd) with a temporary database: two
// saves appear as revisions with their summaries, a revision's diff, rollback restoring
// the value, compare with another environment, paging; a docker-compose file pasted,
// converted (report + preview), saved as a new stack and found in the picker; Kubernetes
// YAML uploaded as several files, told from the text, converted and saved likewise.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, api, endSession, openEntry, openEnv, openPage, saveConfirmed, startSession } from './helpers.mjs';

const STACK = 'msa-shop';
const ENV_PATH = (env) => `/api/v1/stacks/${STACK}/environments/${env}`;
const field = (ptr) => `[data-pointer="${ptr}"]`;

let server, browser, base;
const pageErrors = [];

before(async () => ({ server, browser, base } = await startSession()));
after(() => endSession({ server, browser }, pageErrors));

const open = (env) => openEnv(browser, base, STACK, env, pageErrors);

const stored = async (env) => (await api(base, 'GET', ENV_PATH(env))).json;

test('two saves become two revisions with summaries; a revision diff; rollback restores the value', async () => {
	const page = await open('dev');
	const before = await stored('dev');
	const rev = before.revision;

	// save 1: replicas, with the diff shown before saving
	await openEntry(page, 'order-service');
	await page.fill(field('/services/order-service/replicas'), '3');
	await page.click('#save-btn');
	const dialog = page.locator('#save-dialog[open]');
	await dialog.waitFor();
	await dialog.locator('.dline.add', { hasText: /replicas: 3$/ }).waitFor();
	assert.match(await page.textContent('#save-summary'), new RegExp(`From revision ${rev}: 1 file change`));
	// "Keep editing" stores nothing
	await page.click('#save-cancel');
	assert.equal((await stored('dev')).revision, rev);
	await saveConfirmed(page);
	await page.locator('#status', { hasText: `revision ${rev + 1}` }).waitFor();

	// save 2: the image tag
	await page.fill(field('/image/tag'), '9.8.7');
	await saveConfirmed(page);
	await page.locator('#status', { hasText: `revision ${rev + 2}` }).waitFor();

	await page.click('#show-history');
	assert.equal(await page.getAttribute('#show-history', 'aria-pressed'), 'true');
	assert.ok(await page.isHidden('#preview'));
	const row = (n) => page.locator(`#rev-list tr[data-revision="${n}"]`);
	await row(rev + 2).waitFor();
	assert.match(await row(rev + 2).locator('.summary').textContent(), /image\.tag .*-> "9\.8\.7"/);
	assert.match(await row(rev + 1).locator('.summary').textContent(), /services\.order-service\.replicas .*3/);
	assert.match(await row(rev + 1).locator('.actor').textContent(), /\S/, 'an actor is shown');
	assert.match(await row(rev + 1).locator('time').getAttribute('datetime'), /^\d{4}-\d\d-\d\dT/);
	assert.equal(await row(rev + 2).locator('.badge', { hasText: 'current' }).count(), 1);

	// what revision rev+1 changed: the order-service Deployment's replicas, colored
	await row(rev + 1).getByRole('button', { name: `What revision ${rev + 1} changed` }).click();
	await page.locator('#diff-view .dline.add', { hasText: /replicas: 3$/ }).waitFor();
	assert.ok(await page.locator('#diff-view .dline.del', { hasText: /replicas:/ }).count() >= 1);
	assert.ok(await page.locator('#diff-view .diff-file[data-file*="order-service"]').count() === 1);
	const color = await page.locator('#diff-view .dline.add').first().evaluate((e) => getComputedStyle(e).backgroundColor);
	assert.notEqual(color, 'rgba(0, 0, 0, 0)', 'added lines are colored');

	// roll back to the first revision: see what it changes, then confirm
	await row(rev).getByRole('button', { name: `Roll back to revision ${rev}` }).click();
	await page.locator('#diff-view .dline.del', { hasText: '9.8.7' }).first().waitFor();
	await page.click('#rollback-go');
	await page.locator('#status', { hasText: `revision ${rev + 3}, equal to revision ${rev}` }).waitFor();
	const after = await stored('dev');
	assert.equal(after.revision, rev + 3);
	assert.deepEqual(after.document, before.document, 'the document of the first revision is back');
	// the form shows the restored values, the history the new revision
	assert.equal(await page.inputValue(field('/image/tag')), before.document.image?.tag ?? '');
	assert.equal(await page.inputValue(field('/services/order-service/replicas')), String(before.document.services?.['order-service']?.replicas ?? ''));
	await row(rev + 3).waitFor();
	assert.equal(await page.textContent('#meta-revision'), String(rev + 3));

	// compare with another environment
	await page.selectOption('#compare-env', 'prod');
	await page.click('#compare-btn');
	await page.locator('#diff-view .diff-file').first().waitFor();
	assert.match(await page.textContent('#diff-title'), /dev → prod/);
	assert.ok(await page.locator('#diff-view .dline.add').count() > 0);
	await page.context().close();
});

test('a rollback after someone else saved gets 412 and says so; the history pages with More', async () => {
	const page = await open('staging');
	const rev = (await stored('staging')).revision;
	// 22 more revisions: more than one page of 20
	let cur = rev;
	for (let i = 0; i < 22; i++) {
		const r = await api(base, 'PATCH', ENV_PATH('staging'), { config: { counter: String(i) } },
			{ 'Content-Type': 'application/merge-patch+json', 'If-Match': `"${cur}"` });
		assert.equal(r.status, 200, r.text);
		cur = r.json.revision;
	}
	await page.reload();
	await page.waitForSelector('body[data-ready="true"]');
	await page.click('#show-history');
	await page.locator(`#rev-list tr[data-revision="${cur}"]`).waitFor();
	assert.equal(await page.locator('#rev-list tr').count(), 20);
	await page.click('#rev-more');
	await page.locator(`#rev-list tr[data-revision="1"]`).waitFor();
	assert.equal(await page.locator('#rev-list tr').count(), cur);
	assert.ok(await page.isHidden('#rev-more'), 'no more pages');

	// someone else saves; the rollback is refused with 412 and the conflict banner
	const other = await api(base, 'PATCH', ENV_PATH('staging'), { config: { counter: 'other' } },
		{ 'Content-Type': 'application/merge-patch+json', 'If-Match': `"${cur}"` });
	assert.equal(other.status, 200);
	await page.locator('#rev-list tr[data-revision="1"]').getByRole('button', { name: 'Roll back to revision 1' }).click();
	await page.click('#rollback-go');
	await page.locator('#conflict').waitFor();
	assert.match(await page.textContent('#conflict'), new RegExp(`revision ${cur + 1}`));
	assert.equal((await stored('staging')).revision, cur + 1, 'nothing was rolled back');
	await page.context().close();
});

test('import: paste a compose file, see the report and the preview, save as a new stack, find it in the picker', async () => {
	const yaml = fs.readFileSync(path.join(ROOT, 'tests/data/compose/msa-shop.yml'), 'utf8');
	const page = await openPage(browser, `${base}/#import`, pageErrors);
	assert.ok(await page.isVisible('#import-page'));
	assert.ok(await page.isHidden('#editor-page'));
	await page.fill('#compose-text', yaml);
	await page.click('#import-convert');
	await page.locator('#import-status', { hasText: 'Converted' }).waitFor();

	// the report: every entry names a compose path, the same the API gives
	const direct = await fetch(`${base}/api/v1/import/compose`, { method: 'POST', headers: { 'Content-Type': 'application/yaml' }, body: yaml }).then((r) => r.json());
	const shown = await page.$$eval('#import-report li', (lis) => lis.map((li) => [li.querySelector('code')?.textContent, li.textContent]));
	assert.equal(shown.length, direct.report.length);
	assert.ok(shown.length > 0);
	for (const [i, item] of direct.report.entries()) {
		assert.equal(shown[i][0], item.path);
		assert.ok(shown[i][1].includes(item.detail));
	}
	assert.ok(shown.some(([p]) => p.startsWith('/services/mysql/')), 'MySQL notes are reported');

	// the preview: the rendered files, with no secret value of the compose file in it
	await page.locator('#import-tabs [role="tab"]').first().waitFor();
	const tabs = await page.$$eval('#import-tabs [role="tab"]', (t) => t.map((x) => x.dataset.file));
	assert.ok(tabs.some((t) => /api-gateway/.test(t)), tabs.join(' '));
	await page.click('#import-tabs [role="tab"][data-file*="api-gateway"]');
	await page.locator('#import-view', { hasText: 'kind: Deployment' }).waitFor();
	const text = await page.evaluate(() => document.body.innerText);
	for (const secret of ['root-pw-123', 'shop-pw-456', 'rabbit-pw-789', 'jwt-secret-abc'])
		assert.ok(!text.includes(secret), `${secret} is not shown`);

	// save as a new stack: a bad name is refused in the page, a good one is stored
	await page.fill('#import-name', 'Not A Name');
	await page.click('#import-save');
	assert.match(await page.textContent('#import-save-error'), /DNS label/);
	await page.fill('#import-name', 'shop-imported');
	await page.click('#import-save');
	await page.waitForFunction(() => location.hash === '#/shop-imported/dev');
	await page.locator('#editor-page:not([hidden])').waitFor();
	await page.waitForFunction(() => document.querySelector('#stack-select').value === 'shop-imported');
	// the environments of the new stack replace those of the stack shown before
	await page.waitForFunction(() => document.querySelector('#env-select').value === 'dev');
	await page.locator('#file-tabs [role="tab"]').first().waitFor();
	const s = await api(base, 'GET', '/api/v1/stacks/shop-imported');
	assert.equal(s.status, 200);
	assert.ok(s.json.document.services['api-gateway']);

	// upload instead of paste: the file's text fills the field, a name is suggested, it converts
	await page.goto(`${base}/#import`);
	await page.waitForSelector('body[data-ready="true"]');
	await page.fill('#import-name', ''); // the page keeps its fields: a name is suggested only into an empty one
	await page.setInputFiles('#compose-file', path.join(ROOT, 'tests/data/compose/wordpress.yml'));
	await page.locator('#import-status', { hasText: 'Converted' }).waitFor();
	assert.equal(await page.inputValue('#compose-text'), fs.readFileSync(path.join(ROOT, 'tests/data/compose/wordpress.yml'), 'utf8'));
	assert.equal(await page.inputValue('#import-name'), 'wordpress');
	await page.locator('#import-tabs [role="tab"]').first().waitFor();

	// the same name again: 409, said in words
	await page.goto(`${base}/#import`);
	await page.waitForSelector('body[data-ready="true"]');
	await page.fill('#compose-text', yaml);
	await page.fill('#import-name', 'shop-imported');
	await page.click('#import-save');
	await page.locator('#import-save-error', { hasText: 'exists already' }).waitFor();
	await page.context().close();
});

test('import: Kubernetes YAML in several files, told from the text, its report names the objects, saved as a new stack', async () => {
	const dir = path.join(ROOT, 'tests/data/apps/voting-app');
	const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => path.join(dir, f));
	const page = await openPage(browser, `${base}/#import`, pageErrors);
	assert.equal(await page.inputValue('#import-kind'), 'auto');
	await page.setInputFiles('#compose-file', files);
	await page.locator('#import-status', { hasText: 'Converted Kubernetes YAML' }).waitFor();
	const text = await page.inputValue('#compose-text');
	assert.equal(text.split(/^---$/m).length - 1, files.length, 'each file is its own document');

	// the report: the same as the API's, each entry with the object it is about
	const direct = await fetch(`${base}/api/v1/import/manifests`, { method: 'POST', headers: { 'Content-Type': 'application/yaml' }, body: text }).then((r) => r.json());
	const shown = await page.$$eval('#import-report li', (lis) => lis.map((li) => [li.querySelector('code')?.textContent, li.textContent]));
	assert.equal(shown.length, direct.report.length);
	for (const [i, item] of direct.report.entries()) {
		assert.equal(shown[i][0], item.path);
		assert.ok(shown[i][1].includes(item.object) && shown[i][1].includes(item.detail), shown[i][1]);
	}
	assert.ok(shown.some(([, t]) => t.includes('Deployment/db') && t.includes("component 'db'")), 'PostgreSQL became a component');

	// the preview: a file per service; the component's password comes from the stack's Secret
	await page.locator('#import-tabs [role="tab"][data-file*="vote"]').first().waitFor();
	await page.click('#import-tabs [role="tab"][data-file="50-db.yaml"]');
	await page.locator('#import-view', { hasText: 'kind: StatefulSet' }).waitFor();
	const view = await page.textContent('#import-view');
	assert.ok(view.includes('name: POSTGRES_PASSWORD') && view.includes('key: db-root-password'), view);

	// the kind chosen by hand: compose refuses this text, said in words
	await page.selectOption('#import-kind', 'compose');
	await page.locator('#import-status', { hasText: 'Cannot convert' }).waitFor();
	await page.selectOption('#import-kind', 'manifests');
	await page.locator('#import-status', { hasText: 'Converted Kubernetes YAML' }).waitFor();

	// text that is neither: the page asks what it is
	await page.selectOption('#import-kind', 'auto');
	await page.fill('#compose-text', 'just: some yaml\n');
	await page.click('#import-convert');
	await page.locator('#import-status', { hasText: 'Cannot tell' }).waitFor();

	// saved as a new stack, found in the picker
	await page.fill('#compose-text', text);
	await page.click('#import-convert');
	await page.locator('#import-status', { hasText: 'Converted Kubernetes YAML' }).waitFor();
	await page.fill('#import-name', 'votes');
	await page.fill('#import-env', 'test');
	await page.click('#import-save');
	await page.waitForFunction(() => location.hash === '#/votes/test');
	await page.waitForFunction(() => document.querySelector('#stack-select').value === 'votes');
	const s = await api(base, 'GET', '/api/v1/stacks/votes');
	assert.equal(s.status, 200);
	assert.deepEqual(Object.keys(s.json.document.services).sort(), ['result', 'vote', 'worker']);
	assert.deepEqual(Object.keys(s.json.document.components).sort(), ['db', 'redis']);
	const env = await api(base, 'GET', '/api/v1/stacks/votes/environments/test');
	assert.deepEqual(env.json.document.secrets, { 'db-password': { set: true }, 'db-root-password': { set: true } });
	await page.context().close();
});
