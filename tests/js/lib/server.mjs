// Starts the real manifestd binary ($MANIFESTD, default build-asan/manifestd) on an
// ephemeral port with a temporary database, and stops it with SIGTERM. Authentication
// stays on: an admin token is made with `manifestd token create` against the database
// before the server starts (tests send it as `Authorization: Bearer <token>`), unless
// the caller gives one (`token`) or turns authentication off (`noAuth`).
//
// The same tests run against PostgreSQL when MANIFESTD_TEST_PG is the keyword string of
// a throwaway cluster's superuser (tests/pg-cluster; tests/run-all stage js-pg): every
// database path a test names (`db`) then stands for its own PostgreSQL database, created
// on first use OWNER manifestd (a role without superuser or CREATEDB) and dropped by
// removeDir, and its secret key is a key file next to that path (created 0600, as serve
// creates one next to a SQLite file; PostgreSQL needs one given). Tests that look at the
// database itself use sql(), rawBytes() and dbFlags() below, which follow the mode.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const binary = process.env.MANIFESTD || path.join(root, 'build-asan/manifestd');

export function tempDir(prefix = 'manifestd-test-') {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export const pgAdmin = process.env.MANIFESTD_TEST_PG || '';
export const dialect = pgAdmin ? 'postgres' : 'sqlite';

const pgDatabases = new Map(); // db path -> database name
const sqlitePaths = new Set(); // paths that stay SQLite files in every mode
let pgCount = 0;

// Keeps db a SQLite file also when the tests run against PostgreSQL (tests that move data
// between the two); returns db.
export function keepSqlite(db) {
  sqlitePaths.add(db);
  return db;
}

function psql(conninfo, query) {
  return execFileSync('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', conninfo, '-c', query], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
}

// "host=... port=... user=postgres dbname=postgres" with user and dbname replaced.
function conninfo(user, dbname) {
  const kv = Object.fromEntries(pgAdmin.trim().split(/\s+/).map((p) => p.split('=')));
  return Object.entries({ ...kv, user, dbname }).map(([k, v]) => `${k}=${v}`).join(' ');
}

// The --db value for a test's database path: the path itself (SQLite), or the keyword
// string of the PostgreSQL database that stands for it (created on first use).
export function dbTarget(db) {
  if (!pgAdmin || db.includes('=') || db.startsWith('postgres') || sqlitePaths.has(db)) return db;
  let name = pgDatabases.get(db);
  if (!name) {
    name = `t_${process.pid}_${++pgCount}`;
    psql(pgAdmin, `CREATE DATABASE ${name} OWNER manifestd`);
    pgDatabases.set(db, name);
  }
  return conninfo('manifestd', name);
}

// The key file of a PostgreSQL test database: next to its path, made like serve makes one.
function keyFile(db) {
  const file = path.join(path.dirname(db), 'manifestd.key');
  if (!existsSync(file)) {
    mkdirSync(path.dirname(db), { recursive: true });
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  }
  return file;
}

// The flag that names db for the CLI commands.
export function dbFlags(db) {
  return ['--db', dbTarget(db)];
}

// The flag that names the key of db for serve and rekey: none with SQLite (the key file
// next to the database is the default), the key file with PostgreSQL (which has none).
export function keyFlags(db) {
  return pgAdmin ? ['--key-file', keyFile(db)] : [];
}

// The rows query returns, as the sqlite3 / psql command lines print them (columns
// separated by |, one row a line).
export function sql(db, query) {
  if (!pgAdmin) return execFileSync('sqlite3', ['-batch', '-noheader', db, query], { encoding: 'utf8' });
  return psql(dbTarget(db), query);
}

// What the database holds, as bytes to search: every file of a SQLite database (db,
// -wal, -shm); with PostgreSQL, every row of every table (the cluster's files belong to
// the cluster: the guarantee is what manifestd sends it).
export function rawBytes(db) {
  if (!pgAdmin) return Buffer.concat(['', '-wal', '-shm'].filter((s) => existsSync(db + s)).map((s) => readFileSync(db + s)));
  const tables = psql(dbTarget(db), "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").trim().split('\n');
  return Buffer.from(tables.map((t) => psql(dbTarget(db), `SELECT t::text FROM ${t} t`)).join('\n'));
}

export function removeDir(dir) {
  for (const [db, name] of pgDatabases) {
    if (!db.startsWith(dir + path.sep)) continue;
    pgDatabases.delete(db);
    try {
      psql(pgAdmin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } catch { /* the cluster goes away at the end anyway */ }
  }
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
  return execFileSync(binary, ['token', 'create', '--name', name, '--role', role, '--db', dbTarget(db)], {
    env: { ...SANITIZERS, ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString().trim();
}

// start({db, args, env, token, noAuth, autoAuth, bin}) -> {url, port, proc, exited, token, headers, stderr(), stop()}
// bin: another manifestd binary than $MANIFESTD for the server.
export async function start({ db, args = [], env = {}, token, noAuth = false, autoAuth = true, bin = binary } = {}) {
  if (noAuth) args = ['--no-auth', ...args];
  else token ??= createToken(db, { env });
  const merged = { ...SANITIZERS, ...process.env, ...env };
  if (pgAdmin && !sqlitePaths.has(db) && !merged.MANIFESTD_SECRET_KEY && !merged.MANIFESTD_KEY_FILE && !args.includes('--key-file')) {
    merged.MANIFESTD_KEY_FILE = keyFile(db);
  }
  const proc = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--db', dbTarget(db), ...args], {
    env: merged,
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
