// claimsmith's Node globals, part 1 of 2 (this file, then node_web.js, compiled together):
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
  const web = makeWeb(host, { named, utf8Encode, utf8Decode, latin1, isArrayBuffer, isShared, bytesOfView });
  return { TextEncoder, TextDecoder, atob, btoa, structuredClone, Buffer: buffer, ...web };

  // ---- Buffer (Node's: a Uint8Array subclass) ----------------------------------------------------
  function makeBuffer() {
    const ENC = { utf8: 'utf8', 'utf-8': 'utf8', hex: 'hex', base64: 'base64', base64url: 'base64url', latin1: 'latin1',
      binary: 'latin1', ascii: 'ascii', ucs2: 'utf16le', 'ucs-2': 'utf16le', utf16le: 'utf16le', 'utf-16le': 'utf16le' };
    const encodingOf = (e) => {
      if (e === undefined || e === null) return 'utf8';
      const n = ENC[Str(e).toLowerCase()];
      if (n === undefined) throw named('TypeError', 'Unknown encoding: ' + Str(e), TE, 'ERR_UNKNOWN_ENCODING');
      return n;
    };
    class FastBuffer extends U8 {}
    // `Buffer(…)` and `new Buffer(…)` (deprecated in Node, still common in Rules) are `from`/`alloc`.
    function Buffer(arg, encodingOrOffset, length) {
      if (typeof arg === 'number') {
        if (typeof encodingOrOffset === 'string') throw named('TypeError', 'The "string" argument must be of type string. Received type number (' + arg + ')', TE, 'ERR_INVALID_ARG_TYPE');
        return alloc(arg);
      }
      return from(arg, encodingOrOffset, length);
    }
    Buffer.prototype = FastBuffer.prototype;
    defineProperty(FastBuffer.prototype, 'constructor', { value: Buffer, writable: true, configurable: true });
    setPrototypeOf(Buffer, U8);
    const make = (n) => new FastBuffer(n);
    const view = (ab, off, len) => new FastBuffer(ab, off, len);
    const wrap = (u8) => view(u8.buffer, u8.byteOffset, u8.length);

    const HEX = /^[0-9a-fA-F]{2}/;
    const B64 = [];
    'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => { B64[c.charCodeAt(0)] = i; });
    B64[45] = 62; B64[95] = 63; // '-' and '_': Node's base64 decoder reads both alphabets
    // Node's lenient base64: both alphabets, other characters skipped, stops at '='.
    function base64Bytes(s) {
      const out = new U8((s.length * 3) >> 2);
      let acc = 0, bits = 0, j = 0;
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c === 61) break;
        const v = c < 128 ? B64[c] : undefined;
        if (v === undefined) continue;
        acc = ((acc << 6) | v) & 0xffffff; bits += 6;
        if (bits >= 8) { bits -= 8; out[j++] = (acc >> bits) & 255; }
      }
      return out.subarray(0, j);
    }
    function hexBytes(s) {
      const out = new U8(s.length >> 1);
      let j = 0;
      for (let i = 0; i + 1 < s.length; i += 2) {
        const pair = s.slice(i, i + 2);
        if (!HEX.test(pair)) break; // Node stops at the first pair that is not hex
        out[j++] = parseInt(pair, 16);
      }
      return out.subarray(0, j);
    }
    function stringBytes(s, enc) {
      switch (enc) {
        case 'utf8': return utf8Encode(s);
        case 'hex': return hexBytes(s);
        case 'base64': case 'base64url': return base64Bytes(s);
        case 'utf16le': {
          const out = new U8(s.length * 2);
          for (let i = 0; i < s.length; i++) { const c = s.charCodeAt(i); out[2 * i] = c & 255; out[2 * i + 1] = c >> 8; }
          return out;
        }
        default: { // latin1, ascii: the low byte of each code unit
          const out = new U8(s.length);
          for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 255;
          return out;
        }
      }
    }
    function bytesString(b, enc, start, end) {
      const part = b.subarray(start, end);
      switch (enc) {
        case 'utf8': return utf8Decode(part, 0, part.length, false, false)[0];
        case 'hex': return part.toHex();
        case 'base64': return part.toBase64();
        case 'base64url': return part.toBase64({ alphabet: 'base64url', omitPadding: true });
        case 'latin1': return latin1(part, 0, part.length);
        case 'ascii': return latin1(part.map((x) => x & 127), 0, part.length);
        default: {
          const units = [];
          for (let i = 0; i + 1 < part.length; i += 2) units.push(part[i] | (part[i + 1] << 8));
          return unitsToString(units);
        }
      }
    }
    const typeName = (v) => (v === null ? 'null' : typeof v === 'object' ? 'an instance of ' + ((v.constructor && v.constructor.name) || 'Object') : 'type ' + typeof v + ' (' + Str(v) + ')');
    const badArg = (name, want, v) => named('TypeError', 'The "' + name + '" argument must be ' + want + '. Received ' + typeName(v), TE, 'ERR_INVALID_ARG_TYPE');
    const checkSize = (n) => {
      if (typeof n !== 'number') throw badArg('size', 'of type number', n);
      if (!(n >= 0 && n <= 0x100000000)) throw named('RangeError', "The argument 'size' is invalid. Received " + Str(n), RE, 'ERR_INVALID_ARG_VALUE');
      return n | 0;
    };
    function from(value, encodingOrOffset, length) {
      if (typeof value === 'string') return wrap(stringBytes(value, encodingOf(encodingOrOffset)));
      if (typeof value === 'object' && value !== null) {
        if (isArrayBuffer(value) || isShared(value)) {
          const off = encodingOrOffset === undefined ? 0 : +encodingOrOffset || 0;
          const max = value.byteLength - off;
          if (max < 0) throw named('RangeError', '"offset" is outside of buffer bounds', RE, 'ERR_BUFFER_OUT_OF_BOUNDS');
          const len = length === undefined ? max : +length || 0;
          if (len > max) throw named('RangeError', '"length" is outside of buffer bounds', RE, 'ERR_BUFFER_OUT_OF_BOUNDS');
          return view(value, off, len);
        }
        if (isView(value)) { const b = make(value.byteLength); b.set(bytesOfView(value)); return b; }
        const prim = value.valueOf();
        if (prim !== value && prim !== null && prim !== undefined) return from(prim, encodingOrOffset, length);
        if (value.type === 'Buffer' && isArray(value.data)) return fromArrayLike(value.data);
        if (isArray(value) || typeof value.length === 'number') return fromArrayLike(value);
      }
      throw badArg('first', 'of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object', value);
    }
    function fromArrayLike(a) {
      const n = a.length < 0 ? 0 : a.length | 0;
      const b = make(n);
      for (let i = 0; i < n; i++) b[i] = a[i];
      return b;
    }
    function alloc(size, fill, enc) {
      const b = make(checkSize(size));
      if (fill !== undefined && fill !== 0 && b.length > 0) b.fill(fill, 0, b.length, enc);
      return b;
    }
    const isBuffer = (b) => b instanceof Buffer;
    const needBytes = (name, v) => { if (!(v instanceof U8)) throw badArg(name, 'an instance of Buffer or Uint8Array', v); };
    function compare(a, b) {
      needBytes('buf1', a); needBytes('buf2', b);
      const n = Math.min(a.length, b.length);
      for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
      return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
    }
    function concat(list, total) {
      if (!isArray(list)) throw badArg('list', 'an instance of Array', list);
      for (let i = 0; i < list.length; i++) needBytes('list[' + i + ']', list[i]);
      const n = total === undefined ? list.reduce((s, b) => s + b.length, 0) : checkSize(total);
      const out = make(n);
      let at = 0;
      for (const b of list) {
        if (at >= n) break;
        const part = b.length > n - at ? b.subarray(0, n - at) : b;
        out.set(part, at);
        at += part.length;
      }
      return out;
    }
    function byteLength(v, enc) {
      if (typeof v === 'string') return stringBytes(v, encodingOf(enc)).length;
      if (isArrayBuffer(v) || isShared(v) || isView(v)) return v.byteLength;
      throw badArg('string', 'of type string or an instance of Buffer or ArrayBuffer', v);
    }
    const isEncoding = (e) => typeof e === 'string' && ENC[e.toLowerCase()] !== undefined;
    for (const [k, v] of [['from', from], ['alloc', alloc], ['allocUnsafe', (n) => make(checkSize(n))],
      ['allocUnsafeSlow', (n) => make(checkSize(n))], ['isBuffer', isBuffer], ['isEncoding', isEncoding],
      ['compare', compare], ['concat', concat], ['byteLength', byteLength], ['poolSize', 8192]]) {
      defineProperty(Buffer, k, { value: v, writable: true, enumerable: true, configurable: true });
    }

    // Bounds as Node checks them: ERR_OUT_OF_RANGE / ERR_BUFFER_OUT_OF_BOUNDS.
    const outOfRange = (what, range, v) => named('RangeError', 'The value of "' + what + '" is out of range. It must be ' + range + '. Received ' + Str(v), RE, 'ERR_OUT_OF_RANGE');
    function offsetOf(b, offset, size) {
      if (offset === undefined) offset = 0;
      if (typeof offset !== 'number') throw badArg('offset', 'of type number', offset);
      if (b.length - size < 0) throw named('RangeError', 'Attempt to access memory outside buffer bounds', RE, 'ERR_BUFFER_OUT_OF_BOUNDS');
      if (!Number.isInteger(offset) || offset < 0 || offset > b.length - size) throw outOfRange('offset', '>= 0 and <= ' + (b.length - size), offset);
      return offset;
    }
    const readers = {};
    const writers = {};
    for (const [size, signed] of [[1, false], [1, true], [2, false], [2, true], [4, false], [4, true]]) {
      const bits = size * 8;
      const min = signed ? -(2 ** (bits - 1)) : 0, max = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
      for (const le of size === 1 ? [true] : [false, true]) {
        const suffix = (signed ? 'Int' : 'UInt') + bits + (size === 1 ? '' : le ? 'LE' : 'BE');
        readers['read' + suffix] = function (offset) {
          const at = offsetOf(this, offset, size);
          let v = 0;
          for (let k = 0; k < size; k++) v = v * 256 + this[le ? at + size - 1 - k : at + k];
          return signed && v > max ? v - 2 ** bits : v;
        };
        writers['write' + suffix] = function (value, offset) {
          const at = offsetOf(this, offset, size);
          const v = +value;
          if (!(v >= min && v <= max)) throw outOfRange('value', '>= ' + (signed && bits > 16 ? '-(2 ** ' + (bits - 1) + ')' : min) + ' and <= ' + (bits > 16 ? (signed ? '2 ** ' + (bits - 1) + ' - 1' : '2 ** ' + bits + ' - 1') : max), value);
          let u = v < 0 ? v + 2 ** bits : Math.floor(v);
          for (let k = 0; k < size; k++) { this[le ? at + k : at + size - 1 - k] = u & 255; u = Math.floor(u / 256); }
          return at + size;
        };
      }
    }
    const range = (b, start, end) => {
      const n = b.length;
      let s = start === undefined ? 0 : Math.trunc(+start) || 0, e = end === undefined ? n : Math.trunc(+end) || 0;
      if (s < 0) s = 0;
      if (e > n) e = n;
      return [s, e < s ? s : e];
    };
    const proto = {
      toString(enc, start, end) {
        if (arguments.length === 0) return utf8Decode(this, 0, this.length, false, false)[0];
        const [s, e] = range(this, start, end);
        return bytesString(this, encodingOf(enc), s, e);
      },
      toLocaleString(enc, start, end) { return this.toString(enc, start, end); },
      equals(other) { needBytes('otherBuffer', other); return compare(this, other) === 0; },
      compare(target, ts, te, ss, se) {
        needBytes('target', target);
        const [a, b] = range(target, ts, te), [c, d] = range(this, ss, se);
        return compare(this.subarray(c, d), target.subarray(a, b));
      },
      slice(start, end) { return this.subarray(start, end); },
      toJSON() { return { type: 'Buffer', data: Array.from(this) }; },
      write(string, offset, length, encoding) {
        if (typeof string !== 'string') throw badArg('argument', 'of type string', string);
        if (typeof offset === 'string') { encoding = offset; offset = 0; length = undefined; }
        else if (typeof length === 'string') { encoding = length; length = undefined; }
        const at = offset === undefined ? 0 : offset;
        if (!(at >= 0 && at <= this.length)) throw outOfRange('offset', '>= 0 && <= ' + this.length, at);
        const room = Math.min(this.length - at, length === undefined ? Infinity : length);
        const enc = encodingOf(encoding);
        if (enc === 'utf8') return utf8Into(string, this, at, room)[1];
        const b = stringBytes(string, enc);
        const n = Math.min(b.length, room);
        this.set(b.subarray(0, n), at);
        return n;
      },
      copy(target, targetStart, sourceStart, sourceEnd) {
        needBytes('target', target);
        const t = targetStart === undefined ? 0 : targetStart;
        const [s, e] = range(this, sourceStart, sourceEnd);
        const n = Math.max(0, Math.min(e - s, target.length - t));
        if (n > 0) target.set(this.subarray(s, s + n), t);
        return n;
      },
      fill(value, offset, end, encoding) {
        if (typeof offset === 'string') { encoding = offset; offset = 0; end = this.length; }
        else if (typeof end === 'string') { encoding = end; end = this.length; }
        const [s, e] = range(this, offset, end);
        if (typeof value === 'string' || isView(value)) {
          const b = typeof value === 'string' ? stringBytes(value, encodingOf(encoding)) : bytesOfView(value);
          if (b.length === 0) { U8.prototype.fill.call(this, 0, s, e); return this; }
          for (let i = s; i < e; i++) this[i] = b[(i - s) % b.length];
          return this;
        }
        U8.prototype.fill.call(this, typeof value === 'boolean' ? +value : value & 255, s, e);
        return this;
      },
      indexOf(value, byteOffset, encoding) {
        if (typeof value === 'number') return U8.prototype.indexOf.call(this, value & 255, byteOffset);
        if (typeof byteOffset === 'string') { encoding = byteOffset; byteOffset = 0; }
        const needle = typeof value === 'string' ? stringBytes(value, encodingOf(encoding)) : value;
        needBytes('value', needle);
        let from = byteOffset === undefined ? 0 : Math.trunc(+byteOffset) || 0;
        if (from < 0) from = Math.max(0, this.length + from);
        outer: for (let i = from; i + needle.length <= this.length; i++) {
          for (let k = 0; k < needle.length; k++) if (this[i + k] !== needle[k]) continue outer;
          return i;
        }
        return -1;
      },
      includes(value, byteOffset, encoding) { return this.indexOf(value, byteOffset, encoding) !== -1; },
    };
    const all = { ...proto, ...readers, ...writers };
    for (const k of keys(readers)) if (k.indexOf('UInt') > 0) all[k.replace('UInt', 'Uint')] = readers[k];
    for (const k of keys(writers)) if (k.indexOf('UInt') > 0) all[k.replace('UInt', 'Uint')] = writers[k];
    for (const k of keys(all)) defineProperty(FastBuffer.prototype, k, { value: all[k], writable: true, configurable: true });
    return Buffer;
  }
  // makeWeb: node_web.js, appended to this file at compile time.
