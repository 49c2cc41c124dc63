// The server an import test file talks to: started before the file's tests with a fresh
// database and a body limit of maxBody bytes (above the importer's own limit where a test
// wants that limit to answer), stopped after them with its exit status checked (leaks and
// sanitizer findings fail it). post(text, query, type) sends text to the import endpoint.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { call as rawCall, problem } from './client.mjs';
import { removeDir, start, tempDir } from './server.mjs';

export function importServer(endpoint, maxBody) {
  let dir;
  let server;
  const call = (...a) => rawCall(server, ...a);
  const post = (text, query = '', type = 'application/yaml') => call('POST', endpoint + query, { body: text, type });
  before(async () => {
    dir = tempDir();
    server = await start({ db: path.join(dir, 'data/manifestd.db'), args: ['--max-body', String(maxBody)] });
  });
  after(async () => {
    if (server) {
      const { code } = await server.stop();
      assert.equal(code, 0, server.stderr());
    }
    removeDir(dir);
  });
  return { call, post };
}

// What every importer refuses alike, at once: an alias bomb (422 naming the node limit, in
// well under 5 s), nesting 300 deep under key (422), and bytes that are not UTF-8 (422 or
// 400).
export async function refusesHostileYaml(post, key) {
  let text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
  for (const [prev, name] of [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e'], ['e', 'f'], ['f', 'g'], ['g', 'h'], ['h', 'i']])
    text += `${name}: &${name} [${Array(10).fill(`*${prev}`).join(',')}]\n`;
  const t0 = Date.now();
  const bomb = await post(text);
  problem(assert, bomb, 422);
  assert.match(bomb.json.detail, /nodes/);
  assert.ok(Date.now() - t0 < 5000);
  problem(assert, await post(`${key}: ${'['.repeat(300)}`), 422);
  const bin = await post(Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0a]));
  assert.ok(bin.status === 422 || bin.status === 400, bin.text);
}

// What every import endpoint answers alike about the request itself: the YAML content
// types (200 for small, a document it imports), 415 for others, 400 for an empty body, 405
// for GET, and 400 for a bad query (save without a stack, save not a boolean, names that
// are not DNS labels).
export async function refusesBadRequests({ call, post }, endpoint, small) {
  for (const type of ['application/yaml', 'text/yaml', 'application/x-yaml', 'application/yaml; charset=utf-8'])
    assert.equal((await post(small, '', type)).status, 200, type);
  problem(assert, await post(small, '', 'application/json'), 415);
  problem(assert, await post(small, '', 'text/plain'), 415);
  problem(assert, await post('', ''), 400);
  problem(assert, await call('GET', endpoint), 405);
  for (const query of ['?save=1', '?save=maybe&stack=x', '?stack=Bad_Name', '?environment=-x'])
    problem(assert, await post(small, query), 400);
}
