// claimsmith's stand-in for the npm package `axios` (used when node_modules has none), over the
// scripts' `fetch`: the request methods, instances from `create`, and axios' response and error
// shapes. Subject to `[scripts] fetch_allow` like any fetch.
'use strict';

class AxiosError extends Error {
  constructor(message, code, config, response) {
    super(message);
    this.name = 'AxiosError';
    this.code = code;
    this.config = config;
    this.response = response;
    this.isAxiosError = true;
  }
  toJSON() { return { message: this.message, name: this.name, code: this.code, status: this.response ? this.response.status : undefined }; }
}

const lower = (h) => {
  const out = {};
  for (const k of Object.keys(h || {})) if (h[k] !== undefined && h[k] !== null) out[k.toLowerCase()] = String(h[k]);
  return out;
};

// axios's buildURL encoding: encodeURIComponent, then `:`, `$`, `,`, `[`, `]` kept and space as `+`.
const encode = (v) => encodeURIComponent(v).replace(/%3A/gi, ':').replace(/%24/g, '$')
  .replace(/%2C/gi, ',').replace(/%20/g, '+').replace(/%5B/gi, '[').replace(/%5D/gi, ']');

function query(params) {
  if (params === undefined || params === null) return '';
  if (params instanceof URLSearchParams) return params.toString();
  const out = [];
  const one = (x) => x instanceof Date ? x.toISOString() : typeof x === 'object' ? JSON.stringify(x) : x;
  for (const k of Object.keys(params)) {
    const v = params[k];
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const x of v) out.push(encode(k + '[]') + '=' + encode(one(x)));
    else out.push(encode(k) + '=' + encode(one(v)));
  }
  return out.join('&');
}

async function dispatch(defaults, config) {
  const c = { ...defaults, ...config, headers: { ...lower(defaults.headers), ...lower(config.headers) } };
  c.method = String(c.method || 'get').toLowerCase();
  let url = c.url || '';
  if (c.baseURL && !/^[a-z][a-z\d+\-.]*:\/\//i.test(url)) url = c.baseURL.replace(/\/+$/, '') + '/' + url.replace(/^\/+/, '');
  const qs = query(c.params);
  if (qs) url += (url.includes('?') ? '&' : '?') + qs;
  let body = c.data;
  if (body !== undefined && body !== null && typeof body === 'object' && !(body instanceof URLSearchParams) && !(body instanceof FormData) && !ArrayBuffer.isView(body) && !(body instanceof ArrayBuffer)) {
    body = JSON.stringify(body);
    if (!c.headers['content-type']) c.headers['content-type'] = 'application/json';
  } else if (body instanceof URLSearchParams && !c.headers['content-type']) {
    c.headers['content-type'] = 'application/x-www-form-urlencoded;charset=utf-8';
  }
  if (c.auth) c.headers.authorization = 'Basic ' + btoa(c.auth.username + ':' + c.auth.password);
  if (!c.headers.accept) c.headers.accept = 'application/json, text/plain, */*';
  const ask = fetch(url, { method: c.method.toUpperCase(), headers: c.headers, body: c.method === 'get' || c.method === 'head' ? undefined : body });
  let res;
  try {
    res = await (c.timeout > 0
      ? Promise.race([ask, new Promise((_, no) => setTimeout(() => no(new AxiosError('timeout of ' + c.timeout + 'ms exceeded', 'ECONNABORTED', c)), c.timeout))])
      : ask);
  } catch (e) {
    if (e instanceof AxiosError) throw e;
    throw new AxiosError(e.cause && e.cause.message ? e.cause.message : e.message, 'ERR_NETWORK', c);
  }
  const text = await res.text();
  let data = text;
  if ((c.responseType === undefined || c.responseType === 'json') && text !== '') {
    try { data = JSON.parse(text); } catch (e) { data = text; }
  }
  const headers = {};
  for (const [k, v] of res.headers) headers[k] = v;
  const response = { data, status: res.status, statusText: res.statusText, headers, config: c, request: {} };
  const valid = c.validateStatus === undefined ? (s) => s >= 200 && s < 300 : c.validateStatus;
  if (valid !== null && !valid(res.status)) {
    throw new AxiosError('Request failed with status code ' + res.status, res.status < 500 ? 'ERR_BAD_REQUEST' : 'ERR_BAD_RESPONSE', c, response);
  }
  return response;
}

function create(defaults) {
  defaults = { headers: {}, timeout: 0, ...(defaults || {}) };
  const instance = (a, b) => (typeof a === 'string' ? dispatch(defaults, { ...b, url: a }) : dispatch(defaults, a || {}));
  instance.defaults = defaults;
  instance.request = (config) => dispatch(defaults, config || {});
  for (const m of ['get', 'delete', 'head', 'options']) instance[m] = (url, config) => dispatch(defaults, { ...config, method: m, url });
  for (const m of ['post', 'put', 'patch']) instance[m] = (url, data, config) => dispatch(defaults, { ...config, method: m, url, data });
  instance.create = (more) => create({ ...defaults, ...more, headers: { ...defaults.headers, ...((more || {}).headers) } });
  instance.isAxiosError = (e) => e !== null && typeof e === 'object' && e.isAxiosError === true;
  instance.AxiosError = AxiosError;
  instance.all = (list) => Promise.all(list);
  instance.spread = (fn) => (arr) => fn(...arr);
  instance.interceptors = { request: { use() { throw new Error('axios interceptors are not available in claimsmith'); } }, response: { use() { throw new Error('axios interceptors are not available in claimsmith'); } } };
  return instance;
}

const axios = create();
axios.default = axios;
module.exports = axios;
