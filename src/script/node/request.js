// claimsmith's stand-in for the deprecated npm packages `request` and `request-promise` (used
// when node_modules has neither), over the scripts' `fetch`: the options Auth0 Rules use (`url` or
// `uri`, `method`, `headers`, `qs`, `json`, `form`, `body`, `auth`, `timeout`), callbacks
// `(err, response, body)` and, for request-promise, promises (`simple`,
// `resolveWithFullResponse`, `StatusCodeError`).
'use strict';

class RequestError extends Error {
  constructor(cause, options) {
    super(String(cause));
    this.name = 'RequestError';
    this.cause = cause;
    this.error = cause;
    this.options = options;
  }
}
class StatusCodeError extends Error {
  constructor(statusCode, body, options, response) {
    super(statusCode + ' - ' + (typeof body === 'string' ? body : JSON.stringify(body)));
    this.name = 'StatusCodeError';
    this.statusCode = statusCode;
    this.error = body;
    this.options = options;
    this.response = response;
  }
}

function options(uri, opts) {
  if (typeof uri === 'object' && uri !== null) return { ...uri };
  return { ...(opts || {}), uri };
}

async function perform(o) {
  let url = String(o.uri || o.url || '');
  if (o.baseUrl) url = o.baseUrl.replace(/\/+$/, '') + '/' + url.replace(/^\/+/, '');
  if (o.qs) {
    // As the `qs` package request uses: RFC 3986 (space as %20), null as empty, arrays indexed.
    const q = [], e = encodeURIComponent;
    for (const k of Object.keys(o.qs)) {
      const v = o.qs[k];
      if (v === undefined) continue;
      if (Array.isArray(v)) v.forEach((x, i) => q.push(e(k + '[' + i + ']') + '=' + e(x)));
      else q.push(e(k) + '=' + (v === null ? '' : e(v)));
    }
    if (q.length) url += (url.includes('?') ? '&' : '?') + q.join('&');
  }
  const headers = {};
  for (const k of Object.keys(o.headers || {})) headers[k.toLowerCase()] = String(o.headers[k]);
  let body = o.body;
  if (o.form !== undefined) {
    body = typeof o.form === 'string' ? o.form : new URLSearchParams(o.form).toString();
    headers['content-type'] = headers['content-type'] || 'application/x-www-form-urlencoded';
  } else if (o.json && body !== undefined && typeof body !== 'string') {
    body = JSON.stringify(body);
    headers['content-type'] = headers['content-type'] || 'application/json';
  }
  if (o.json) headers.accept = headers.accept || 'application/json';
  const auth = o.auth;
  if (auth) {
    if (auth.bearer) headers.authorization = 'Bearer ' + auth.bearer;
    else headers.authorization = 'Basic ' + btoa((auth.user || auth.username) + ':' + (auth.pass || auth.password || ''));
  }
  const method = String(o.method || 'GET').toUpperCase();
  const ask = fetch(url, { method, headers, body: method === 'GET' || method === 'HEAD' ? undefined : body });
  const res = await (o.timeout > 0
    ? Promise.race([ask, new Promise((_, no) => setTimeout(() => { const e = new Error('ETIMEDOUT'); e.code = 'ETIMEDOUT'; no(e); }, o.timeout))])
    : ask);
  let data = await res.text();
  if (o.json && data !== '') {
    try { data = JSON.parse(data); } catch (e) { /* not JSON: the text, as request does */ }
  }
  const h = {};
  for (const [k, v] of res.headers) h[k] = v;
  return { statusCode: res.status, statusMessage: res.statusText, headers: h, body: data, request: { uri: { href: url }, method } };
}

function request(uri, opts, callback) {
  if (typeof opts === 'function') { callback = opts; opts = undefined; }
  const o = options(uri, opts);
  const done = typeof callback === 'function' ? callback : () => {};
  perform(o).then(
    (response) => done(null, response, response.body),
    (e) => done(e.cause instanceof Error ? e.cause : e),
  );
}

function rp(uri, opts) {
  const o = options(uri, opts);
  return perform(o).then(
    (response) => {
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      if (!ok && o.simple !== false) throw new StatusCodeError(response.statusCode, response.body, o, response);
      return o.resolveWithFullResponse ? response : response.body;
    },
    (e) => { throw new RequestError(e.cause instanceof Error ? e.cause : e, o); },
  );
}

function methods(fn) {
  for (const m of ['get', 'post', 'put', 'patch', 'delete', 'head']) {
    fn[m] = (uri, opts, cb) => {
      if (typeof opts === 'function') { cb = opts; opts = undefined; }
      return fn({ ...options(uri, opts), method: m === 'delete' ? 'DELETE' : m.toUpperCase() }, cb);
    };
  }
  fn.del = fn.delete;
  fn.defaults = (d) => methods((uri, opts, cb) => {
    if (typeof opts === 'function') { cb = opts; opts = undefined; }
    const o = options(uri, opts);
    return fn({ ...d, ...o, headers: { ...(d.headers || {}), ...(o.headers || {}) } }, cb);
  });
  return fn;
}

module.exports = { request: methods(request), promise: Object.assign(methods(rp), { errors: { StatusCodeError, RequestError } }) };
