// A small HTTP client for the API tests: call(server, method, path, {body, type, headers})
// -> {status, headers, body (Buffer), text, json (when the response is JSON)}.
export async function call(server, method, p, { body, type = 'application/json', headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
    if (type) init.headers['content-type'] = type;
  }
  const res = await fetch(server.url + p, init);
  const buf = Buffer.from(await res.arrayBuffer());
  const ct = res.headers.get('content-type') || '';
  let json;
  if (ct.includes('json') && buf.length) json = JSON.parse(buf.toString('utf8'));
  return { status: res.status, headers: res.headers, body: buf, text: buf.toString('utf8'), json };
}

// Asserts an RFC 9457 problem response with the given status.
export function problem(assert, r, status) {
  assert.equal(r.status, status, r.text);
  assert.match(r.headers.get('content-type'), /^application\/problem\+json/);
  assert.equal(r.json.status, status);
  assert.equal(typeof r.json.title, 'string');
  assert.equal(typeof r.json.detail, 'string');
}

// RFC 6901: the value at pointer in doc, or undefined.
export function pointer(doc, ptr) {
  if (ptr === '') return doc;
  let v = doc;
  for (const raw of ptr.slice(1).split('/')) {
    const tok = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (v === null || typeof v !== 'object' || !(tok in v)) return undefined;
    v = v[tok];
  }
  return v;
}
