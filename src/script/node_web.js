  // claimsmith's Node globals, part 3 of 4 (appended to node_globals.js, inside its factory):
  // `URL`, `URLSearchParams`, `Event`, `EventTarget`, `AbortController`, `AbortSignal`, `crypto`
  // (Web Crypto: randomUUID, getRandomValues, subtle digest and HMAC) and `process`.
  function makeWeb(host, lib) {
    const { named, utf8Encode, utf8Decode, latin1, isArrayBuffer, isShared, bytesOfView, setTimeout } = lib;
    const { defineProperty, freeze, keys } = O;
    const P = Promise;
    const enqueue = queueMicrotask;
    const { urlParse, urlSet, digest, hmac, hmacVerify, random } = host;
    const usv = (v) => Str(v).toWellFormed(); // WebIDL USVString: lone surrogates become U+FFFD
    const missing = (what) => named('TypeError', 'The "' + what + '" argument must be specified', TE, 'ERR_MISSING_ARGS');
    const INSPECT = Symbol.for('nodejs.util.inspect.custom'); // console.js prints URLs with it
    const parse = (url, base) => (base === undefined ? urlParse(usv(url)) : urlParse(usv(url), usv(base)));

    // ---- application/x-www-form-urlencoded (WHATWG URL §5) ----------------------------------------
    function formDecode(s) {
      if (!/[%+]/.test(s)) return s;
      const bytes = [];
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c === 43) bytes.push(32);
        else if (c === 37 && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) { bytes.push(parseInt(s.slice(i + 1, i + 3), 16)); i += 2; }
        else if (c < 128) bytes.push(c);
        else { const e = utf8Encode(s[i] + (c >= 0xd800 && c <= 0xdbff ? s[i + 1] || '' : '')); if (e.length === 4) i++; for (const x of e) bytes.push(x); }
      }
      const b = U8.from(bytes);
      return utf8Decode(b, 0, b.length, false, false)[0];
    }
    const hex2 = (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase();
    const formEncode = (s) => encodeURIComponent(s).replace(/[!'()~]/g, hex2).replace(/%20/g, '+');
    function parseQuery(s) {
      const list = [];
      for (const seq of s.split('&')) {
        if (seq === '') continue;
        const i = seq.indexOf('=');
        list.push(i < 0 ? [formDecode(seq), ''] : [formDecode(seq.slice(0, i)), formDecode(seq.slice(i + 1))]);
      }
      return list;
    }

    let setList, setOwner, ownerChanged;
    class URLSearchParams {
      #list = []; #owner = null;
      static {
        setList = (p, list) => { p.#list = list; };
        setOwner = (p, u) => { p.#owner = u; };
      }
      constructor(init) {
        if (init === undefined) return;
        if (init !== null && (typeof init === 'object' || typeof init === 'function')) {
          if (typeof init[Symbol.iterator] === 'function') {
            for (const pair of init) {
              const p = typeof pair === 'string' || pair === null || typeof pair !== 'object' ? null : [...pair];
              if (p === null || p.length !== 2) throw named('TypeError', 'Each query pair must be an iterable [name, value] tuple', TE, 'ERR_INVALID_TUPLE');
              this.#list.push([usv(p[0]), usv(p[1])]);
            }
          } else {
            for (const k of keys(init)) this.#list.push([usv(k), usv(init[k])]);
          }
          return;
        }
        const s = usv(init);
        this.#list = parseQuery(s[0] === '?' ? s.slice(1) : s);
      }
      #update() { if (this.#owner !== null) ownerChanged(this.#owner, this.toString()); }
      get size() { return this.#list.length; }
      append(name, value) {
        if (arguments.length < 2) throw missing(arguments.length ? 'value' : 'name');
        this.#list.push([usv(name), usv(value)]); this.#update();
      }
      delete(name, value) {
        const n = usv(name), v = value === undefined ? undefined : usv(value);
        this.#list = this.#list.filter(([k, x]) => !(k === n && (v === undefined || x === v))); this.#update();
      }
      get(name) { const n = usv(name); for (const [k, v] of this.#list) if (k === n) return v; return null; }
      getAll(name) { const n = usv(name); return this.#list.filter(([k]) => k === n).map(([, v]) => v); }
      has(name, value) {
        const n = usv(name), v = value === undefined ? undefined : usv(value);
        return this.#list.some(([k, x]) => k === n && (v === undefined || x === v));
      }
      set(name, value) {
        if (arguments.length < 2) throw missing(arguments.length ? 'value' : 'name');
        const n = usv(name), v = usv(value);
        const i = this.#list.findIndex(([k]) => k === n);
        if (i < 0) this.#list.push([n, v]);
        else { this.#list[i][1] = v; this.#list = this.#list.filter(([k], j) => j <= i || k !== n); }
        this.#update();
      }
      sort() {
        // Stable, by UTF-16 code units of the names (WHATWG URL §6.2).
        this.#list = this.#list.map((e, i) => [e, i]).sort((a, b) => (a[0][0] < b[0][0] ? -1 : a[0][0] > b[0][0] ? 1 : a[1] - b[1])).map(([e]) => e);
        this.#update();
      }
      forEach(callback, thisArg) {
        if (typeof callback !== 'function') throw named('TypeError', 'The "callback" argument must be of type function', TE, 'ERR_INVALID_ARG_TYPE');
        for (let i = 0; i < this.#list.length; i++) { const [k, v] = this.#list[i]; callback.call(thisArg, v, k, this); }
      }
      *entries() { for (let i = 0; i < this.#list.length; i++) yield [this.#list[i][0], this.#list[i][1]]; }
      *keys() { for (let i = 0; i < this.#list.length; i++) yield this.#list[i][0]; }
      *values() { for (let i = 0; i < this.#list.length; i++) yield this.#list[i][1]; }
      [Symbol.iterator]() { return this.entries(); }
      toString() { return this.#list.map(([k, v]) => formEncode(k) + '=' + formEncode(v)).join('&'); }
      get [Symbol.toStringTag]() { return 'URLSearchParams'; }
      [INSPECT](depth, options, inspect) {
        if (typeof inspect !== 'function') return this;
        if (this.#list.length === 0) return 'URLSearchParams {}';
        return 'URLSearchParams { ' + this.#list.map(([k, v]) => inspect(k) + ' => ' + inspect(v)).join(', ') + ' }';
      }
    }

    // ---- URL (WHATWG, parsed by the `url` crate on the host) ---------------------------------------
    // Parts, as node_host.rs returns them: href protocol username password host hostname port
    // pathname search hash origin.
    const invalidUrl = (input) => {
      const e = named('TypeError', 'Invalid URL', TE, 'ERR_INVALID_URL');
      defineProperty(e, 'input', { value: Str(input), writable: true, configurable: true });
      return e;
    };
    class URL {
      #p; #params = null;
      static { ownerChanged = (u, query) => { u.#apply(urlSet(u.#p[0], 'search', query)); }; }
      constructor(url, base) {
        if (arguments.length === 0) throw missing('url');
        const p = parse(url, base);
        if (p === undefined || p === null) throw invalidUrl(url);
        this.#p = p;
      }
      static canParse(url, base) {
        if (arguments.length === 0) throw missing('url');
        const p = parse(url, base);
        return p !== undefined && p !== null;
      }
      #apply(p) { if (p !== undefined && p !== null) this.#p = p; }
      #set(prop, value) {
        this.#apply(urlSet(this.#p[0], prop, usv(value)));
        if (this.#params !== null) setList(this.#params, parseQuery(this.#p[8].slice(1)));
      }
      get href() { return this.#p[0]; }
      set href(v) {
        const p = urlParse(usv(v));
        if (p === undefined || p === null) throw invalidUrl(v);
        this.#p = p;
        if (this.#params !== null) setList(this.#params, parseQuery(this.#p[8].slice(1)));
      }
      get origin() { return this.#p[10]; }
      get protocol() { return this.#p[1]; }
      set protocol(v) { this.#set('protocol', v); }
      get username() { return this.#p[2]; }
      set username(v) { this.#set('username', v); }
      get password() { return this.#p[3]; }
      set password(v) { this.#set('password', v); }
      get host() { return this.#p[4]; }
      set host(v) { this.#set('host', v); }
      get hostname() { return this.#p[5]; }
      set hostname(v) { this.#set('hostname', v); }
      get port() { return this.#p[6]; }
      set port(v) { this.#set('port', v); }
      get pathname() { return this.#p[7]; }
      set pathname(v) { this.#set('pathname', v); }
      get search() { return this.#p[8]; }
      set search(v) { this.#set('search', v); }
      get hash() { return this.#p[9]; }
      set hash(v) { this.#set('hash', v); }
      get searchParams() {
        if (this.#params === null) {
          this.#params = new URLSearchParams(this.#p[8]);
          setOwner(this.#params, this);
        }
        return this.#params;
      }
      toString() { return this.#p[0]; }
      toJSON() { return this.#p[0]; }
      get [Symbol.toStringTag]() { return 'URL'; }
      [INSPECT](depth, options, inspect) {
        if (typeof inspect !== 'function') return this;
        const p = this.#p;
        return 'URL ' + inspect({ href: p[0], origin: p[10], protocol: p[1], username: p[2], password: p[3], host: p[4],
          hostname: p[5], port: p[6], pathname: p[7], search: p[8], searchParams: this.searchParams, hash: p[9] }, options);
      }
    }

    // ---- Event, EventTarget, AbortController, AbortSignal (DOM §2, §3.1) -----------------------------
    let targetOf;
    class Event {
      #type; #cancelable; #prevented = false; #target = null; #time = Date.now();
      static { targetOf = (e, t) => { e.#target = t; }; }
      constructor(type, init) {
        if (arguments.length === 0) throw missing('type');
        this.#type = Str(type);
        this.#cancelable = !!(init && init.cancelable);
      }
      get type() { return this.#type; }
      get target() { return this.#target; }
      get currentTarget() { return this.#target; }
      get cancelable() { return this.#cancelable; }
      get defaultPrevented() { return this.#prevented; }
      get bubbles() { return false; }
      get isTrusted() { return false; }
      get timeStamp() { return this.#time; }
      preventDefault() { if (this.#cancelable) this.#prevented = true; }
      stopPropagation() {}
      stopImmediatePropagation() {}
    }
    class EventTarget {
      #listeners = new Map();
      addEventListener(type, listener, options) {
        if (listener === null || listener === undefined) return;
        const t = Str(type), once = !!(options && typeof options === 'object' && options.once);
        const list = this.#listeners.get(t) || [];
        if (list.some((l) => l.f === listener)) return;
        list.push({ f: listener, once });
        this.#listeners.set(t, list);
      }
      removeEventListener(type, listener) {
        const t = Str(type), list = this.#listeners.get(t);
        if (list) this.#listeners.set(t, list.filter((l) => l.f !== listener));
      }
      dispatchEvent(event) {
        if (!(event instanceof Event)) throw named('TypeError', 'The "event" argument must be an instance of Event', TE, 'ERR_INVALID_ARG_TYPE');
        targetOf(event, this);
        for (const l of (this.#listeners.get(event.type) || []).slice()) {
          if (l.once) this.removeEventListener(event.type, l.f);
          // A listener that throws does not stop the others (DOM "report the exception");
          // claimsmith has no uncaught-exception channel, so the error is dropped.
          try { if (typeof l.f === 'function') l.f.call(this, event); else l.f.handleEvent(event); } catch (e) { /* reported nowhere */ }
        }
        return !event.defaultPrevented;
      }
    }
    const TOKEN = freeze({}); // only this code may construct an AbortSignal
    let abort;
    class AbortSignal extends EventTarget {
      #aborted = false; #reason = undefined; #onabort = null;
      static {
        abort = (s, reason) => {
          if (s.#aborted) return;
          s.#aborted = true;
          s.#reason = reason === undefined ? named('AbortError', 'This operation was aborted', Err, 20) : reason;
          const ev = new Event('abort');
          if (typeof s.#onabort === 'function') { targetOf(ev, s); try { s.#onabort.call(s, ev); } catch (e) { /* as above */ } }
          s.dispatchEvent(ev);
        };
      }
      constructor(token) {
        if (token !== TOKEN) throw named('TypeError', 'Illegal constructor', TE, 'ERR_ILLEGAL_CONSTRUCTOR');
        super();
      }
      get aborted() { return this.#aborted; }
      get reason() { return this.#reason; }
      get onabort() { return this.#onabort; }
      set onabort(f) { this.#onabort = typeof f === 'function' ? f : null; }
      throwIfAborted() { if (this.#aborted) throw this.#reason; }
      static abort(reason) { const s = new AbortSignal(TOKEN); abort(s, reason); return s; }
      static timeout(ms) {
        const s = new AbortSignal(TOKEN);
        setTimeout(() => abort(s, named('TimeoutError', 'The operation was aborted due to timeout', Err, 23)), ms);
        return s;
      }
      static any(signals) {
        const s = new AbortSignal(TOKEN);
        for (const x of signals) {
          if (!(x instanceof AbortSignal)) throw named('TypeError', 'The "signals" argument must be an array of AbortSignal', TE, 'ERR_INVALID_ARG_TYPE');
          if (x.aborted) { abort(s, x.reason); return s; }
        }
        for (const x of signals) x.addEventListener('abort', () => abort(s, x.reason), { once: true });
        return s;
      }
    }
    class AbortController {
      #signal = new AbortSignal(TOKEN);
      get signal() { return this.#signal; }
      abort(reason) { abort(this.#signal, reason); }
    }

    // ---- crypto (Web Crypto: the parts Auth0 scripts use) ----------------------------------------------
    const HASHES = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'];
    const notSupported = () => named('NotSupportedError', 'Unrecognized algorithm name', Err, 9);
    const hashName = (alg) => {
      const n = Str(alg !== null && typeof alg === 'object' ? alg.name : alg).toUpperCase();
      if (HASHES.indexOf(n) < 0) throw notSupported();
      return n;
    };
    const bytesArg = (v) => {
      if (isArrayBuffer(v) || isShared(v)) return new U8(v);
      if (ArrayBuffer.isView(v)) return bytesOfView(v);
      throw named('TypeError', 'The data must be an ArrayBuffer or an ArrayBufferView', TE, 'ERR_INVALID_ARG_TYPE');
    };
    const bin = (v) => { const b = bytesArg(v); return latin1(b, 0, b.length); };
    const later = (f) => new P((resolve) => resolve(f())); // a throw becomes the rejection
    let keyOf;
    class CryptoKey {
      #hash; #key; #extractable; #usages;
      static { keyOf = (k) => (k instanceof CryptoKey ? [k.#hash, k.#key, k.#usages] : null); }
      constructor(token, hash, key, extractable, usages) {
        if (token !== TOKEN) throw named('TypeError', 'Illegal constructor', TE, 'ERR_ILLEGAL_CONSTRUCTOR');
        this.#hash = hash; this.#key = key; this.#extractable = extractable; this.#usages = usages;
      }
      get type() { return 'secret'; }
      get extractable() { return this.#extractable; }
      get algorithm() { return { name: 'HMAC', length: this.#key.length * 8, hash: { name: this.#hash } }; }
      get usages() { return this.#usages.slice(); }
    }
    const hmacKey = (alg, key, usage) => {
      const n = Str(alg !== null && typeof alg === 'object' ? alg.name : alg).toUpperCase();
      if (n !== 'HMAC') throw notSupported();
      const k = keyOf(key);
      if (k === null) throw named('TypeError', 'The "key" argument must be an instance of CryptoKey', TE, 'ERR_INVALID_ARG_TYPE');
      if (k[2].indexOf(usage) < 0) throw named('InvalidAccessError', 'The requested operation is not valid for the provided key', Err, 15);
      return k;
    };
    const subtle = {
      digest: (alg, data) => later(() => digest(hashName(alg), bin(data)).buffer),
      importKey: (format, keyData, alg, extractable, usages) => later(() => {
        if (format !== 'raw') throw named('NotSupportedError', 'Only the "raw" key format is supported in claimsmith', Err, 9);
        if (alg === null || typeof alg !== 'object' || Str(alg.name).toUpperCase() !== 'HMAC') throw notSupported();
        const use = [...usages].map(Str);
        for (const u of use) if (u !== 'sign' && u !== 'verify') throw named('SyntaxError', 'Unsupported key usage for an HMAC key', Err, 12);
        return new CryptoKey(TOKEN, hashName(alg.hash), bin(keyData), !!extractable, use);
      }),
      exportKey: (format, key) => later(() => {
        const k = keyOf(key);
        if (format !== 'raw' || k === null) throw named('NotSupportedError', 'Only the "raw" export of an HMAC key is supported', Err, 9);
        if (!key.extractable) throw named('InvalidAccessError', 'key is not extractable', Err, 15);
        const b = new U8(k[1].length);
        for (let i = 0; i < b.length; i++) b[i] = k[1].charCodeAt(i);
        return b.buffer;
      }),
      sign: (alg, key, data) => later(() => { const k = hmacKey(alg, key, 'sign'); return hmac(k[0], k[1], bin(data)).buffer; }),
      verify: (alg, key, signature, data) => later(() => { const k = hmacKey(alg, key, 'verify'); return hmacVerify(k[0], k[1], bin(data), bin(signature)); }),
    };
    const INTEGER_ARRAYS = ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array'];
    const typedTagOf = O.getOwnPropertyDescriptor(getPrototypeOf(U8).prototype, Symbol.toStringTag).get;
    const crypto = {
      subtle,
      getRandomValues(array) {
        const tag = ArrayBuffer.isView(array) ? typedTagOf.call(array) : undefined;
        if (INTEGER_ARRAYS.indexOf(tag) < 0) throw named('TypeMismatchError', 'The data argument must be an integer-type TypedArray', Err, 17);
        if (array.byteLength > 65536) throw named('QuotaExceededError', 'The requested length exceeds 65,536 bytes', Err, 22);
        bytesOfView(array).set(random(array.byteLength));
        return array;
      },
      randomUUID() {
        const b = random(16);
        b[6] = (b[6] & 0x0f) | 0x40; // version 4
        b[8] = (b[8] & 0x3f) | 0x80; // variant 10
        const h = b.toHex();
        return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
      },
    };

    // ---- process (what a sandbox can honestly say) ----------------------------------------------------
    const process = {
      env: freeze({}),
      version: 'v20.0.0',
      versions: freeze({ node: '20.0.0' }),
      platform: 'linux',
      argv: freeze([]),
      nextTick(callback, ...args) {
        if (typeof callback !== 'function') throw named('TypeError', 'The "callback" argument must be of type function. Received ' + typeof callback, TE, 'ERR_INVALID_ARG_TYPE');
        enqueue(() => callback(...args));
      },
    };
    return { URL, URLSearchParams, Event, EventTarget, AbortController, AbortSignal, CryptoKey, crypto, process };
  }
