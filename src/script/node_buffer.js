  // claimsmith's Node globals, part 2 of 4 (appended to node_globals.js, inside its factory):
  // `Buffer`, Node's Uint8Array subclass, over the UTF-8 and base64 helpers of part 1.
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
    const typeName = (v) => (v === null ? 'null' : typeof v === 'object' ? 'an instance of ' + ((v.constructor && v.constructor.name) || 'Object')
      : 'type ' + typeof v + ' (' + (typeof v === 'string' ? "'" + v + "'" : Str(v)) + ')');
    const outOfRange = (what, range, v) => named('RangeError', 'The value of "' + what + '" is out of range. It must be ' + range + '. Received ' + Str(v), RE, 'ERR_OUT_OF_RANGE');
    const badArg = (name, want, v) => named('TypeError', 'The "' + name + '" argument must be ' + want + '. Received ' + typeName(v), TE, 'ERR_INVALID_ARG_TYPE');
    const checkSize = (n) => {
      if (typeof n !== 'number') throw badArg('size', 'of type number', n);
      if (!(n >= 0 && n <= 0x100000000)) throw outOfRange('size', '>= 0 && <= 4294967296', n);
      return Math.floor(n);
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
      const n = a.length > 0 ? checkSize(Math.floor(a.length)) : 0;
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
    function offsetOf(b, offset, size) {
      if (offset === undefined) offset = 0;
      if (typeof offset !== 'number') throw badArg('offset', 'of type number', offset);
      if (b.length - size < 0) throw named('RangeError', 'Attempt to access memory outside buffer bounds', RE, 'ERR_BUFFER_OUT_OF_BOUNDS');
      if (!Number.isInteger(offset)) throw outOfRange('offset', 'an integer', offset);
      if (offset < 0 || offset > b.length - size) throw outOfRange('offset', '>= 0 and <= ' + (b.length - size), offset);
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
          if (!(v >= min && v <= max)) throw outOfRange('value', '>= ' + min + ' and <= ' + max, value);
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
