// Node's `url`: the WHATWG `URL`/`URLSearchParams` (the globals) and the legacy `parse`, `format`
// and `resolve` Auth0 Rules use, following lib/url.js's rules for the common cases.
'use strict';

const querystring = require('querystring');

const SLASHED = new Set(['http:', 'https:', 'ftp:', 'gopher:', 'file:', 'ws:', 'wss:']);
const HOSTLESS = new Set(['javascript:']);
// Characters lib/url.js always escapes in what follows the host.
const AUTO_ESCAPE = { ' ': '%20', '"': '%22', "'": '%27', '<': '%3C', '>': '%3E', '\\\\': '/', '^': '%5E', '`': '%60', '{': '%7B', '|': '%7C', '}': '%7D', '\t': '%09', '\n': '%0A', '\r': '%0D' };
const escapeRest = (s) => s.replace(/[ "'<>\\^`{|}\t\n\r]/g, (c) => (c === '\\' ? '/' : AUTO_ESCAPE[c]));

function Url() {
  this.protocol = null;
  this.slashes = null;
  this.auth = null;
  this.host = null;
  this.port = null;
  this.hostname = null;
  this.hash = null;
  this.search = null;
  this.query = null;
  this.pathname = null;
  this.path = null;
  this.href = null;
}

function invalidArg(name, type, v) {
  const e = new TypeError('The "' + name + '" argument must be of type ' + type + '. Received ' + (v === null ? 'null' : typeof v));
  e.code = 'ERR_INVALID_ARG_TYPE';
  return e;
}

Url.prototype.parse = function parse(url, parseQueryString, slashesDenoteHost) {
  if (typeof url !== 'string') throw invalidArg('url', 'string', url);
  let rest = url.trim();
  const proto = /^[a-z0-9.+-]+:/i.exec(rest);
  let lowerProto;
  if (proto) {
    lowerProto = proto[0].toLowerCase();
    this.protocol = lowerProto;
    rest = rest.slice(proto[0].length);
  }
  let slashes = false;
  if (slashesDenoteHost || proto || /^\/\/[^@/]+@[^@/]+/.test(rest)) {
    slashes = rest.startsWith('//');
    if (slashes && !(proto && HOSTLESS.has(lowerProto))) {
      rest = rest.slice(2);
      this.slashes = true;
    }
  }
  if (!HOSTLESS.has(lowerProto) && (slashes || (proto && !SLASHED.has(lowerProto)))) {
    // The host runs to the first of these; the auth is what comes before the last `@` in it.
    let hostEnd = rest.length;
    for (const c of ['/', '?', '#', '\\']) {
      const i = rest.indexOf(c);
      if (i !== -1 && i < hostEnd) hostEnd = i;
    }
    const at = rest.lastIndexOf('@', hostEnd);
    if (at !== -1) {
      this.auth = decodeURIComponent(rest.slice(0, at));
      rest = rest.slice(at + 1);
      hostEnd -= at + 1;
    }
    let host = rest.slice(0, hostEnd);
    rest = rest.slice(hostEnd);
    const port = /:[0-9]*$/.exec(host);
    if (port) {
      if (port[0] !== ':') this.port = port[0].slice(1);
      host = host.slice(0, host.length - port[0].length);
    }
    const ipv6 = host.startsWith('[') && host.endsWith(']');
    let hostname = ipv6 ? host.slice(1, -1) : host;
    hostname = hostname.toLowerCase();
    this.hostname = hostname;
    this.host = (ipv6 ? '[' + hostname + ']' : hostname) + (this.port ? ':' + this.port : '');
  }
  rest = escapeRest(rest);
  const hash = rest.indexOf('#');
  if (hash !== -1) {
    this.hash = rest.slice(hash);
    rest = rest.slice(0, hash);
  }
  const q = rest.indexOf('?');
  if (q !== -1) {
    this.search = rest.slice(q);
    this.query = rest.slice(q + 1);
    if (parseQueryString) this.query = querystring.parse(this.query);
    rest = rest.slice(0, q);
  } else if (parseQueryString) {
    this.search = null;
    this.query = Object.create(null);
  }
  if (rest) this.pathname = rest;
  if (SLASHED.has(lowerProto) && this.hostname && !this.pathname) this.pathname = '/';
  if (this.pathname !== null || this.search !== null) this.path = (this.pathname || '') + (this.search || '');
  this.href = this.format();
  return this;
};

Url.prototype.format = function format() {
  let auth = this.auth || '';
  if (auth) auth = encodeURIComponent(auth).replace(/%3A/i, ':') + '@';
  let protocol = this.protocol || '';
  let pathname = this.pathname || '';
  let hash = this.hash || '';
  let host = '';
  let query = '';
  if (this.host) {
    host = auth + this.host;
  } else if (this.hostname) {
    host = auth + (this.hostname.includes(':') && !this.hostname.startsWith('[') ? '[' + this.hostname + ']' : this.hostname);
    if (this.port) host += ':' + this.port;
  }
  if (this.query !== null && typeof this.query === 'object') query = querystring.stringify(this.query);
  let search = this.search || (query && '?' + query) || '';
  if (protocol && !protocol.endsWith(':')) protocol += ':';
  pathname = pathname.replace(/[?#]/g, (c) => encodeURIComponent(c));
  search = search.replace('#', '%23');
  if (this.slashes || SLASHED.has(protocol)) {
    if (this.slashes || host) {
      if (pathname && pathname[0] !== '/') pathname = '/' + pathname;
      host = '//' + host;
    } else if (protocol === 'file:') {
      host = '//';
    }
  }
  if (hash && hash[0] !== '#') hash = '#' + hash;
  if (search && search[0] !== '?') search = '?' + search;
  return protocol + host + pathname + search + hash;
};

function parse(url, parseQueryString, slashesDenoteHost) {
  if (url instanceof Url) return url;
  const u = new Url();
  u.parse(url, parseQueryString, slashesDenoteHost);
  return u;
}

function format(obj, options) {
  if (typeof obj === 'string') obj = parse(obj);
  else if (obj === null || typeof obj !== 'object') throw invalidArg('urlObject', 'object', obj);
  if (typeof URL === 'function' && obj instanceof URL) {
    const o = options || {};
    const u = new URL(obj.href);
    if (o.auth === false) { u.username = ''; u.password = ''; }
    if (o.search === false) u.search = '';
    if (o.fragment === false) u.hash = '';
    return u.href;
  }
  return Url.prototype.format.call(obj);
}

// Relative resolution: the WHATWG algorithm when `from` is absolute, else the path rules.
function resolve(from, to) {
  const base = parse(from, false, true);
  if (base.protocol) return new URL(to, from).href;
  const target = parse(to, false, true);
  if (target.protocol || target.slashes) return target.format();
  const path = require('path');
  const dir = (base.pathname || '').endsWith('/') ? base.pathname || '' : path.dirname(base.pathname || '.') + '/';
  const joined = target.pathname ? (target.pathname.startsWith('/') ? target.pathname : path.normalize(dir + target.pathname)) : base.pathname || '';
  return joined + (target.search || (target.pathname ? '' : base.search || '')) + (target.hash || '');
}

function fileURLToPath(u) {
  const url = typeof u === 'string' ? new URL(u) : u;
  if (url.protocol !== 'file:') {
    const e = new TypeError('The URL must be of scheme file');
    e.code = 'ERR_INVALID_URL_SCHEME';
    throw e;
  }
  return decodeURIComponent(url.pathname);
}

function pathToFileURL(p) {
  return new URL('file://' + require('path').resolve(p).split('/').map(encodeURIComponent).join('/'));
}

module.exports = {
  URL: globalThis.URL,
  URLSearchParams: globalThis.URLSearchParams,
  Url,
  parse,
  format,
  resolve,
  resolveObject: (from, to) => parse(resolve(from, to)),
  domainToASCII: (d) => { try { return new URL('http://' + d).hostname; } catch (e) { return ''; } },
  domainToUnicode: (d) => d,
  fileURLToPath,
  pathToFileURL,
};
