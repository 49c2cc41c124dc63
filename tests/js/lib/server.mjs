// Starts the real manifestd binary ($MANIFESTD, default build-asan/manifestd) on an
// ephemeral port with a temporary database, and stops it with SIGTERM. Authentication
// stays on: an admin token is made with `manifestd token create` against the database
// before the server starts (tests send it as `Authorization: Bearer <token>`), unless
// the caller gives one (`token`) or turns authentication off (`noAuth`).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const binary = process.env.MANIFESTD || path.join(root, 'build-asan/manifestd');

export function tempDir(prefix = 'manifestd-test-') {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}

// Sanitizer findings are fatal and leaks at exit fail the exit status (ASan/UBSan builds),
// also when the tests run without tests/run-all.
const SANITIZERS = {
  ASAN_OPTIONS: 'abort_on_error=1:detect_leaks=1',
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
};

let tokenCount = 0;

// fetch() sends the token of the server it talks to (unless the request names its own
// Authorization), so every test speaks to an authenticated server the way a client does.
// start({autoAuth: false}) leaves the requests to that server as they are (auth tests).
const tokenFor = new Map(); // "http://127.0.0.1:PORT" -> "Bearer ..."
const plainFetch = globalThis.fetch;
globalThis.fetch = (input, init = {}) => {
  const url = typeof input === 'string' ? input : String(input.url ?? input);
  const auth = tokenFor.get(url.replace(/^(https?:\/\/[^/]+).*$/s, '$1'));
  if (auth) {
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', auth);
    init = { ...init, headers };
  }
  return plainFetch(input, init);
};

// `manifestd token create` against db: the new token (stdout), or throws.
export function createToken(db, { name = `test-${process.pid}-${++tokenCount}`, role = 'admin', env = {} } = {}) {
  return execFileSync(binary, ['token', 'create', '--name', name, '--role', role, '--db', db], {
    env: { ...SANITIZERS, ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString().trim();
}

// start({db, args, env, token, noAuth, autoAuth, bin}) -> {url, port, proc, exited, token, headers, stderr(), stop()}
// bin: another manifestd binary than $MANIFESTD for the server.
export async function start({ db, args = [], env = {}, token, noAuth = false, autoAuth = true, bin = binary } = {}) {
  if (noAuth) args = ['--no-auth', ...args];
  else token ??= createToken(db, { env });
  const proc = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--db', db, ...args], {
    env: { ...SANITIZERS, ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`manifestd did not start:\n${err}`)), 20000);
    proc.stderr.on('data', (chunk) => {
      err += chunk;
      const m = /^manifestd: listening on http:\/\/127\.0\.0\.1:(\d+)\n/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    exited.then(({ code }) => reject(new Error(`manifestd exited with ${code}:\n${err}`)));
  });
  proc.stdout.resume();
  const url = `http://127.0.0.1:${port}`;
  if (token && autoAuth) tokenFor.set(url, `Bearer ${token}`);
  exited.then(() => tokenFor.delete(url));
  return {
    port,
    url,
    proc,
    exited, // resolves to {code, signal} when the process ends
    token,
    // the Authorization header of token ({} without authentication)
    headers: token ? { authorization: `Bearer ${token}` } : {},
    stderr: () => err,
    // SIGTERM; resolves to the exit status ({code, signal}).
    async stop() {
      proc.kill('SIGTERM');
      return exited;
    },
  };
}
