  // claimsmith's Node globals, part 5 of 5 (appended to node_globals.js, inside its factory, which
  // it closes): `fetch`,
  // `Headers`, `Request`, `Response` and `FormData` (urlencoded). A request goes to the host
  // (`fetchStart`, fetch.rs), which checks `[scripts] fetch_allow` and runs it as asynchronous
  // I/O; the driver loop waits for answers (bounded by the login's deadline) and hands them back
  // through `deliver`, which settles the promises. Bodies cross as binary strings.
  function makeFetch(start, take, deps) {
    const { utf8Encode, utf8Decode, URL, URLSearchParams } = deps;
    const pending = new Map(); // id -> [resolve, reject]
    const bin = (bytes) => {
      let s = '';
      for (let k = 0; k < bytes.length; k += 8192) s += String.fromCharCode.apply(null, bytes.subarray(k, k + 8192));
      return s;
    };
    const unbin = (s) => {
      const b = new Uint8Array(s.length);
      for (let k = 0; k < s.length; k++) b[k] = s.charCodeAt(k);
      return b;
    };
    const norm = (n) => {
      const s = String(n).toLowerCase();
      if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(s)) throw new TypeError('Invalid header name: ' + n);
      return s;
    };

    class Headers {
      #map = new Map(); // lower-case name -> [name, value]
      constructor(init) {
        if (init === undefined || init === null) return;
        if (init instanceof Headers) { for (const [k, v] of init) this.append(k, v); return; }
        if (typeof init[Symbol.iterator] === 'function') {
          for (const pair of init) {
            const p = Array.from(pair);
            if (p.length !== 2) throw new TypeError('Headers constructor: expected name/value pair to be length 2, found ' + p.length);
            this.append(p[0], p[1]);
          }
          return;
        }
        for (const k of Object.keys(init)) this.append(k, init[k]);
      }
      append(name, value) {
        const k = norm(name), v = String(value).trim();
        const cur = this.#map.get(k);
        this.#map.set(k, cur === undefined ? v : cur + ', ' + v);
      }
      set(name, value) { this.#map.set(norm(name), String(value).trim()); }
      get(name) { const v = this.#map.get(norm(name)); return v === undefined ? null : v; }
      has(name) { return this.#map.has(norm(name)); }
      delete(name) { this.#map.delete(norm(name)); }
      forEach(fn, self) { for (const [k, v] of this) fn.call(self, v, k, this); }
      *entries() { for (const k of [...this.#map.keys()].sort()) yield [k, this.#map.get(k)]; }
      *keys() { for (const [k] of this.entries()) yield k; }
      *values() { for (const [, v] of this.entries()) yield v; }
      [Symbol.iterator]() { return this.entries(); }
      getSetCookie() { const v = this.#map.get('set-cookie'); return v === undefined ? [] : v.split(', '); }
    }

    class FormData {
      #list = [];
      append(k, v) { this.#list.push([String(k), String(v)]); }
      set(k, v) { this.delete(k); this.append(k, v); }
      get(k) { const e = this.#list.find((p) => p[0] === String(k)); return e === undefined ? null : e[1]; }
      getAll(k) { return this.#list.filter((p) => p[0] === String(k)).map((p) => p[1]); }
      has(k) { return this.#list.some((p) => p[0] === String(k)); }
      delete(k) { this.#list = this.#list.filter((p) => p[0] !== String(k)); }
      forEach(fn, self) { for (const [k, v] of this.#list) fn.call(self, v, k, this); }
      *entries() { yield* this.#list.map((p) => [p[0], p[1]]); }
      [Symbol.iterator]() { return this.entries(); }
    }

    // A body as bytes, and the content type it implies.
    function encodeBody(body) {
      if (body === undefined || body === null) return [null, null];
      if (typeof body === 'string') return [utf8Encode(body), 'text/plain;charset=UTF-8'];
      if (body instanceof URLSearchParams) return [utf8Encode(body.toString()), 'application/x-www-form-urlencoded;charset=UTF-8'];
      if (body instanceof FormData) return [utf8Encode(new URLSearchParams([...body]).toString()), 'application/x-www-form-urlencoded;charset=UTF-8'];
      if (body instanceof ArrayBuffer) return [new Uint8Array(body.slice(0)), null];
      if (ArrayBuffer.isView(body)) return [new Uint8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength)), null];
      return [utf8Encode(String(body)), 'text/plain;charset=UTF-8'];
    }

    const METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH'];
    class Request {
      #body;
      constructor(input, init) {
        init = init || {};
        const from = input instanceof Request ? input : null;
        this.url = new URL(from ? from.url : String(input)).href;
        let method = init.method !== undefined ? String(init.method) : from ? from.method : 'GET';
        if (METHODS.includes(method.toUpperCase())) method = method.toUpperCase();
        if (!/^[!#$%&'*+\-.^_`|~0-9a-zA-Z]+$/.test(method)) throw new TypeError("'" + method + "' is not a valid HTTP method.");
        this.method = method;
        this.headers = new Headers(init.headers !== undefined ? init.headers : from ? from.headers : undefined);
        const [bytes, type] = init.body !== undefined ? encodeBody(init.body) : [from ? from.#body : null, null];
        if (bytes !== null && (method === 'GET' || method === 'HEAD')) throw new TypeError('Request with GET/HEAD method cannot have body.');
        if (type !== null && !this.headers.has('content-type')) this.headers.set('content-type', type);
        this.#body = bytes;
        this.redirect = init.redirect || 'follow';
        this.signal = init.signal || null;
      }
      static bodyOf(r) { return r.#body; }
    }

    class Response {
      #bytes; #used = false;
      constructor(body, init) {
        init = init || {};
        const [bytes] = encodeBody(body);
        this.#bytes = bytes === null ? new Uint8Array(0) : bytes;
        this.status = init.status === undefined ? 200 : init.status;
        this.statusText = init.statusText === undefined ? '' : String(init.statusText);
        this.headers = new Headers(init.headers);
        this.ok = this.status >= 200 && this.status < 300;
        this.url = init.url || '';
        this.redirected = !!init.redirected;
        this.type = 'basic';
      }
      get bodyUsed() { return this.#used; }
      #consume() {
        if (this.#used) return Promise.reject(new TypeError('Body is unusable: Body has already been read'));
        this.#used = true;
        return Promise.resolve(this.#bytes);
      }
      text() { return this.#consume().then((b) => utf8Decode(b, 0, b.length, false, false)[0]); }
      json() { return this.text().then((t) => JSON.parse(t)); }
      arrayBuffer() { return this.#consume().then((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); }
      bytes() { return this.#consume().then((b) => new Uint8Array(b)); }
      formData() { return this.text().then((t) => { const f = new FormData(); for (const [k, v] of new URLSearchParams(t)) f.append(k, v); return f; }); }
      clone() {
        if (this.#used) throw new TypeError('Response.clone: Body has already been consumed.');
        const r = new Response(null, { status: this.status, statusText: this.statusText, headers: this.headers, url: this.url, redirected: this.redirected });
        r.#bytes = this.#bytes;
        return r;
      }
      static json(data, init) {
        const r = new Response(JSON.stringify(data), init);
        r.headers.set('content-type', 'application/json');
        return r;
      }
      static error() { return new Response(null, { status: 0 }); }
    }

    function fetch(input, init) {
      return new Promise((resolve, reject) => {
        const req = new Request(input, init);
        if (req.signal && req.signal.aborted) throw req.signal.reason;
        if (req.redirect === 'error' || req.redirect === 'manual') throw new TypeError('fetch: redirect "' + req.redirect + '" is not supported in claimsmith');
        const headers = [];
        for (const [k, v] of req.headers) headers.push(k, v);
        const body = Request.bodyOf(req);
        const id = body === null ? start(req.method, req.url, headers) : start(req.method, req.url, headers, bin(body));
        pending.set(id, [resolve, reject]);
      });
    }

    // The driver's side: settles the answered fetches; false when none had arrived.
    function deliver() {
      const got = take();
      if (got === null || got === undefined) return false;
      for (const [id, ok, status, statusText, url, redirected, headers, body] of got) {
        const p = pending.get(id);
        if (p === undefined) continue;
        pending.delete(id);
        if (!ok) {
          const e = new TypeError('fetch failed');
          e.cause = new Error(body);
          p[1](e);
          continue;
        }
        const h = new Headers();
        for (let k = 0; k + 1 < headers.length; k += 2) h.append(headers[k], headers[k + 1]);
        p[0](new Response(unbin(body), { status, statusText, headers: h, url, redirected }));
      }
      return true;
    }

    return {
      globals: { fetch, Headers, Request, Response, FormData },
      runner: { deliver, clear: () => pending.clear() },
    };
  }
})
