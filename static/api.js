// api: the manifestd REST API (see API.md) from the browser. Every call resolves to
// {status, ok, etag, body, headers}; problem+json bodies are parsed into `problem`.

export const enc = encodeURIComponent;

export const envPath = (stack, env) => `/api/v1/stacks/${enc(stack)}/environments/${env === undefined ? '' : enc(env)}`.replace(/\/$/, '');

// Revision number from an ETag header ('"7"', 'W/"7"', '7'), or null.
export function etagRevision(etag) {
	const m = /^(?:W\/)?"?(\d+)"?$/.exec((etag || '').trim());
	return m ? Number(m[1]) : null;
}

export async function request(method, path, { json, contentType, headers = {}, signal, raw = false } = {}) {
	const init = { method, headers: { Accept: 'application/json', ...headers }, signal };
	if (json !== undefined) {
		init.body = JSON.stringify(json);
		init.headers['Content-Type'] = contentType || 'application/json';
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

// A problem object even when the server sent plain text or nothing.
function problemOf(res, body) {
	if (body && typeof body === 'object') return { title: res.statusText, status: res.status, ...body };
	return { title: res.statusText || `HTTP ${res.status}`, status: res.status, detail: typeof body === 'string' ? body.slice(0, 300) : '' };
}

// Filename of a Content-Disposition header, or fallback.
export function dispositionName(headers, fallback) {
	const m = /filename="?([^";]+)"?/.exec(headers.get('Content-Disposition') || '');
	return m ? m[1] : fallback;
}
