// The merchant API. The key is typed in by the merchant, kept in sessionStorage only (it
// is gone when the tab closes and is never written to a cookie, localStorage or a URL)
// and sent by fetch() as `Authorization: Bearer`.
//
// CSRF: the API authenticates only by that header and reads no cookie, and the console
// sends `credentials: 'omit'`. A page on another site can make the browser send requests
// here, but never with the header (it cannot read this origin's sessionStorage, and a
// cross-origin request with an Authorization header needs a CORS preflight the server does
// not grant), so every forged request is an unauthenticated 401. The console is therefore
// CSRF-safe by construction and needs no CSRF token.

const KEY_STORAGE = 'cardsmith.console.key';

const session = {
  key() {
    try {
      return sessionStorage.getItem(KEY_STORAGE);
    } catch {
      return null;
    }
  },
  set(key) {
    sessionStorage.setItem(KEY_STORAGE, key);
  },
  clear() {
    try {
      sessionStorage.removeItem(KEY_STORAGE);
    } catch {
      // storage disabled: nothing was kept
    }
  },
};

// An error answer of the API ({"error": {code, message, field, problems, lint}}).
class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `The server answered HTTP ${status}`);
    this.status = status;
    this.code = e.code || `http_${status}`;
    this.field = e.field || null;
    this.problems = Array.isArray(e.problems) ? e.problems : [];
    this.lint = e.lint || null;
  }
}

// Set by the app: what to do when the key stops working (401).
let onUnauthorized = () => {};

// path`/api/v1/programs/${slug}/cards`: every interpolated value is URL-encoded.
function path(strings, ...values) {
  let out = strings[0];
  values.forEach((v, i) => {
    out += encodeURIComponent(String(v)) + strings[i + 1];
  });
  return out;
}

// api('GET', path, {query, body, headers, raw, signingIn}): the parsed JSON (or the
// Response with `raw`); throws ApiError for 4xx/5xx. A Blob body is sent as is (images),
// anything else as JSON. A 401 signs out, except while `signingIn` (the key being tried).
async function api(method, target, options = {}) {
  const url = new URL(target, location.origin);
  for (const [k, v] of Object.entries(options.query || {})) {
    if (v != null && v !== '') url.searchParams.set(k, String(v));
  }
  const headers = { Accept: 'application/json', ...options.headers };
  const key = session.key();
  if (key) headers.Authorization = `Bearer ${key}`;
  let body;
  if (options.body instanceof Blob) {
    body = options.body;
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(url, {
    method,
    headers,
    body,
    credentials: 'omit',
    cache: 'no-store',
    referrerPolicy: 'no-referrer',
    signal: options.signal,
  });
  if (res.status === 401 && key && !options.signingIn) onUnauthorized();
  if (!res.ok) {
    let parsed = null;
    try {
      parsed = await res.json();
    } catch {
      // not JSON: the status says enough
    }
    throw new ApiError(res.status, parsed);
  }
  if (options.raw) return res;
  return res.status === 204 ? null : res.json();
}

// An Idempotency-Key: a random UUID (crypto.randomUUID needs a secure context; plain
// http on another host than localhost falls back to getRandomValues).
function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// Design images are behind the API key, so <img src> cannot load them directly: they are
// fetched with the key and shown through blob: URLs (allowed by the page's CSP), cached
// per program, version and name until the program changes or the merchant signs out.
const imageUrls = new Map();

async function designImageUrl(slug, version, name) {
  const cacheKey = `${slug}/${version}/${name}`;
  if (!imageUrls.has(cacheKey)) {
    const load = api('GET', path`/api/v1/programs/${slug}/designs/${version}/images/${name}.png`, {
      raw: true,
      headers: { Accept: 'image/png' },
    })
      .then((res) => res.blob())
      .then((blob) => URL.createObjectURL(blob));
    imageUrls.set(cacheKey, load);
    load.catch(() => imageUrls.delete(cacheKey));
  }
  return imageUrls.get(cacheKey);
}

function forgetImages() {
  for (const url of imageUrls.values())
    url.then(
      (u) => URL.revokeObjectURL(u),
      () => {},
    );
  imageUrls.clear();
}
