// Unauthenticated slow uploads against a real server (issue 16): N clients, spread over
// loopback addresses so the per-address limit (default 128) does not refuse them, each
// announcing a 900 KB JSON body to POST /render without a token, sending its first 64 KiB
// at once and then 1 KiB every 200 ms, reconnecting whenever the server closes, for the
// whole run. Beside them a normal client asks GET /healthz and an authenticated GET of an
// environment every 250 ms on fresh connections. Measured: the server's RSS (VmRSS, sampled
// every 100 ms; VmHWM at the end) against the same server idle just before (the
// reference), the normal client's latencies against the same requests on the idle server,
// how the uploads were answered. Not a test: it measures (bench/run calls it).
//
//   node bench/slow-uploads.mjs [--binary PATH] [--connections N] [--seconds S] [--label TEXT]
//
// Prints a markdown table on stdout. Default binary: build-release/manifestd.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const binary = path.resolve(opt('binary', path.join(root, 'build-release/manifestd')));
const N = Number(opt('connections', 1000));
const SECONDS = Number(opt('seconds', 10));
const label = opt('label', path.relative(root, binary));
const PER_ADDRESS = 100;
const ANNOUNCED = 900000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(path.join(tmpdir(), 'manifestd-slow-'));
const db = path.join(dir, 'm.db');
const token = execFileSync(binary, ['token', 'create', '--name', 'bench', '--role', 'admin', '--db', db]).toString().trim();
const proc = spawn(binary, ['serve', '--listen', '127.0.0.1:0', '--db', db], { stdio: ['ignore', 'ignore', 'pipe'] });
let stderr = '';
const port = await new Promise((resolve, reject) => {
  proc.stderr.on('data', (d) => {
    stderr += d;
    const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
    if (m) resolve(Number(m[1]));
  });
  proc.on('exit', (code) => reject(new Error(`manifestd exited with ${code}: ${stderr}`)));
});
const status = () => readFileSync(`/proc/${proc.pid}/status`, 'utf8');
const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status())[1]);

// One request on a fresh connection: its latency in ms (Infinity when it fails).
async function timed(p, headers = {}) {
  const t0 = performance.now();
  try {
    const r = await fetch(`http://127.0.0.1:${port}${p}`, { headers: { connection: 'close', ...headers }, signal: AbortSignal.timeout(5000) });
    await r.arrayBuffer();
    return r.status === 200 ? performance.now() - t0 : Infinity;
  } catch {
    return Infinity;
  }
}
const ENV = '/api/v1/stacks/msa-shop/environments/prod';
const auth = { authorization: `Bearer ${token}` };
async function probe(into) {
  into.push({ health: await timed('/healthz'), env: await timed(ENV, auth) });
}
const pct = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const ms = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'failed');

// the reference: the idle server
await sleep(500);
const idle = [];
for (let i = 0; i < 20; i++) await probe(idle);
const rssIdle = kib('VmRSS');

// the attack
const counts = { connections: 0, answered401: 0, otherAnswers: 0, closedWithoutAnswer: 0, bodyBytesSent: 0 };
let running = true;
const head = `POST /render HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${ANNOUNCED}\r\n\r\n`;
const first = Buffer.alloc(64 * 1024, 'x');
const drip = Buffer.alloc(1024, 'x');
function uploader(i) {
  if (!running) return;
  counts.connections++;
  const sock = net.connect({ port, host: '127.0.0.1', localAddress: `127.0.0.${2 + Math.floor(i / PER_ADDRESS)}` });
  let data = '';
  let timer;
  sock.on('connect', () => {
    sock.write(head);
    sock.write(first);
    counts.bodyBytesSent += first.length;
    timer = setInterval(() => {
      sock.write(drip);
      counts.bodyBytesSent += drip.length;
    }, 200);
  });
  sock.on('data', (d) => { data += d.toString('latin1'); });
  sock.on('error', () => {});
  sock.on('close', () => {
    clearInterval(timer);
    if (data.startsWith('HTTP/1.1 401')) counts.answered401++;
    else if (data) counts.otherAnswers++;
    else counts.closedWithoutAnswer++;
    setTimeout(() => uploader(i), 50);
  });
}
for (let i = 0; i < N; i++) {
  uploader(i);
  if (i % 50 === 49) await sleep(10);
}
let rssMax = 0;
const sampler = setInterval(() => { rssMax = Math.max(rssMax, kib('VmRSS')); }, 100);
const loaded = [];
const end = Date.now() + SECONDS * 1000;
while (Date.now() < end) {
  await probe(loaded);
  await sleep(250);
}
clearInterval(sampler);
running = false;
const hwm = kib('VmHWM');
proc.kill('SIGTERM');
await new Promise((r) => proc.on('exit', r));
rmSync(dir, { recursive: true, force: true });

const worst = (xs, k) => Math.max(...xs.map((x) => x[k]));
console.log(`| slow uploads (${label}) | value | reference (idle server, same run) | ratio | target |`);
console.log('|---|---|---|---|---|');
console.log(`| ${N} unauthenticated uploads at once (900 KB announced, 64 KiB sent, then 1 KiB / 200 ms), ${SECONDS} s | ${counts.connections} connections made, ${counts.answered401} answered 401, ${counts.otherAnswers} other answers, ${counts.closedWithoutAnswer} closed without an answer (mostly refused by the connection limits while the clients reconnect); ${(counts.bodyBytesSent / 1048576).toFixed(0)} MiB of body sent | | | every upload answered 401 |`);
console.log(`| server RSS, most sampled | ${(rssMax / 1024).toFixed(1)} MiB | ${(rssIdle / 1024).toFixed(1)} MiB | ${(rssMax / rssIdle).toFixed(2)}x | < 64 MiB |`);
console.log(`| server peak RSS (VmHWM, whole run) | ${(hwm / 1024).toFixed(1)} MiB | | | < 64 MiB |`);
console.log(`| GET /healthz beside them: p50 / worst ms (${loaded.length} requests) | ${ms(pct(loaded.map((x) => x.health), 0.5))} / ${ms(worst(loaded, 'health'))} | ${ms(pct(idle.map((x) => x.health), 0.5))} / ${ms(worst(idle, 'health'))} | ${(pct(loaded.map((x) => x.health), 0.5) / pct(idle.map((x) => x.health), 0.5)).toFixed(2)}x (p50) | < 1000 ms |`);
console.log(`| authenticated GET of an environment beside them: p50 / worst ms | ${ms(pct(loaded.map((x) => x.env), 0.5))} / ${ms(worst(loaded, 'env'))} | ${ms(pct(idle.map((x) => x.env), 0.5))} / ${ms(worst(idle, 'env'))} | ${(pct(loaded.map((x) => x.env), 0.5) / pct(idle.map((x) => x.env), 0.5)).toFixed(2)}x (p50) | < 1000 ms |`);
