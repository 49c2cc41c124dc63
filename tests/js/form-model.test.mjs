// The web form is derived from the schema the server publishes (GET /api/v1/schema): these
// tests run its pure modules (static/schema.js, layout.js, layers.js, mergepatch.js) in
// Node against the real binary's schema, no browser. Every leaf field of the schema is
// reachable in the form's layout; a field added to a copy of the schema shows up with no
// code change; placeholders follow the layers (default <- stack <- environment, the
// serviceDefaults of both, computed defaults, the `port` shorthand); edits keep nulls.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { start, tempDir, removeDir } from './lib/server.mjs';
import { checkValue, nodeAt, readSchema, schemaLeaves } from '../../static/schema.js';
import { formLayout, layoutLeaves, walk } from '../../static/layout.js';
import { Layers } from '../../static/layers.js';
import { applyChanges, changes, clone } from '../../static/mergepatch.js';

let srv, dir, jsonSchema, stackDoc, devDoc;

before(async () => {
	dir = tempDir('manifestd-form-');
	srv = await start({ db: path.join(dir, 'm.db'), noAuth: true });
	const get = async (p) => {
		const r = await fetch(srv.url + p);
		assert.equal(r.status, 200, p);
		return r.json();
	};
	jsonSchema = await get('/api/v1/schema');
	stackDoc = (await get('/api/v1/stacks/msa-shop')).document;
	devDoc = (await get('/api/v1/stacks/msa-shop/environments/dev')).document;
});
after(async () => {
	await srv?.stop();
	removeDir(dir);
});

const items = (sections) => sections.flatMap((s) => s.items.flatMap((i) => [...walk(i)]));

test('every leaf field of the schema is reachable in the form layout, with a label and a control for its type', () => {
	const root = readSchema(jsonSchema);
	const sections = formLayout(root);
	const leaves = schemaLeaves(root);
	assert.ok(leaves.length > 150, `the schema has many leaves: ${leaves.length}`);
	for (const l of ['services/*/ports/*/targetPort', 'services/*/probes/readiness/grpc/service', 'services/*/volumes/*/files/*/content',
		'services/*/scheduling/tolerations/[]/effect', 'ingress/rules/*/tls/secretName', 'services/*/command', 'secrets/*', 'components/*/type'])
		assert.ok(leaves.includes(l), l);
	assert.deepEqual([...layoutLeaves(sections)].sort(), [...leaves].sort());
	assert.equal(new Set(layoutLeaves(sections)).size, leaves.length, 'each leaf once');
	const want = { integer: 'int', boolean: 'bool', secret: 'secret', raw: 'json', any: 'json', array: 'lines', intOrString: 'intOrString' };
	for (const f of items(sections).filter((i) => i.type === 'field')) {
		assert.ok(f.label && typeof f.label === 'string', `${f.path.join('/')} has a label`);
		if (f.node.kind === 'string') assert.equal(f.control, f.node.enum ? 'select' : f.node.form.multiline ? 'textarea' : 'text', f.path.join('/'));
		else if (f.node.kind === 'boolean' && f.node.nullable) assert.equal(f.control, 'select', `${f.path.join('/')}: inherit, true or false`);
		else if (want[f.node.kind]) assert.equal(f.control, want[f.node.kind], f.path.join('/'));
	}
	// the sections the schema's hints name, in its order, and every top-level member in one
	assert.deepEqual(sections.slice(0, 4).map((s) => s.title), ['General', 'Services', 'Components', 'Ingress']);
	assert.deepEqual(sections.flatMap((s) => s.items.map((i) => i.name)).sort(), root.props.map((p) => p.name).sort());
	// a probe: one of four checks (or none), then its timings
	const probe = items(sections).find((i) => i.path.join('/') === 'services/*/probes/readiness');
	assert.equal(probe.choice.exactly, false);
	assert.deepEqual(probe.choice.members.map((m) => m.name), ['httpGet', 'tcpSocket', 'exec', 'grpc']);
	const volume = items(sections).find((i) => i.path.join('/') === 'services/*/volumes/*');
	assert.equal(volume.choice.exactly, true);
	assert.deepEqual(volume.choice.members.map((m) => m.name), ['emptyDir', 'files', 'persistent', 'claim', 'configMap']);
	// maps name what one entry is
	const maps = Object.fromEntries(items(sections).filter((i) => i.type === 'map').map((m) => [m.path.join('/'), m.item]));
	assert.equal(maps['services/*/ports'], 'port');
	assert.equal(maps['ingress/rules'], 'rule');
	assert.equal(maps.config, 'config value');
});

test('a field added to a copy of the schema shows up in the form without code changes', () => {
	const copy = clone(jsonSchema);
	const svc = copy.properties.services.additionalProperties.properties;
	svc.shutdownSignal = { type: ['string', 'null'], enum: ['SIGTERM', 'SIGINT', null], default: 'SIGTERM', description: 'the signal that stops the container' };
	svc.ports.additionalProperties.properties.hostPort = { type: ['integer', 'null'], minimum: 1, maximum: 65535 };
	copy.properties.observability = { type: ['object', 'null'], properties: { sampleRate: { type: ['integer', 'null'], minimum: 0, maximum: 100, default: 10 } } };
	const sections = formLayout(readSchema(copy));
	const leaves = layoutLeaves(sections);
	for (const l of ['services/*/shutdownSignal', 'services/*/ports/*/hostPort', 'observability/sampleRate']) assert.ok(leaves.includes(l), l);
	const f = items(sections).find((i) => i.path.join('/') === 'services/*/shutdownSignal');
	assert.equal(f.control, 'select');
	assert.equal(f.label, 'Shutdown signal');
	assert.deepEqual(f.node.enum, ['SIGTERM', 'SIGINT']);
	assert.equal(items(sections).find((i) => i.path.join('/') === 'services/*/ports/*/hostPort').control, 'int');
	assert.ok(sections.some((s) => s.title === 'Observability' && s.items[0].name === 'observability'), 'a new top-level member gets a section');
	// and the original, without them, has none of these
	assert.ok(!layoutLeaves(formLayout(readSchema(jsonSchema))).includes('services/*/shutdownSignal'));
});

test('placeholders are what the environment inherits: defaults, stack, serviceDefaults of both, computed defaults, shorthands', () => {
	const root = readSchema(jsonSchema);
	const edited = clone(devDoc);
	const l = new Layers(root, stackDoc, edited, { stack: 'msa-shop', env: 'dev' });
	const ph = (p) => l.placeholder(p.split('/'));
	// the stack's serviceDefaults, then the environment's over them
	assert.equal(ph('services/order-service/replicas'), String(stackDoc.serviceDefaults.replicas));
	assert.equal(ph('services/order-service/resources/limits/memory'), devDoc.serviceDefaults.resources.limits.memory);
	edited.serviceDefaults.replicas = 3;
	l.changed();
	assert.equal(ph('services/order-service/replicas'), '3');
	// a pointer default: a service's tag is the environment's tag, live
	assert.equal(ph('services/order-service/image/tag'), devDoc.image.tag);
	edited.image.tag = '7.7.7';
	l.changed();
	assert.equal(ph('services/order-service/image/tag'), '7.7.7');
	// the stack's value wins over the built-in default; the built-in default otherwise
	assert.equal(ph('image/registry'), stackDoc.image.registry);
	assert.equal(ph('ingress/className'), nodeAt(root, ['ingress', 'className']).default);
	assert.equal(ph('services/order-service/probes/readiness/periodSeconds'), '10');
	assert.equal(ph('services/order-service/probes/readiness/httpGet/path'), stackDoc.serviceDefaults.probes.readiness.httpGet.path);
	// computed defaults: words with the stack's and environment's names, and a sibling
	assert.equal(ph('ingress/rules/main/tls/secretName'), 'msa-shop-tls');
	assert.equal(ph('secretSource/remoteKey'), 'msa-shop/dev');
	assert.equal(ph('services/order-service/ports/http/targetPort'), String(stackDoc.services['order-service'].port));
	// `port: N` stands for ports.http.port
	const ports = l.entries(['services', 'order-service', 'ports']);
	assert.deepEqual(ports.map((e) => e.key), ['http']);
	assert.equal(ph('services/order-service/ports/http/port'), String(stackDoc.services['order-service'].port));
	assert.deepEqual(l.shorthandOf(['services', 'order-service', 'ports', 'http']), ['services', 'order-service', 'port']);
	// map entries: serviceDefaults' first, the service's own, then the environment's
	const env = l.entries(['services', 'order-service', 'env']).map((e) => e.key);
	assert.equal(env[0], 'SPRING_PROFILES_ACTIVE');
	assert.ok(env.includes('DB_HOST'));
	edited.services = { 'order-service': { env: { SPRING_PROFILES_ACTIVE: null, FEATURE_X: { value: 'on' } } } };
	l.changed();
	const after = l.entries(['services', 'order-service', 'env']);
	assert.deepEqual(after.find((e) => e.key === 'SPRING_PROFILES_ACTIVE'), { key: 'SPRING_PROFILES_ACTIVE', inherited: true, removed: true, own: null });
	assert.equal(after[after.length - 1].key, 'FEATURE_X');
	assert.equal(after[after.length - 1].inherited, false);
	// null is a value of a nullable field: a removed probe
	edited.services['order-service'].probes = { startup: null };
	l.changed();
	assert.equal(l.effective(['services', 'order-service', 'probes', 'startup']), null);
	assert.ok(l.inherited(['services', 'order-service', 'probes', 'startup']));
});

test('edits are replayed onto another revision with their nulls; typed values are checked early', () => {
	const saved = { services: { a: { replicas: 2, probes: { startup: { httpGet: {} } } } }, config: { k: 'v' } };
	const edited = { services: { a: { replicas: 2, probes: { startup: null } }, b: { port: 80 } }, config: {} };
	const list = changes(saved, edited);
	assert.deepEqual(applyChanges(clone(saved), list), edited);
	const newer = { services: { a: { replicas: 5, probes: { startup: { httpGet: {} } } } }, config: { k: 'v', other: 'x' }, namespace: 'n' };
	assert.deepEqual(applyChanges(clone(newer), list),
		{ services: { a: { replicas: 5, probes: { startup: null } }, b: { port: 80 } }, config: { other: 'x' }, namespace: 'n' });

	const root = readSchema(jsonSchema);
	const at = (p) => nodeAt(root, p.split('/'));
	assert.equal(checkValue(at('services/x/resources/limits/memory'), '512Mi'), null);
	assert.match(checkValue(at('services/x/resources/limits/memory'), 'lots'), /quantity/);
	assert.match(checkValue(at('services/x/ports/http/port'), 70000), /at most 65535/);
	assert.equal(checkValue(at('services/x/ports/http/protocol'), 'UDP'), null);
	assert.match(checkValue(at('services/x/ports/http/protocol'), 'ICMP'), /one of/);
	assert.equal(checkValue(at('services/x/cron/schedule'), '*/5 * * * *'), null);
	assert.match(checkValue(at('services/x/cron/schedule'), 'often'), /cron/);
	assert.equal(checkValue(at('services/x/probes/liveness/httpGet/port'), 'http'), null);
	assert.equal(checkValue(at('services/x/probes/liveness/httpGet/port'), 8080), null);
});
