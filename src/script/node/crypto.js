// Node's `crypto`, as far as Auth0 scripts and the token libraries they load (jsonwebtoken, jws,
// jose-style code) use it: hashes, HMAC, random values, timingSafeEqual, KeyObject and RSA/ECDSA
// signatures. The bytes work is done in Rust (node_crypto.rs, aws-lc-rs) through the host
// functions `claimsmith:crypto-host` gives this module only; they stay in this closure. Bytes go
// to the host as binary strings (one char per byte). Behaviour and messages follow Node 20; what
// is missing is listed in the README ("Modules").
'use strict';

const host = require('claimsmith:crypto-host');
const webcrypto = globalThis.crypto;
const TE = TypeError, RE = RangeError;

// Node's JS errors print as `Name [CODE]: message`; those its C++ side throws (`plain`) do not.
function nodeError(Base, code, message, plain) {
  const e = new Base(message);
  Object.defineProperty(e, 'code', { value: code, writable: true, configurable: true });
  if (!plain) Object.defineProperty(e, 'toString', {
    value() { return this.name + ' [' + code + ']: ' + this.message; }, writable: true, configurable: true,
  });
  return e;
}
const received = (v) => v === null ? ' Received null' : v === undefined ? ' Received undefined'
  : typeof v === 'object' || typeof v === 'function'
    ? (v.constructor && v.constructor.name ? ' Received an instance of ' + v.constructor.name : ' Received ' + typeof v)
    : ' Received type ' + typeof v + ' (' + (typeof v === 'string' ? "'" + v + "'" : String(v)) + ')';
const argType = (name, what, v) => nodeError(TE, 'ERR_INVALID_ARG_TYPE', 'The "' + name + '" argument must be ' + what + '.' + received(v));
const finalized = () => nodeError(Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
const unsupported = (what) => new Error(what + ' is not supported in claimsmith');

// ---- bytes ----------------------------------------------------------------------------------------
const isArrayBuffer = (v) => Object.prototype.toString.call(v) === '[object ArrayBuffer]';
const viewBytes = (v) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
// `data` (string in `enc`, Buffer, TypedArray or DataView; with `buffers`, ArrayBuffer too) as a
// Buffer viewing the same memory, or null when it is none of those.
function asBuffer(data, enc, buffers) {
  if (typeof data === 'string') return Buffer.from(data, enc === undefined || enc === 'buffer' ? 'utf8' : enc);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buffers && isArrayBuffer(data)) return Buffer.from(data);
  return null;
}
const DATA = 'of type string or an instance of Buffer, TypedArray, or DataView';
function dataArg(name, data, enc) {
  const b = asBuffer(data, enc, false);
  if (b === null) throw argType(name, DATA, data);
  return b;
}
const bin = (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
const encode = (bytes, enc) => {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return enc === undefined || enc === 'buffer' ? b : b.toString(enc);
};

// ---- hash names -----------------------------------------------------------------------------------
const HASHES = new Map(); // a Map: no 'constructor' or '__proto__' is a hash name
for (const [name, sha] of [['md5', null], ['sha1', 'sha-1'], ['sha224', 'sha-224'], ['sha256', 'sha-256'],
  ['sha384', 'sha-384'], ['sha512', 'sha-512'], ['sha512-256', 'sha-512/256']]) {
  HASHES.set(name, name);
  HASHES.set(name + 'withrsaencryption', name);
  HASHES.set('rsa-' + (name === 'sha512-256' ? 'sha512/256' : name), name);
  if (sha !== null) HASHES.set(sha, name);
}
const hashName = (alg) => (typeof alg === 'string' ? HASHES.get(alg.toLowerCase()) : undefined);
const HASH_LIST = ['RSA-MD5', 'RSA-SHA1', 'RSA-SHA224', 'RSA-SHA256', 'RSA-SHA384', 'RSA-SHA512',
  'RSA-SHA512/256', 'md5', 'md5WithRSAEncryption', 'sha1', 'sha1WithRSAEncryption', 'sha224',
  'sha224WithRSAEncryption', 'sha256', 'sha256WithRSAEncryption', 'sha384', 'sha384WithRSAEncryption',
  'sha512', 'sha512-256', 'sha512-256WithRSAEncryption', 'sha512WithRSAEncryption'];
const algArg = (alg) => { if (typeof alg !== 'string') throw argType('algorithm', 'of type string', alg); };

// ---- Hash and Hmac: the input is kept (as binary strings) and hashed in one host call ------------
class Hash {
  #alg; #chunks = []; #done = false;
  constructor(algorithm, options) {
    if (algorithm instanceof Hash) { // copy()
      this.#alg = algorithm.#alg; this.#chunks = algorithm.#chunks.slice();
      return;
    }
    algArg(algorithm);
    const alg = hashName(algorithm);
    if (alg === undefined) throw new Error('Digest method not supported');
    if (options !== undefined && options !== null && options.outputLength !== undefined) throw unsupported('outputLength');
    this.#alg = alg;
  }
  update(data, inputEncoding) {
    if (this.#done) throw finalized();
    this.#chunks.push(bin(dataArg('data', data, inputEncoding)));
    return this;
  }
  digest(outputEncoding) {
    if (this.#done) throw finalized();
    this.#done = true;
    const d = host.digest(this.#alg, this.#chunks.join(''));
    this.#chunks = [];
    return encode(d, outputEncoding);
  }
  copy(options) {
    if (this.#done) throw finalized();
    return new Hash(this);
  }
}

class Hmac {
  #alg; #key; #chunks = []; #state = 0; // 0 open, 1 digested once, 2 digested again
  constructor(hmac, key, options) {
    algArg(hmac);
    const alg = hashName(hmac);
    if (alg === undefined || alg === 'sha512-256') throw nodeError(TE, 'ERR_CRYPTO_INVALID_DIGEST', 'Invalid digest: ' + hmac, true);
    let k;
    if (key instanceof KeyObject) {
      if (key.type !== 'secret') throw nodeError(TE, 'ERR_CRYPTO_INVALID_KEY_OBJECT_TYPE', 'Invalid key object type ' + key.type + ', expected secret.');
      k = secretOf(key);
    } else {
      const b = asBuffer(key, options && options.encoding, true);
      if (b === null) throw argType('key', 'of type string or an instance of ArrayBuffer, Buffer, TypedArray, DataView, KeyObject, or CryptoKey', key);
      k = bin(b);
    }
    this.#alg = alg; this.#key = k;
  }
  update(data, inputEncoding) {
    if (this.#state !== 0) throw finalized();
    this.#chunks.push(bin(dataArg('data', data, inputEncoding)));
    return this;
  }
  digest(outputEncoding) {
    // As in Node: a second digest() answers an empty result instead of throwing.
    const d = this.#state === 0 ? host.hmac(this.#alg, this.#key, this.#chunks.join('')) : new Uint8Array(0);
    this.#state = 1; this.#chunks = [];
    return encode(d, outputEncoding);
  }
}

const createHash = (algorithm, options) => new Hash(algorithm, options);
const createHmac = (hmac, key, options) => new Hmac(hmac, key, options);
function hash(algorithm, data, outputEncoding = 'hex') {
  if (typeof data !== 'string' && !ArrayBuffer.isView(data)) throw argType('data', 'of type string or an instance of Buffer, TypedArray, or DataView', data);
  return new Hash(algorithm).update(data).digest(outputEncoding);
}

// ---- random ---------------------------------------------------------------------------------------
function fillRandom(u8) {
  for (let at = 0; at < u8.length; at += 65536) u8.set(host.random(Math.min(65536, u8.length - at)), at);
  return u8;
}
const later = (cb, ...args) => { Promise.resolve().then(() => cb(...args)); };
const cbArg = (cb) => { if (typeof cb !== 'function') throw argType('callback', 'of type function', cb); };
function sizeArg(name, n, max) {
  if (typeof n !== 'number') throw argType(name, 'of type number', n);
  if (!Number.isInteger(n) || n < 0 || n > max) throw nodeError(RE, 'ERR_OUT_OF_RANGE', 'The value of "' + name + '" is out of range. It must be >= 0 && <= ' + max + '. Received ' + n);
}
function randomBytes(size, callback) {
  sizeArg('size', size, 2147483647);
  if (callback !== undefined) cbArg(callback);
  const b = fillRandom(Buffer.alloc(size));
  if (callback === undefined) return b;
  later(callback, null, b);
}
function fillTarget(buf, offset, size) {
  if (!ArrayBuffer.isView(buf) && !isArrayBuffer(buf)) throw argType('buf', 'an instance of ArrayBuffer or ArrayBufferView', buf);
  const u8 = isArrayBuffer(buf) ? new Uint8Array(buf) : viewBytes(buf);
  const elt = ArrayBuffer.isView(buf) && buf.BYTES_PER_ELEMENT ? buf.BYTES_PER_ELEMENT : 1;
  const len = u8.length / elt;
  const off = offset === undefined ? 0 : offset;
  sizeArg('offset', off, len);
  const n = size === undefined ? len - off : size;
  sizeArg('size', n, len - off);
  return u8.subarray(off * elt, (off + n) * elt);
}
function randomFillSync(buf, offset, size) {
  fillRandom(fillTarget(buf, offset, size));
  return buf;
}
function randomFill(buf, offset, size, callback) {
  const cb = [offset, size, callback].find((f) => typeof f === 'function');
  cbArg(cb);
  randomFillSync(buf, typeof offset === 'function' ? undefined : offset, typeof size === 'function' ? undefined : size);
  later(cb, null, buf);
}
const RAND_RANGE = 2 ** 48 - 1;
// Node writes a large number in an error message with `_` between groups of three digits.
function separated(n) {
  let s = String(n);
  if (!Number.isInteger(n) || Math.abs(n) <= 2 ** 32) return s;
  let r = '';
  const neg = s[0] === '-' ? '-' : '';
  if (neg) s = s.slice(1);
  for (; s.length > 3; s = s.slice(0, -3)) r = '_' + s.slice(-3) + r;
  return neg + s + r;
}
function randomInt(min, max, callback) {
  if (max === undefined || typeof max === 'function') { callback = max; max = min; min = 0; }
  if (callback !== undefined) cbArg(callback);
  if (!Number.isSafeInteger(min)) throw argType('min', 'a safe integer', min);
  if (!Number.isSafeInteger(max)) throw argType('max', 'a safe integer', max);
  if (max <= min) throw nodeError(RE, 'ERR_OUT_OF_RANGE', 'The value of "max" is out of range. It must be greater than the value of "min" (' + min + '). Received ' + max);
  const range = max - min;
  if (range > RAND_RANGE) throw nodeError(RE, 'ERR_OUT_OF_RANGE', 'The value of "max - min" is out of range. It must be <= ' + RAND_RANGE + '. Received ' + separated(range));
  // Rejection sampling over 48 random bits, as Node does: no modulo bias.
  const limit = RAND_RANGE + 1 - ((RAND_RANGE + 1) % range);
  let x;
  do {
    const b = host.random(6);
    x = b[0] * 2 ** 40 + b[1] * 2 ** 32 + b[2] * 2 ** 24 + b[3] * 2 ** 16 + b[4] * 2 ** 8 + b[5];
  } while (x >= limit);
  const n = min + (x % range);
  if (callback === undefined) return n;
  later(callback, null, n);
}
function timingSafeEqual(a, b) {
  const A = asBuffer(a, undefined, true), B = asBuffer(b, undefined, true);
  // Node checks these in C++: its errors print without the code.
  const bad = (name) => nodeError(TE, 'ERR_INVALID_ARG_TYPE', 'The "' + name + '" argument must be an instance of ArrayBuffer, Buffer, TypedArray, or DataView.', true);
  if (A === null || typeof a === 'string') throw bad('buf1');
  if (B === null || typeof b === 'string') throw bad('buf2');
  if (A.length !== B.length) throw nodeError(RE, 'ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH', 'Input buffers must have the same byte length', true);
  let diff = 0;
  for (let i = 0; i < A.length; i++) diff |= A[i] ^ B[i];
  return diff === 0;
}

// ---- KeyObject --------------------------------------------------------------------------------------
// An asymmetric key is kept as DER (PKCS#8 when private, SPKI when public) with the details the
// host read from it: [type, asymmetricKeyType, der, modulusLength, publicExponent (hex), namedCurve].
const TOKEN = {};
let secretOf, asymOf;
class KeyObject {
  #type; #secret; #info;
  static {
    secretOf = (k) => k.#secret;
    asymOf = (k) => k.#info;
  }
  constructor(token, type, material) {
    if (token !== TOKEN) throw nodeError(TE, 'ERR_ILLEGAL_CONSTRUCTOR', 'Illegal constructor');
    this.#type = type;
    if (type === 'secret') this.#secret = material; else this.#info = material;
  }
  get type() { return this.#type; }
  get asymmetricKeyType() { return this.#info === undefined ? undefined : this.#info[1]; }
  get asymmetricKeyDetails() {
    const i = this.#info;
    if (i === undefined) return undefined;
    return i[1] === 'rsa' ? { modulusLength: i[3], publicExponent: BigInt('0x' + i[4]) } : { namedCurve: i[5] };
  }
  get symmetricKeySize() { return this.#secret === undefined ? undefined : this.#secret.length; }
  export(options) {
    if (this.#secret !== undefined) {
      const b = Buffer.from(this.#secret, 'latin1');
      return options && options.format === 'jwk' ? { kty: 'oct', k: b.toString('base64url') } : b;
    }
    if (options === null || typeof options !== 'object') throw argType('options', 'of type object', options);
    const { format, type } = options;
    if (options.cipher !== undefined || options.passphrase !== undefined) throw unsupported('Encrypting an exported key');
    const priv = this.#type === 'private';
    if (format === 'jwk') return JSON.parse(host.exportKey(priv, bin(this.#info[2]), 'jwk', ''));
    if (format !== 'pem' && format !== 'der') throw nodeError(TE, 'ERR_INVALID_ARG_VALUE', "The property 'options.format' must be one of: 'pem', 'der', 'jwk'. Received " + String(format));
    const der = Buffer.from(host.exportKey(priv, bin(this.#info[2]), format, String(type)));
    if (format === 'der') return der;
    const label = { pkcs8: 'PRIVATE KEY', spki: 'PUBLIC KEY', sec1: 'EC PRIVATE KEY' }[type] || (priv ? 'RSA PRIVATE KEY' : 'RSA PUBLIC KEY');
    const b64 = der.toString('base64');
    let body = '';
    for (let i = 0; i < b64.length; i += 64) body += b64.slice(i, i + 64) + '\n';
    return '-----BEGIN ' + label + '-----\n' + body + '-----END ' + label + '-----\n';
  }
  equals(other) {
    if (!(other instanceof KeyObject)) throw argType('otherKeyObject', 'an instance of KeyObject', other);
    if (other.type !== this.#type) return false;
    if (this.#secret !== undefined) {
      const o = secretOf(other);
      return o.length === this.#secret.length && timingSafeEqual(Buffer.from(o, 'latin1'), Buffer.from(this.#secret, 'latin1'));
    }
    const a = this.#info[2], b = asymOf(other)[2];
    return a.length === b.length && timingSafeEqual(a, b);
  }
  get [Symbol.toStringTag]() { return 'KeyObject'; }
}

const KEY = 'of type string or an instance of ArrayBuffer, Buffer, TypedArray, DataView, KeyObject, or CryptoKey';
// Asks the host for the key `input` describes (`want`: 'private' or 'public'; a private input
// gives its public half when `want` is 'public').
function asymmetric(input, want, name, what = KEY) {
  if (input instanceof KeyObject) {
    if (input.type === 'secret') throw nodeError(TE, 'ERR_CRYPTO_INVALID_KEY_OBJECT_TYPE', 'Invalid key object type secret, expected ' + want + '.');
    const info = asymOf(input);
    if (input.type === want) return info;
    if (want === 'private') throw nodeError(TE, 'ERR_CRYPTO_INVALID_KEY_OBJECT_TYPE', 'Invalid key object type public, expected private.');
    return host.importKey('public', 'der', 'pkcs8', bin(info[2]));
  }
  let key = input, format = 'pem', type = '', enc;
  if (input !== null && typeof input === 'object' && !ArrayBuffer.isView(input) && !isArrayBuffer(input)) {
    if (input.key instanceof KeyObject) return asymmetric(input.key, want, name, what);
    ({ key, encoding: enc } = input);
    format = input.format === undefined ? 'pem' : input.format;
    type = input.type === undefined ? '' : String(input.type);
    if (input.passphrase !== undefined) throw unsupported('An encrypted private key (passphrase)');
    if (format === 'jwk') {
      if (key === null || typeof key !== 'object') throw argType('key.key', 'of type object', key);
      return host.importKey(want, 'jwk', '', bin(Buffer.from(JSON.stringify(key))));
    }
    if (format !== 'pem' && format !== 'der') throw nodeError(TE, 'ERR_INVALID_ARG_VALUE', "The property 'key.format' must be one of: 'pem', 'der', 'jwk'. Received " + String(format));
    if (format === 'der' && type === '') throw nodeError(TE, 'ERR_INVALID_ARG_VALUE', "The property 'key.type' is invalid. Received undefined");
  }
  const b = asBuffer(key, enc, true);
  if (b === null) throw argType(name, what, key);
  return host.importKey(want, format, type, bin(b));
}
const CREATE_KEY = 'of type string or an instance of ArrayBuffer, Buffer, TypedArray, or DataView';
const createPrivateKey = (key) => new KeyObject(TOKEN, 'private', asymmetric(key, 'private', 'key', CREATE_KEY));
const createPublicKey = (key) => new KeyObject(TOKEN, 'public', asymmetric(key, 'public', 'key', CREATE_KEY));
function createSecretKey(key, encoding) {
  const b = asBuffer(key, encoding, true);
  if (b === null) throw argType('key', 'of type string or an instance of ArrayBuffer, Buffer, TypedArray, or DataView', key);
  return new KeyObject(TOKEN, 'secret', bin(b));
}

// ---- Sign and Verify: RSA PKCS#1 v1.5 or PSS, ECDSA with DER or IEEE P1363 signatures -----------
function signOptions(key) {
  const o = key !== null && typeof key === 'object' && !(key instanceof KeyObject) && !ArrayBuffer.isView(key) ? key : {};
  const p1363 = o.dsaEncoding === 'ieee-p1363';
  if (o.dsaEncoding !== undefined && !p1363 && o.dsaEncoding !== 'der') throw nodeError(TE, 'ERR_INVALID_ARG_VALUE', "The property 'options.dsaEncoding' is invalid. Received " + String(o.dsaEncoding));
  const pss = o.padding === 6;
  if (o.padding !== undefined && o.padding !== 1 && !pss) throw unsupported('This RSA padding');
  if (pss && o.saltLength !== undefined && o.saltLength !== -1 && o.saltLength !== -2) throw unsupported('A PSS salt length other than the digest length');
  return [p1363, pss];
}
const signHash = (alg, info) => (alg === null || alg === undefined ? (info[1] === 'ec' ? { prime256v1: 'sha256', secp384r1: 'sha384' }[info[5]] : 'sha256') : alg);
function signBytes(alg, data, key) {
  const info = asymmetric(key, 'private', 'key');
  const [p1363, pss] = signOptions(key);
  return host.sign(signHash(alg, info), bin(info[2]), data, p1363, pss);
}
function verifyBytes(alg, data, key, sig) {
  const info = asymmetric(key, 'public', 'key');
  const [p1363, pss] = signOptions(key);
  return host.verify(signHash(alg, info), bin(info[2]), data, bin(sig), p1363, pss);
}
function signAlg(algorithm) {
  algArg(algorithm);
  const alg = hashName(algorithm);
  if (alg === undefined) throw nodeError(TE, 'ERR_CRYPTO_INVALID_DIGEST', 'Invalid digest', true);
  return alg;
}
class Sign {
  #alg; #chunks = [];
  constructor(algorithm, options) { this.#alg = signAlg(algorithm); }
  update(data, inputEncoding) { this.#chunks.push(bin(dataArg('data', data, inputEncoding))); return this; }
  sign(privateKey, outputEncoding) { return encode(signBytes(this.#alg, this.#chunks.join(''), privateKey), outputEncoding); }
}
class Verify {
  #alg; #chunks = [];
  constructor(algorithm, options) { this.#alg = signAlg(algorithm); }
  update(data, inputEncoding) { this.#chunks.push(bin(dataArg('data', data, inputEncoding))); return this; }
  verify(object, signature, signatureEncoding) {
    return verifyBytes(this.#alg, this.#chunks.join(''), object, dataArg('signature', signature, signatureEncoding));
  }
}
const BYTES = 'an instance of ArrayBuffer, Buffer, TypedArray, or DataView';
function oneShot(algorithm, data, f, callback) {
  const alg = algorithm === null || algorithm === undefined ? algorithm : signAlg(algorithm);
  const b = asBuffer(data, 'utf8', true);
  if (b === null) throw argType('data', 'of type string or ' + BYTES, data);
  if (callback !== undefined) cbArg(callback);
  const r = f(alg, bin(b));
  if (callback === undefined) return r;
  later(callback, null, r);
}
const sign = (algorithm, data, key, callback) => oneShot(algorithm, data, (alg, d) => Buffer.from(signBytes(alg, d, key)), callback);
function verify(algorithm, data, key, signature, callback) {
  const sig = asBuffer(signature, 'utf8', true);
  if (sig === null) throw argType('signature', 'of type string or ' + BYTES, signature);
  return oneShot(algorithm, data, (alg, d) => verifyBytes(alg, d, key, sig), callback);
}

module.exports = {
  createHash, createHmac, hash, getHashes: () => HASH_LIST.slice(), Hash, Hmac,
  randomBytes, pseudoRandomBytes: randomBytes, randomFillSync, randomFill, randomInt,
  randomUUID: (options) => webcrypto.randomUUID(),
  getRandomValues: (array) => webcrypto.getRandomValues(array),
  timingSafeEqual, webcrypto, subtle: webcrypto.subtle,
  KeyObject, createPrivateKey, createPublicKey, createSecretKey,
  Sign, Verify, createSign: (a, o) => new Sign(a, o), createVerify: (a, o) => new Verify(a, o), sign, verify,
  constants: {
    RSA_PKCS1_PADDING: 1, RSA_NO_PADDING: 3, RSA_PKCS1_OAEP_PADDING: 4, RSA_PKCS1_PSS_PADDING: 6,
    RSA_PSS_SALTLEN_DIGEST: -1, RSA_PSS_SALTLEN_MAX_SIGN: -2, RSA_PSS_SALTLEN_AUTO: -2,
    POINT_CONVERSION_COMPRESSED: 2, POINT_CONVERSION_UNCOMPRESSED: 4, POINT_CONVERSION_HYBRID: 6,
  },
};
