// claimsmith's Node globals, part 1 of 4 (this file, node_buffer.js, node_web.js and node_timers.js,
// compiled together):
// text and bytes (`TextEncoder`, `TextDecoder`, `atob`, `btoa`, `Buffer`) and `structuredClone`.
//
// Compiled once to bytecode as global code whose value is the factory below, and run only when a
// script first reads one of these globals in a context (node_host.rs, the shim's "Node globals"
// block): a login that touches none of them never reads this code. The factory receives the host
// functions (URL parser, digests, HMAC, random bytes) and keeps them in its closure; it returns
// the globals, which the shim freezes in warm isolation before any script sees them.
// Behaviour follows Node 20; the differences are listed in the README ("Globals").
(function (host) {
  'use strict';
  const O = Object;
  const { defineProperty, freeze, getPrototypeOf, setPrototypeOf, keys } = O;
  const U8 = Uint8Array, AB = ArrayBuffer, TE = TypeError, RE = RangeError, Err = Error, Str = String;
  const fromCharCode = Str.fromCharCode;
  const isArray = Array.isArray;
  const isView = AB.isView;
  const TypedArray = getPrototypeOf(U8);
  const typedTag = O.getOwnPropertyDescriptor(TypedArray.prototype, Symbol.toStringTag).get;
  const abLength = O.getOwnPropertyDescriptor(AB.prototype, 'byteLength').get;
  const SAB = typeof SharedArrayBuffer === 'function' ? SharedArrayBuffer : null;
  const sabLength = SAB && O.getOwnPropertyDescriptor(SAB.prototype, 'byteLength').get;
  const named = (name, message, Base = Err, code) => {
    const e = new Base(message);
    defineProperty(e, 'name', { value: name, writable: true, configurable: true });
    if (code !== undefined) defineProperty(e, 'code', { value: code, writable: true, configurable: true });
    return e;
  };
  const isArrayBuffer = (v) => { try { abLength.call(v); return true; } catch (e) { return false; } };
  const isShared = (v) => { if (!SAB) return false; try { sabLength.call(v); return true; } catch (e) { return false; } };
  const isTyped = (v) => typedTag.call(v) !== undefined;
  // Any ArrayBufferView as its bytes (a view on the same memory).
  const bytesOfView = (v) => new U8(v.buffer, v.byteOffset, v.byteLength);

  // ---- UTF-8 (WHATWG Encoding: lone surrogates become U+FFFD; invalid bytes decode to U+FFFD,
  // one per maximal subpart, as V8 and Node do) ---------------------------------------------------
  // Encodes `s` into `out` from `at`, at most `room` bytes, whole characters only: [read, written].
  function utf8Into(s, out, at, room) {
    const n = s.length;
    let i = 0, j = at;
    const end = at + room;
    for (; i < n; i++) {
      let c = s.charCodeAt(i), w = 1;
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) { c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00); w = 2; } else c = 0xfffd;
      }
      const len = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      if (j + len > end) break;
      if (len === 1) out[j++] = c;
      else if (len === 2) { out[j++] = 0xc0 | (c >> 6); out[j++] = 0x80 | (c & 63); }
      else if (len === 3) { out[j++] = 0xe0 | (c >> 12); out[j++] = 0x80 | ((c >> 6) & 63); out[j++] = 0x80 | (c & 63); }
      else {
        out[j++] = 0xf0 | (c >> 18); out[j++] = 0x80 | ((c >> 12) & 63);
        out[j++] = 0x80 | ((c >> 6) & 63); out[j++] = 0x80 | (c & 63);
      }
      i += w - 1;
    }
    return [i, j - at];
  }
  function utf8Encode(s) {
    const out = new U8(s.length * 3);
    const [, written] = utf8Into(s, out, 0, out.length);
    return out.slice(0, written);
  }
  // Code units to a string, in chunks (fromCharCode.apply has an argument limit).
  function unitsToString(units) {
    let s = '';
    for (let k = 0; k < units.length; k += 8192) s += fromCharCode.apply(null, units.slice(k, k + 8192));
    return s;
  }
  // Decodes b[start, end). `fatal`: throw on invalid bytes. Returns [text, bytes consumed];
  // with `stream`, an incomplete sequence at the end is left unconsumed.
  function utf8Decode(b, start, end, fatal, stream) {
    const units = [];
    let i = start;
    const bad = () => {
      if (fatal) throw named('TypeError', 'The encoded data was not valid for encoding utf-8', TE, 'ERR_ENCODING_INVALID_ENCODED_DATA');
      units.push(0xfffd);
    };
    while (i < end) {
      const c = b[i];
      if (c < 0x80) { units.push(c); i++; continue; }
      let need, cp;
      if (c >= 0xc2 && c <= 0xdf) { need = 1; cp = c & 0x1f; }
      else if (c >= 0xe0 && c <= 0xef) { need = 2; cp = c & 0xf; }
      else if (c >= 0xf0 && c <= 0xf4) { need = 3; cp = c & 7; }
      else { bad(); i++; continue; }
      let lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
      let hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
      let k = 1;
      for (; k <= need && i + k < end; k++) {
        const d = b[i + k];
        if (d < lo || d > hi) break;
        lo = 0x80; hi = 0xbf;
        cp = (cp << 6) | (d & 63);
      }
      if (k <= need) {
        if (stream && i + k === end) break; // incomplete at the end: wait for more
        bad(); i += k; continue;
      }
      i += need + 1;
      if (cp >= 0x10000) { cp -= 0x10000; units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff)); } else units.push(cp);
    }
    return [unitsToString(units), i - start];
  }
  const latin1 = (b, start, end) => {
    let s = '';
    for (let k = start; k < end; k += 8192) s += fromCharCode.apply(null, b.subarray(k, Math.min(end, k + 8192)));
    return s;
  };

  // ---- TextEncoder / TextDecoder (utf-8 only) ----------------------------------------------------
  class TextEncoder {
    get encoding() { return 'utf-8'; }
    encode(input = '') { return utf8Encode(Str(input)); }
    encodeInto(src, dest) {
      if (!(dest instanceof U8)) throw new TE('The "dest" argument must be an instance of Uint8Array');
      const [read, written] = utf8Into(Str(src), dest, 0, dest.length);
      return { read, written };
    }
  }
  const UTF8_LABELS = ['utf-8', 'utf8', 'unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'x-unicode20utf8'];
  class TextDecoder {
    #fatal; #ignoreBOM; #pending = null; #started = false;
    constructor(label = 'utf-8', options = {}) {
      const l = Str(label).trim().toLowerCase();
      if (UTF8_LABELS.indexOf(l) < 0) throw named('RangeError', 'The "' + Str(label) + '" encoding is not supported', RE, 'ERR_ENCODING_NOT_SUPPORTED');
      const o = options === null || options === undefined ? {} : options;
      this.#fatal = !!o.fatal;
      this.#ignoreBOM = !!o.ignoreBOM;
    }
    get encoding() { return 'utf-8'; }
    get fatal() { return this.#fatal; }
    get ignoreBOM() { return this.#ignoreBOM; }
    decode(input, options) {
      let b;
      if (input === undefined) b = new U8(0);
      else if (isArrayBuffer(input) || isShared(input)) b = new U8(input);
      else if (isView(input)) b = bytesOfView(input);
      else throw new TE('The "input" argument must be an instance of ArrayBuffer or ArrayBufferView');
      const stream = !!(options && options.stream);
      if (this.#pending !== null) {
        const joined = new U8(this.#pending.length + b.length);
        joined.set(this.#pending);
        joined.set(b, this.#pending.length);
        b = joined;
        this.#pending = null;
      }
      const [text, used] = utf8Decode(b, 0, b.length, this.#fatal, stream);
      if (stream && used < b.length) this.#pending = b.slice(used);
      let out = text;
      if (!this.#started && !this.#ignoreBOM && out.charCodeAt(0) === 0xfeff) out = out.slice(1);
      this.#started = stream && (this.#started || out.length > 0 || text.length > 0);
      return out;
    }
  }

  // ---- atob / btoa (HTML "forgiving-base64") -----------------------------------------------------
  const invalidChar = (m = 'Invalid character') => named('InvalidCharacterError', m, Err, 5);
  function btoa(data) {
    if (arguments.length === 0) throw named('TypeError', 'The "data" argument must be specified', TE, 'ERR_MISSING_ARGS');
    const s = Str(data), b = new U8(s.length);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 255) throw invalidChar();
      b[i] = c;
    }
    return b.toBase64();
  }
  function atob(data) {
    if (arguments.length === 0) throw named('TypeError', 'The "data" argument must be specified', TE, 'ERR_MISSING_ARGS');
    let s = Str(data).replace(/[\t\n\f\r ]/g, '');
    if (s.length % 4 === 0) s = s.replace(/==?$/, '');
    if (s.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(s)) throw invalidChar('The string to be decoded is not correctly encoded.');
    const b = U8.fromBase64(s, { lastChunkHandling: 'loose' });
    return latin1(b, 0, b.length);
  }

  // ---- structuredClone (HTML "StructuredSerialize", in-realm) ------------------------------------
  const dateTime = Date.prototype.getTime;
  const mapHas = Map.prototype.has, setHas = Set.prototype.has;
  const regexpSource = O.getOwnPropertyDescriptor(RegExp.prototype, 'source').get;
  const brand = (f, v) => { try { f.call(v); return true; } catch (e) { return false; } };
  const cloneError = (what) => named('DataCloneError', what + ' could not be cloned.', Err, 25);
  function structuredClone(value, options) {
    if (arguments.length === 0) throw named('TypeError', 'The "value" argument must be specified', TE, 'ERR_MISSING_ARGS');
    if (options !== undefined && options !== null && options.transfer !== undefined) throw named('DataCloneError', 'transfer is not supported', Err, 25);
    const memo = new Map();
    const clone = (v) => {
      if (typeof v === 'function') throw cloneError(Str(v.name ? 'function ' + v.name : 'function'));
      if (typeof v === 'symbol') throw cloneError(Str(v));
      if (v === null || typeof v !== 'object') return v;
      if (memo.has(v)) return memo.get(v);
      let out;
      const keep = (o) => { memo.set(v, o); return o; };
      if (isArray(v)) {
        out = keep(new Array(v.length));
      } else if (brand(dateTime, v)) return keep(new Date(dateTime.call(v)));
      else if (brand(regexpSource, v) && v instanceof RegExp) return keep(new RegExp(v.source, v.flags));
      else if (isArrayBuffer(v)) return keep(v.slice(0));
      else if (isView(v)) {
        const buf = clone(v.buffer);
        const C = isTyped(v) ? TYPED[typedTag.call(v)] : DataView;
        return keep(new C(buf, v.byteOffset, isTyped(v) ? v.length : v.byteLength));
      } else if (brand(mapHas, v)) {
        out = keep(new Map());
        for (const [k, x] of v) out.set(clone(k), clone(x));
        return out;
      } else if (brand(setHas, v)) {
        out = keep(new Set());
        for (const x of v) out.add(clone(x));
        return out;
      } else if (v instanceof Err) {
        const n = v.name;
        const C = { EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError }[n] || Err;
        out = keep(new C(Str(v.message)));
        if (typeof v.stack === 'string') defineProperty(out, 'stack', { value: v.stack, writable: true, configurable: true });
        return out;
      } else if (v instanceof Boolean || v instanceof Number || v instanceof Str) {
        return keep(O(v.valueOf()));
      } else if (v instanceof Promise || v instanceof WeakMap || v instanceof WeakSet || isShared(v)) {
        throw cloneError('#<' + (v.constructor && v.constructor.name || 'Object') + '>');
      } else {
        out = keep({});
      }
      for (const k of keys(v)) out[k] = clone(v[k]);
      return out;
    };
    return clone(value);
  }
  const TYPED = { Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
    Float32Array, Float64Array, BigInt64Array, BigUint64Array };
  if (typeof Float16Array === 'function') TYPED.Float16Array = Float16Array;

  const buffer = makeBuffer();
  const timers = makeTimers(named);
  const web = makeWeb(host, { named, utf8Encode, utf8Decode, latin1, isArrayBuffer, isShared, bytesOfView,
    setTimeout: timers.globals.setTimeout });
  const fetches = makeFetch(host.fetchStart, host.fetchTake, { utf8Encode, utf8Decode, URL: web.URL, URLSearchParams: web.URLSearchParams });
  // `timerQueue` and `fetchQueue` are the driver's (through the shim), never globals.
  return { TextEncoder, TextDecoder, atob, btoa, structuredClone, Buffer: buffer, ...web, ...timers.globals,
    ...fetches.globals, timerQueue: timers.runner, fetchQueue: fetches.runner };

  // makeBuffer: node_buffer.js, makeWeb: node_web.js, makeTimers: node_timers.js, makeFetch: node_fetch.js (which closes the factory); appended to this
  // file at compile time.
