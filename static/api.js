// api: the manifestd REST API (see docs/api.md) from the browser. Every call resolves to
// {status, ok, etag, body, headers}; problem+json bodies are parsed into `problem`.
//
// Authentication: the bearer token lives in sessionStorage (this tab only, gone when it
// closes) and goes out as `Authorization: Bearer …` on every call. A 401 asks for a token
// through the handler set with setTokenPrompt() and repeats the call with the new one; a
// server without authentication never answers 401, so it never asks.

export const enc = encodeURIComponent;

export const envPath = (stack, env) => `/api/v1/stacks/${enc(stack)}/environments/${env === undefined ? '' : enc(env)}`.replace(/\/$/, '');

const TOKEN_KEY = 'manifestd.token';

export function getToken() {
	try { return sessionStorage.getItem(TOKEN_KEY) || null; } catch { return null; }
}

export function setToken(token) {
	try {
		if (token) sessionStorage.setItem(TOKEN_KEY, token);
		else sessionStorage.removeItem(TOKEN_KEY);
	} catch { /* storage disabled: the token lives as long as the page */ }
	memoryToken = token || null;
}

let memoryToken = null;
const currentToken = () => getToken() || memoryToken;

// prompt(message) -> Promise<boolean>: true when a new token was stored (retry), false
// when the person gave up. One prompt at a time: concurrent 401s wait for the same one.
let tokenPrompt = null;
let pendingPrompt = null;
export function setTokenPrompt(fn) { tokenPrompt = fn; }

function askToken(hadToken) {
	if (!tokenPrompt) return Promise.resolve(false);
	pendingPrompt ||= tokenPrompt(hadToken
		? 'The server did not accept this token (it may be wrong, revoked, or for another server). Enter a valid token.'
		: 'This manifestd server needs an API token. Enter yours to continue.')
		.finally(() => { pendingPrompt = null; });
	return pendingPrompt;
}

// Revision number from an ETag header ('"7"', 'W/"7"', '7'), or null.
export function etagRevision(etag) {
	const m = /^(?:W\/)?"?(\d+)"?$/.exec((etag || '').trim());
	return m ? Number(m[1]) : null;
}

export async function request(method, path, opts = {}) {
	for (;;) {
		const sent = currentToken();
		const out = await requestOnce(method, path, opts, sent);
		if (out.status !== 401) return out;
		// another call may have got a new token while this one was under way
		if (currentToken() !== sent) continue;
		if (!(await askToken(Boolean(sent)))) return out;
	}
}

async function requestOnce(method, path, { json, body, contentType, headers = {}, signal, raw = false } = {}, token) {
	const init = { method, headers: { Accept: 'application/json', ...headers }, signal };
	if (token) init.headers.Authorization = `Bearer ${token}`;
	if (json !== undefined) {
		init.body = JSON.stringify(json);
		init.headers['Content-Type'] = contentType || 'application/json';
	} else if (body !== undefined) {
		init.body = body;
		init.headers['Content-Type'] = contentType || 'text/plain';
	}
	const res = await fetch(path, init);
	const out = { status: res.status, ok: res.ok, headers: res.headers, etag: res.headers.get('ETag') };
	const type = res.headers.get('Content-Type') || '';
	if (raw && res.ok) {
		out.blob = await res.blob();
		return out;
	}
	const text = await res.text();
	if (/json/.test(type) && text) {
		try { out.body = JSON.parse(text); } catch { out.body = null; }
	} else out.body = text;
	if (!res.ok) out.problem = problemOf(res, out.body);
	return out;
}

// A problem object even when the server sent plain text or nothing. A 403 says, in
// words, that the token's role may not do this.
function problemOf(res, body) {
	const p = body && typeof body === 'object'
		? { title: res.statusText, status: res.status, ...body }
		: { title: res.statusText || `HTTP ${res.status}`, status: res.status, detail: typeof body === 'string' ? body.slice(0, 300) : '' };
	if (res.status === 403) {
		p.title = 'Not allowed: your token’s role may not do this';
		p.detail = `${p.detail ? `${p.detail} ` : ''}Ask an admin for a token with a higher role, or sign out and use another token.`;
	}
	return p;
}

// Filename of a Content-Disposition header, or fallback.
export function dispositionName(headers, fallback) {
	const m = /filename="?([^";]+)"?/.exec(headers.get('Content-Disposition') || '');
	return m ? m[1] : fallback;
}
