// Limits and bad input against the real binary: JSON depth and string length, service
// count, idle-connection timeout, total and per-client-address connection limits (500
// idle connections opened slowly do not stop a normal client), unauthenticated slow
// uploads (answered before their bodies, memory bounded), hostile names, and a burst of
// malformed requests after which the process is still up. Every error that manifestd
// answers is application/problem+json.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { start, tempDir, removeDir } from './lib/server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const seed = (name) => JSON.parse(readFileSync(path.join(root, 'migrations/seed/msa-shop', name), 'utf8'));
const ENV = '/api/v1/stacks/msa-shop/environments';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function stopClean(srv) {
  const { code, signal } = await srv.stop();
  assert.equal(signal, null, srv.stderr().slice(-4000));
  assert.equal(code, 0, srv.stderr().slice(-4000));
}

async function call(srv, method, p, body, type = 'application/json') {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['content-type'] = type;
  }
  const res = await fetch(srv.url + p, init);
  const text = await res.text();
  const ct = res.headers.get('content-type') || '';
  return { status: res.status, ct, text, json: ct.includes('json') && text ? JSON.parse(text) : undefined };
}

function assertProblem(r, status) {
  assert.equal(r.status, status, r.text.slice(0, 2000));
  assert.match(r.ct, /^application\/problem\+json/);
  assert.equal(r.json.status, status);
  assert.equal(typeof r.json.detail, 'string');
}

// {"a":{"a":...}} with depth levels of objects around {}.
const nested = (depth) => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);

describe('bad input', () => {
  let dir;
  let srv;
  before(async () => {
    dir = tempDir();
    srv = await start({ db: path.join(dir, 'm.db') });
  });
  after(async () => {
    await stopClean(srv);
    removeDir(dir);
  });

  test('a request path cannot write or forge access-log lines (text format)', async () => {
    const forged = '2026-01-01T00:00:00Z 10.0.0.1 "DELETE /api/v1/stacks/msa-shop" 204 0 1.0ms';
    const r = await call(srv, 'GET', '/x%0a' + encodeURIComponent(forged) + '%0d%22%5c');
    assertProblem(r, 404);
    for (let i = 0; i < 50 && !srv.stderr().includes('"GET /x\\x0a'); i++) await sleep(20);
    const lines = srv.stderr().split('\n');
    assert.ok(!lines.some((l) => l.startsWith('2026-01-01T00:00:00Z')), 'a forged line was written');
    const line = lines.find((l) => l.includes('"GET /x\\x0a'));
    assert.ok(line, srv.stderr().slice(-2000));
    assert.match(line, /\\x0d\\x22\\x5c" 404 \d+ /);
  });

  test('a problem quoting a very long path keeps a (shortened) detail', async () => {
    const r = await call(srv, 'GET', '/' + 'p'.repeat(8000));
    assertProblem(r, 404);
    assert.ok(r.json.detail.length > 100 && r.json.detail.length <= 1024, r.json.detail.length);
    assert.match(r.json.detail, /\.\.\.$/);
  });

  test('JSON nested too deep: 422 with a pointer, on every JSON route; 400 past the parser limit', async () => {
    const deep = nested(40);
    for (const [method, p] of [['PUT', `${ENV}/deep`], ['PATCH', `${ENV}/dev`], ['POST', ENV], ['POST', '/render'], ['POST', '/api/v1/stacks'], ['PUT', '/api/v1/stacks/x']]) {
      const r = await call(srv, method, p, deep);
      assertProblem(r, 422);
      assert.match(r.json.errors[0].pointer, /^(\/a){33}$/, `${method} ${p}`);
      assert.match(r.json.errors[0].detail, /nested deeper than the limit of 33 levels/);
    }
    // a document at the model's own limit inside an environment: the model says where
    const env = { ...seed('dev.json'), description: undefined };
    env.config = JSON.parse('{"k":' + nested(33) + '}');
    let r = await call(srv, 'PUT', `${ENV}/deep`, env);
    assertProblem(r, 422);
    assert.ok(r.json.errors.some((e) => e.pointer.startsWith('/config/k')), r.text.slice(0, 500));
    // beyond jansson's own limit of 2048 levels: invalid JSON with a position
    r = await call(srv, 'POST', '/render', '['.repeat(5000) + ']'.repeat(5000));
    assertProblem(r, 400);
    assert.equal(typeof r.json.line, 'number');
  });

  test('strings and names longer than 65536 bytes: 422 with a pointer', async () => {
    const env = seed('dev.json');
    env.config = { ...env.config, big: 'x'.repeat(65537) };
    let r = await call(srv, 'PUT', `${ENV}/big`, env);
    assertProblem(r, 422);
    assert.deepEqual(r.json.errors.map((e) => e.pointer), ['/config/big']);
    r = await call(srv, 'PATCH', `${ENV}/dev`, { config: { ['k'.repeat(70000)]: 'v' } }, 'application/merge-patch+json');
    assertProblem(r, 422);
    assert.match(r.json.errors[0].detail, /name longer than/);
    // exactly at the limit is not a body limit (the model accepts the value)
    env.config.big = 'x'.repeat(65536);
    r = await call(srv, 'PUT', `${ENV}/big`, env);
    assert.equal(r.status, 201, r.text.slice(0, 500));
    assert.equal((await call(srv, 'DELETE', `${ENV}/big`)).status, 204);
  });

  test('more than 1000 services: 422 naming /services; nothing stored', async () => {
    const services = {};
    for (let i = 0; i < 1001; i++) services[`s${i}`] = { image: { repository: 'x' }, port: 80 };
    let r = await call(srv, 'PATCH', `${ENV}/dev`, { services }, 'application/merge-patch+json');
    assertProblem(r, 422);
    assert.ok(r.json.errors.some((e) => e.pointer === '/services' && /1000/.test(e.detail)), r.text.slice(0, 1000));
    r = await call(srv, 'GET', `${ENV}/dev`);
    assert.equal(r.json.revision, 1);
    assert.ok(!('s0' in (r.json.document.services ?? {})));
  });

  test('hostile names never reach apply.sh: 4xx for stack and environment names and for names inside documents', async () => {
    const hostile = ['$(id)', '`id`', 'a;b', "a'b", 'a b', 'A', '-a', 'a..b', '..', 'x'.repeat(64), 'a\nb', 'é'];
    for (const name of hostile) {
      const enc = encodeURIComponent(name);
      let r = await call(srv, 'PUT', `${ENV}/${enc}`, seed('dev.json'));
      // (fetch turns ".." into a parent path: another resource, 405)
      assert.ok([400, 404, 405, 422].includes(r.status), `env ${JSON.stringify(name)}: ${r.status}`);
      assert.match(r.ct, /^application\/problem\+json/);
      r = await call(srv, 'POST', ENV, { name, from: 'dev' });
      assertProblem(r, 422);
      r = await call(srv, 'POST', '/api/v1/stacks', { name, document: seed('stack.json') });
      assertProblem(r, 422);
      r = await call(srv, 'PUT', `/api/v1/stacks/${enc}`, seed('stack.json'));
      assert.ok([400, 404, 405, 422].includes(r.status), `stack ${JSON.stringify(name)}: ${r.status}`);
    }
    // names inside the document that apply.sh or file names use
    const patch = {
      namespace: '$(reboot)',
      image: { pullSecret: 'a;b' },
      services: { 'evil`x`': { image: { repository: 'x' }, port: 1 } },
      ingress: { enabled: true, className: "x' || true", rules: { main: { tls: { secretName: 'a b' } } } },
    };
    const r = await call(srv, 'PATCH', `${ENV}/dev`, patch, 'application/merge-patch+json');
    assertProblem(r, 422);
    const pointers = r.json.errors.map((e) => e.pointer);
    for (const p of ['/namespace', '/image/pullSecret', '/services/evil`x`', '/ingress/className', '/ingress/rules/main/tls/secretName']) {
      assert.ok(pointers.some((x) => x.startsWith(p)), `${p} in ${pointers.join(' ')}`);
    }
    const list = await call(srv, 'GET', ENV);
    assert.deepEqual(list.json.items.map((e) => e.name), ['dev', 'prod', 'staging']);
  });

  test('a burst of malformed requests: problem+json whenever manifestd answers, and the process stays up', async () => {
    const raw = [
      'GET / HTTP/1.1\r\nHost: x\r\nX: ' + 'y'.repeat(100000) + '\r\n\r\n', // header larger than the connection memory
      'GET /' + 'a'.repeat(100000) + ' HTTP/1.1\r\nHost: x\r\n\r\n',
      'BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n',
      '\x00\x01\x02 garbage\r\n\r\n',
      'POST /render HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n\xff\xfe{}x',
      'POST /render HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{"a":"\\u0000"}',
      'POST /render HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n',
      'POST /render HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
      'PATCH /api/v1/stacks/msa-shop/environments/dev HTTP/1.1\r\nHost: x\r\nIf-Match: "1", "2"\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
      'GET /api/v1/stacks/%00/environments HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /api/v1/stacks/msa-shop/e\x9fvironments HTTP/1.1\r\nHost: x\r\n\r\n', // not UTF-8 (found by fuzz-http)
      'GET /api/v1/stacks/%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /api/v1/stacks/msa-shop/environments?limit=-5&cursor=%ff HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /api/v1/stacks/msa-shop/environments/dev/manifests?format=../../etc HTTP/1.1\r\nHost: x\r\n\r\n',
    ];
    for (const text of raw) {
      const res = await rawExchange(srv.port, text);
      if (!res.head) continue; // closed without an answer (libmicrohttpd refused it)
      const status = Number(res.head.split(' ')[1]);
      assert.ok(status >= 400 && status <= 505 && status !== 500, `${JSON.stringify(text.slice(0, 60))}: ${res.head.split('\r\n')[0]}`);
      if (/^content-type: application\/problem\+json/im.test(res.head)) continue;
      // only libmicrohttpd's own answers to unparseable HTTP (before any route) are not problem+json
      assert.ok([400, 413, 414, 431, 505].includes(status), `${JSON.stringify(text.slice(0, 60))}: ${res.head}`);
    }
    const r = await call(srv, 'GET', '/healthz');
    assert.equal(r.status, 200);
    assert.equal(srv.proc.exitCode, null);
  });
});

// Writes text on a fresh connection; resolves to {head} (status line and headers, '' when
// the server closed without answering).
function rawExchange(port, text) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1' }, () => sock.write(Buffer.from(text, 'latin1')));
    let data = '';
    sock.setTimeout(2000, () => sock.destroy()); // libmicrohttpd waits for more of a garbled request line
    sock.on('data', (d) => { data += d.toString('latin1'); });
    sock.on('error', () => {});
    sock.on('close', () => resolve({ head: data.split('\r\n\r\n')[0] }));
    sock.on('data', () => { if (data.includes('\r\n\r\n')) sock.destroy(); });
  });
}

// Opens n connections, `perAddress` from each loopback address 127.0.0.(first+k), pausing
// `gapMs` between them, each sending the start of a request and then a header line every
// 500 ms from its start (a slow client, never silent for --request-timeout). Resolves to
// the sockets, each with .closedEarly telling whether the server closed it.
async function slowClients(port, n, perAddress, first, gapMs) {
  const socks = [];
  for (let i = 0; i < n; i++) {
    const localAddress = `127.0.0.${first + Math.floor(i / perAddress)}`;
    const sock = net.connect({ port, host: '127.0.0.1', localAddress });
    sock.closedEarly = false;
    sock.on('error', () => {});
    sock.on('close', () => { sock.closedEarly = true; clearInterval(sock.drip); });
    sock.on('connect', () => {
      sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      sock.drip = setInterval(() => sock.write('X-Slow: 1\r\n'), 500);
    });
    socks.push(sock);
    if (gapMs) await sleep(gapMs);
  }
  socks.stop = () => { for (const s of socks) { clearInterval(s.drip); s.destroy(); } };
  return socks;
}

async function timedHealthz(srv) {
  const t0 = performance.now();
  const r = await fetch(srv.url + '/healthz', { signal: AbortSignal.timeout(5000) });
  assert.equal(r.status, 200);
  await r.text();
  return performance.now() - t0;
}

describe('connections', () => {
  test('an idle connection is closed after --timeout', async () => {
    const dir = tempDir();
    const srv = await start({ db: path.join(dir, 'm.db'), args: ['--timeout', '1'] });
    try {
      const t0 = performance.now();
      const closed = await new Promise((resolve) => {
        const sock = net.connect({ port: srv.port, host: '127.0.0.1' }, () => sock.write('GET /healthz HTTP/1.1\r\n'));
        sock.on('close', () => resolve(performance.now() - t0));
        sock.on('error', () => {});
        setTimeout(() => { sock.destroy(); resolve(Infinity); }, 6000);
      });
      assert.ok(closed >= 900 && closed < 4000, `closed after ${closed} ms`);
    } finally {
      await stopClean(srv);
      removeDir(dir);
    }
  });

  test('500 slow clients from 10 addresses (defaults): a normal client is still served promptly', async () => {
    const dir = tempDir();
    const srv = await start({ db: path.join(dir, 'm.db') });
    let socks;
    try {
      socks = await slowClients(srv.port, 500, 50, 2, 4);
      await sleep(1000);
      assert.equal(socks.filter((s) => s.closedEarly).length, 0, 'under every limit, every slow client stays connected');
      for (let i = 0; i < 5; i++) assert.ok((await timedHealthz(srv)) < 1000, 'a normal client waits');
      const r = await fetch(`${srv.url}${ENV}/prod/manifests?format=yaml`);
      assert.equal(r.status, 200);
      assert.ok((await r.text()).includes('kind: Deployment'));
    } finally {
      socks?.stop();
      await stopClean(srv);
      removeDir(dir);
    }
  });

  test('per-address limit: 500 slow clients cannot fill --max-connections; others are served', async () => {
    const dir = tempDir();
    const srv = await start({ db: path.join(dir, 'm.db'), args: ['--max-connections', '200', '--max-connections-per-ip', '16'] });
    let socks;
    try {
      // 5 addresses x 100: without the per-address limit they would take all 200 places
      socks = await slowClients(srv.port, 500, 100, 20, 4);
      await sleep(1000);
      const open = socks.filter((s) => !s.closedEarly).length;
      assert.equal(open, 5 * 16, 'each address keeps exactly its 16 connections');
      for (let i = 0; i < 5; i++) assert.ok((await timedHealthz(srv)) < 1000, 'a normal client waits');
    } finally {
      socks?.stop();
      await stopClean(srv);
      removeDir(dir);
    }
  });

  test('300 unauthenticated slow uploads: each answered 401 before its body; RSS stays under 64 MiB and a normal client is served within 1 s beside them', async () => {
    // RSS is bounded on the plain build when there is one: ASan keeps freed memory (its
    // quarantine) and shadows every byte, so its RSS says little about the server's.
    const plain = path.join(root, 'build/manifestd');
    const dir = tempDir();
    const srv = await start({ db: path.join(dir, 'm.db'), bin: existsSync(plain) ? plain : undefined });
    const rss = () => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${srv.proc.pid}/status`, 'utf8'))[1]) * 1024;
    const head = 'POST /render HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 900000\r\n\r\n';
    const first = Buffer.alloc(256 * 1024, 'x');
    const seen = { 401: 0, other: [] };
    let running = true;
    const open = new Set();
    // 100 from each of 127.0.0.40-42 (under the per-address 128): the head, 256 KiB of the
    // body at once, then 1 KiB every 100 ms; again 300 ms after the server closes
    const uploader = (i) => {
      if (!running) return;
      const sock = net.connect({ port: srv.port, host: '127.0.0.1', localAddress: `127.0.0.${40 + Math.floor(i / 100)}` });
      open.add(sock);
      let data = '';
      let drip;
      sock.on('connect', () => {
        sock.write(head);
        sock.write(first);
        drip = setInterval(() => sock.write('x'.repeat(1024)), 100);
      });
      sock.on('data', (d) => { data += d.toString('latin1'); });
      sock.on('error', () => {});
      sock.on('close', () => {
        clearInterval(drip);
        open.delete(sock);
        const status = data.slice(9, 12);
        if (status === '401') seen[401]++;
        else if (data) seen.other.push(data.split('\r\n')[0]);
        setTimeout(() => uploader(i), 300);
      });
    };
    let maxRss = 0;
    const sampler = setInterval(() => { maxRss = Math.max(maxRss, rss()); }, 50);
    try {
      for (let i = 0; i < 300; i++) uploader(i);
      await sleep(1000);
      for (let i = 0; i < 5; i++) {
        assert.ok((await timedHealthz(srv)) < 1000, 'a normal client waits');
        const t0 = performance.now();
        const r = await fetch(`${srv.url}${ENV}/prod`, { signal: AbortSignal.timeout(5000) });
        assert.equal(r.status, 200);
        await r.text();
        assert.ok(performance.now() - t0 < 1000, 'an authenticated client waits');
        await sleep(200);
      }
    } finally {
      running = false;
      clearInterval(sampler);
      for (const s of open) s.destroy();
    }
    assert.deepEqual(seen.other, [], 'every upload answered was answered 401');
    assert.ok(seen[401] >= 300, `${seen[401]} uploads answered 401`);
    if (existsSync(plain)) assert.ok(maxRss < 64 * 1024 * 1024, `RSS reached ${(maxRss / 1048576).toFixed(1)} MiB`);
    else test.diagnostic?.('no build/manifestd: the RSS bound was not checked');
    await stopClean(srv);
    removeDir(dir);
  });

  test('bad connection options are refused at start', async () => {
    const dir = tempDir();
    try {
      for (const args of [['--max-connections-per-ip', '-1'], ['--max-connections', '0'], ['--timeout', 'x'],
        ['--request-timeout', '0'], ['--max-body-total', '1000', '--max-body', '2000']]) {
        await assert.rejects(start({ db: path.join(dir, 'm.db'), args }), /exited with 2/);
      }
    } finally {
      removeDir(dir);
    }
  });
});
