// require('crypto') against Node 20: run here as an Action body with `KEYS` defined before it
// (tests_crypto.rs), and with `node` (its output is crypto.node.json). Everything recorded is
// deterministic: random values and ECDSA/PSS signatures are checked by property, not by value.
// To print Node's answers again, from tests_node/keys:
//   node -e "const fs = require('fs'); const KEYS = {}; for (const k of ['rsa', 'ec', 'ec384']) KEYS[k] = fs.readFileSync(k + '.pem', 'utf8');
//     KEYS.cert = fs.readFileSync('rsa-cert.pem', 'utf8');
//     const api = { accessToken: { setCustomClaim: (k, v) => fs.writeFileSync('../crypto.node.json', JSON.stringify(v) + '\n') } };
//     eval('(async () => {' + fs.readFileSync('../crypto.js', 'utf8') + '})()');"
const c = require('crypto');
const out = {};
const err = (f) => { try { f(); return 'no error'; } catch (e) { return [e.name, e.code, e.message, String(e), e instanceof Error]; } };
const threw = (f) => { try { f(); return false; } catch (e) { return e instanceof Error; } };
const hex = (b) => Buffer.from(b).toString('hex');

// ---- hashes: every algorithm, every output encoding, every input form -------------------------
const ALGS = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'sha512-256'];
const ENCS = ['hex', 'base64', 'base64url', 'latin1', 'buffer', undefined];
const long = 'a'.repeat(100000);
out.hash = {};
for (const a of ALGS) {
  const r = {};
  for (const e of ENCS) {
    const d = c.createHash(a).update('abc').digest(e);
    r[String(e)] = Buffer.isBuffer(d) ? ['Buffer', d.toString('hex')] : d;
  }
  r.empty = c.createHash(a).digest('hex');
  r.utf8 = c.createHash(a).update('héllo wörld ✓ 😀').digest('hex');
  r.hexIn = c.createHash(a).update('deadBEEF00', 'hex').digest('hex');
  r.b64In = c.createHash(a).update('aGVsbG8gd29ybGQ=', 'base64').digest('hex');
  r.latin1In = c.createHash(a).update('\u00ff\u00e9\u0080', 'latin1').digest('hex');
  r.u8 = c.createHash(a).update(new Uint8Array([0, 1, 2, 255])).digest('hex');
  r.u16 = c.createHash(a).update(new Uint16Array([0x102, 0xfffe])).digest('hex');
  r.view = c.createHash(a).update(new DataView(new Uint8Array([9, 8, 7, 6, 5]).buffer, 1, 3)).digest('hex');
  r.chained = c.createHash(a).update('a').update(Buffer.from('b')).update('63', 'hex').digest('hex');
  r.long = c.createHash(a).update(long).update(long).digest('base64');
  const h = c.createHash(a).update('par');
  const h2 = h.copy();
  r.copy = [h.update('t1').digest('hex'), h2.update('t2').digest('hex')];
  out.hash[a] = r;
}
out.aliases = ['RSA-SHA256', 'SHA256', 'sha-256', 'Sha256', 'sha256WithRSAEncryption', 'RSA-SHA512/256', 'RSA-MD5', 'SHA-1', 'sha512-256WithRSAEncryption']
  .map((a) => c.createHash(a).update('x').digest('hex').slice(0, 16));
out.getHashes = c.getHashes().filter((h) => ['md5', 'sha1', 'sha256', 'sha384', 'sha512', 'RSA-SHA256', 'sha512-256'].includes(h));
out.oneShot = [c.hash('sha1', 'abc'), c.hash('md5', Buffer.from('abc'), 'base64'), hex(c.hash('sha256', 'abc', 'buffer'))];
out.hashErrors = {
  twice: err(() => { const h = c.createHash('sha1'); h.digest(); h.digest(); }),
  updateAfter: err(() => { const h = c.createHash('sha1'); h.digest(); h.update('x'); }),
  copyAfter: err(() => { const h = c.createHash('sha1'); h.digest(); h.copy(); }),
  unknown: err(() => c.createHash('nope')),
  ecdsaName: err(() => c.createHash('ecdsa-with-SHA256')),
  inherited: [err(() => c.createHash('constructor')), err(() => c.createHash('__proto__')), err(() => c.createHmac('toString', 'k'))],
  arrayBuffer: err(() => c.createHash('sha1').update(new ArrayBuffer(2))),
  number: err(() => c.createHash('sha1').update(12)),
  noAlg: err(() => c.createHash()),
};

// ---- HMAC -------------------------------------------------------------------------------------
const KEY_FORMS = { str: 'secret', buf: Buffer.from('00ff10', 'hex'), long: 'k'.repeat(200), empty: '', obj: c.createSecretKey(Buffer.from('keyobject')) };
out.hmac = {};
for (const a of ALGS.filter((x) => x !== 'sha512-256')) {
  const r = {};
  for (const e of ENCS) {
    const d = c.createHmac(a, 'key').update('The quick brown fox').digest(e);
    r[String(e)] = Buffer.isBuffer(d) ? ['Buffer', d.toString('hex')] : d;
  }
  for (const [k, key] of Object.entries(KEY_FORMS)) r[k] = c.createHmac(a, key).update('data').update('ff', 'hex').digest('base64');
  r.ab = c.createHmac(a, new Uint8Array([1, 2, 3]).buffer).update(long).digest('hex');
  out.hmac[a] = r;
}
out.hmacAlias = c.createHmac('RSA-SHA256', 'k').update('x').digest('hex');
out.hmacErrors = {
  twice: (() => { const h = c.createHmac('sha256', 'k'); h.digest(); return [h.digest('hex'), h.digest().length]; })(),
  updateAfter: err(() => { const h = c.createHmac('sha256', 'k'); h.digest(); h.update('x'); }),
  unknown: err(() => c.createHmac('nope', 'k')),
  badKey: err(() => c.createHmac('sha256', 12)),
  privateKey: err(() => c.createHmac('sha256', c.createPrivateKey(KEYS.rsa))),
};

// ---- random -----------------------------------------------------------------------------------
const lens = [0, 1, 16, 70000].map((n) => { const b = c.randomBytes(n); return [Buffer.isBuffer(b), b.length]; });
const r1 = c.randomBytes(32), r2 = c.randomBytes(32);
const ints = [];
for (let i = 0; i < 2000; i++) ints.push(c.randomInt(10));
const negs = [];
for (let i = 0; i < 500; i++) negs.push(c.randomInt(-3, 3));
const filled = new Uint32Array(4);
c.randomFillSync(filled, 1, 2);
const uuid = c.randomUUID();
out.random = {
  lens, distinct: !r1.equals(r2), notZero: r1.some((x) => x !== 0),
  ints: [ints.every((n) => Number.isInteger(n) && n >= 0 && n < 10), new Set(ints).size],
  negs: [negs.every((n) => n >= -3 && n < 3), new Set(negs).size],
  big: (() => { const n = c.randomInt(2 ** 47, 2 ** 48 - 2); return n >= 2 ** 47 && n < 2 ** 48 - 2; })(),
  fill: [filled[0], filled[3], filled[1] !== 0 || filled[2] !== 0],
  fillReturns: (() => { const b = Buffer.alloc(3); return c.randomFillSync(b) === b; })(),
  uuid: [/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(uuid), uuid !== c.randomUUID()],
  getRandomValues: (() => { const a = new Uint8Array(8); return c.getRandomValues(a) === a; })(),
  webcrypto: [c.webcrypto === globalThis.crypto, typeof c.webcrypto.subtle.digest],
  errors: [err(() => c.randomBytes(-1)), err(() => c.randomBytes('1')), err(() => c.randomInt(0)), err(() => c.randomInt(1.5)),
    err(() => c.randomInt(0, 2 ** 48 + 1)), err(() => c.randomFillSync(new Uint8Array(2), 3)), err(() => c.randomBytes(1, 'x'))],
};
out.constants = [c.constants.RSA_PKCS1_PADDING, c.constants.RSA_PKCS1_PSS_PADDING, c.constants.RSA_PSS_SALTLEN_DIGEST];

// ---- timingSafeEqual ----------------------------------------------------------------------------
out.timingSafeEqual = [
  c.timingSafeEqual(Buffer.from('abc'), Buffer.from('abc')),
  c.timingSafeEqual(Buffer.from('abc'), Buffer.from('abd')),
  c.timingSafeEqual(new Uint8Array([1, 2]), new Uint16Array([0x201])),
  c.timingSafeEqual(Buffer.alloc(0), Buffer.alloc(0)),
  err(() => c.timingSafeEqual(Buffer.from('a'), Buffer.from('ab'))),
  err(() => c.timingSafeEqual('a', 'a')),
];

// ---- keys -------------------------------------------------------------------------------------
const details = (k) => { const d = k.asymmetricKeyDetails; return d && { ...d, publicExponent: d.publicExponent === undefined ? undefined : String(d.publicExponent) }; };
const about = (k) => [k instanceof c.KeyObject, k.type, k.asymmetricKeyType, details(k), k.symmetricKeySize, Object.prototype.toString.call(k)];
const rsa = c.createPrivateKey(KEYS.rsa);
const rsaPub = c.createPublicKey(KEYS.rsa);
const ec = c.createPrivateKey({ key: KEYS.ec, format: 'pem' });
const ecPub = c.createPublicKey(ec);
const ec384 = c.createPrivateKey(Buffer.from(KEYS.ec384));
const spkiPem = rsaPub.export({ format: 'pem', type: 'spki' });
const pkcs1Pem = rsa.export({ format: 'pem', type: 'pkcs1' });
const rsaJwk = rsa.export({ format: 'jwk' });
const ecJwk = ec.export({ format: 'jwk' });
out.keys = {
  about: [rsa, rsaPub, ec, ecPub, ec384, c.createPublicKey(ec384), c.createSecretKey('0011', 'hex')].map(about),
  rsaExports: [rsa.export({ format: 'pem', type: 'pkcs8' }) === KEYS.rsa, spkiPem, pkcs1Pem,
    rsaPub.export({ format: 'pem', type: 'pkcs1' }), hex(rsa.export({ format: 'der', type: 'pkcs8' })).slice(0, 40),
    hex(rsaPub.export({ format: 'der', type: 'spki' }))],
  jwk: [rsaJwk, rsaPub.export({ format: 'jwk' }), ecJwk, ecPub.export({ format: 'jwk' }), c.createPublicKey(ec384).export({ format: 'jwk' })],
  ecExports: [ec.export({ format: 'pem', type: 'pkcs8' }) === KEYS.ec, ecPub.export({ format: 'pem', type: 'spki' }), ec.export({ format: 'pem', type: 'sec1' })],
  secret: [c.createSecretKey(Buffer.from('hi')).export().toString(), c.createSecretKey('aGk=', 'base64').export({ format: 'jwk' })],
  // Every input form of the same key is the same key.
  sameRsa: [c.createPrivateKey(pkcs1Pem), c.createPrivateKey({ key: rsaJwk, format: 'jwk' }),
    c.createPrivateKey({ key: rsa.export({ format: 'der', type: 'pkcs8' }), format: 'der', type: 'pkcs8' }),
    c.createPrivateKey({ key: rsa.export({ format: 'der', type: 'pkcs1' }), format: 'der', type: 'pkcs1' })].map((k) => k.equals(rsa)),
  samePub: [c.createPublicKey(spkiPem), c.createPublicKey(rsaPub.export({ format: 'pem', type: 'pkcs1' })), c.createPublicKey(KEYS.cert),
    c.createPublicKey({ key: rsaPub.export({ format: 'jwk' }), format: 'jwk' }), c.createPublicKey(rsa), c.createPublicKey({ key: KEYS.rsa }),
    c.createPublicKey({ key: rsaPub.export({ format: 'der', type: 'spki' }), format: 'der', type: 'spki' })].map((k) => k.equals(rsaPub)),
  sameEc: [c.createPrivateKey(ec.export({ format: 'pem', type: 'sec1' })), c.createPrivateKey({ key: ecJwk, format: 'jwk' }),
    // What `openssl ecparam -genkey` writes: the curve's block before the key's.
    c.createPrivateKey('-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n' + ec.export({ format: 'pem', type: 'sec1' })),
    c.createPrivateKey({ key: ec.export({ format: 'der', type: 'sec1' }), format: 'der', type: 'sec1' })].map((k) => k.equals(ec)),
  sameEcPub: [c.createPublicKey({ key: ecPub.export({ format: 'jwk' }), format: 'jwk' }), c.createPublicKey(ecPub.export({ format: 'pem', type: 'spki' }))].map((k) => k.equals(ecPub)),
  notEqual: [rsa.equals(rsaPub), ec.equals(rsa), c.createSecretKey(Buffer.from('a')).equals(c.createSecretKey(Buffer.from('b'))), c.createSecretKey(Buffer.from('a')).equals(c.createSecretKey(Buffer.from('a')))],
  errors: [threw(() => c.createPrivateKey('garbage')), threw(() => c.createPrivateKey(spkiPem)), threw(() => c.createPublicKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n')),
    threw(() => c.createPrivateKey({ key: { kty: 'RSA', n: 'AQAB' }, format: 'jwk' })), err(() => c.createPrivateKey(12)),
    err(() => rsa.export({ format: 'pem', type: 'sec1' })) !== 'no error'],
};

// ---- signatures ---------------------------------------------------------------------------------
const msg = 'header.payload';
const rs = (alg, key) => c.createSign(alg).update(msg).sign(key, 'base64');
const NODE_SIGNED = Buffer.from('signed by node');
const FROM_NODE = {
  ec256der: 'MEYCIQCM44lgTrUj5ojM/eqiOLv5lJ/lppbBX56tzICtZjs0tQIhAPux6louExOKqbqrvZoJBfBnqqlCPJNp6NTf7/U756G3',
  ec256p1363: 'KcPC/dChIzV/99YOoMdhqS003QL6Y2IR2ing1HwLFsiMHG4XOgTSaWflNYNt5POziRvT8PQju0Z0I0v/XVW/zA==',
  ec384der: 'MGUCMHnZqCyqKrqQnLDOEiiiCMIJRZ23chdRd4sCsXXDuI7oi5/df/dZ0HnCnaWaFzAizAIxAOhuYxh4o6/CZB2lKgm2woNERvOVxIcnRLbYfqKU984xLMeCs0lbGElqT34MMrw8ow==',
  ps256: 'UVFKRnl/LxXAcPbi/dr94R4JQOqx1RAgVpYfN3QDjS/CEOc3EYJ/vADxnfSK5KsHhkJY9y7DC7HVq7tY3PuJHpUiRX4GPS46NefThLcri209c++DYckDQb7KsFZdqRRBLugHv2jd0OUk+yb8hA3S4lQE9qFssSesmwTpyCjH0G9LP41b3I2S7IKuZgwNXIzwL7qJunKCKBmhAxtypb0lprf0owgPhfkUyxIdzMI4SthjRtR/sDzw6FDKjrD3TGzn0tfF+zEzv1SehHT9yNRXbDEc9bzw04DaqfWWkdQKLdgzf/Zpcujc34st+AHGB7Ugb8GqqaEfo4AK7dUMN1tdKA==',
};
const tamper = (b64) => { const b = Buffer.from(b64, 'base64'); b[b.length - 5] ^= 1; return b; };
const es = c.createSign('RSA-SHA256').update(msg).sign(ec);
const esP = c.sign('sha256', Buffer.from(msg), { key: ec, dsaEncoding: 'ieee-p1363' });
const es384 = c.createSign('sha384').update(msg).sign(ec384);
const pss = { key: rsa, padding: c.constants.RSA_PKCS1_PSS_PADDING, saltLength: c.constants.RSA_PSS_SALTLEN_DIGEST };
const ps = c.sign('sha256', Buffer.from(msg), pss);
out.sign = {
  // RSA PKCS#1 v1.5 is deterministic: the same bytes as Node's.
  rs256: [rs('RSA-SHA256', rsa), rs('sha256', KEYS.rsa), rs('RSA-SHA256', { key: pkcs1Pem }), rs('sha256', { key: rsaJwk, format: 'jwk' })],
  rs384: rs('RSA-SHA384', rsa), rs512: rs('sha512', rsa),
  hexOut: c.createSign('SHA256').update(msg).sign(rsa, 'hex').slice(0, 32),
  bufOut: Buffer.isBuffer(c.createSign('SHA256').update(msg).sign(rsa)),
  oneShot: [hex(c.sign('sha256', Buffer.from(msg), rsa)).slice(0, 32), hex(c.sign(null, Buffer.from(msg), rsa)).slice(0, 32)],
  rsVerify: [c.createVerify('RSA-SHA256').update(msg).verify(rsaPub, rs('sha256', rsa), 'base64'),
    c.createVerify('RSA-SHA256').update(msg).verify(KEYS.rsa, rs('sha256', rsa), 'base64'),
    c.createVerify('RSA-SHA256').update(msg).verify(KEYS.cert, rs('sha256', rsa), 'base64'),
    c.createVerify('RSA-SHA256').update(msg).verify(spkiPem, tamper(rs('sha256', rsa))),
    c.createVerify('RSA-SHA256').update(msg + '!').verify(spkiPem, rs('sha256', rsa), 'base64'),
    c.createVerify('RSA-SHA384').update(msg).verify(spkiPem, rs('sha256', rsa), 'base64'),
    c.verify('sha256', Buffer.from(msg), rsaPub, Buffer.from(rs('sha256', rsa), 'base64'))],
  es: [es.length > 8 && es.length <= 72, es[0], esP.length,
    c.createVerify('sha256').update(msg).verify(ecPub, es), c.createVerify('sha256').update(msg).verify(KEYS.ec, es),
    c.verify('sha256', Buffer.from(msg), { key: ecPub, dsaEncoding: 'ieee-p1363' }, esP),
    c.verify(null, Buffer.from(msg), { key: ec, dsaEncoding: 'ieee-p1363' }, esP),
    c.createVerify('sha256').update(msg).verify(ecPub, esP),
    c.createVerify('sha256').update(msg).verify(ecPub, tamper(es.toString('base64'))),
    c.createVerify('sha384').update(msg).verify(c.createPublicKey(ec384), es384),
    es384[0], c.createVerify('sha256').update(msg).verify({ key: ecJwk, format: 'jwk' }, es)],
  pss: [ps.length, c.verify('sha256', Buffer.from(msg), { ...pss, key: rsaPub }, ps), c.verify('sha256', Buffer.from(msg), rsaPub, ps)],
  fromNode: [c.verify('sha256', NODE_SIGNED, ecPub, Buffer.from(FROM_NODE.ec256der, 'base64')),
    c.verify('sha256', NODE_SIGNED, { key: ecPub, dsaEncoding: 'ieee-p1363' }, Buffer.from(FROM_NODE.ec256p1363, 'base64')),
    c.verify('sha384', NODE_SIGNED, KEYS.ec384, Buffer.from(FROM_NODE.ec384der, 'base64')),
    c.verify('sha256', NODE_SIGNED, { key: rsaPub, padding: 6 }, Buffer.from(FROM_NODE.ps256, 'base64')),
    c.verify('sha256', NODE_SIGNED, ecPub, tamper(FROM_NODE.ec256der)),
    c.verify('sha256', Buffer.from('signed by nodE'), { key: rsaPub, padding: 6 }, Buffer.from(FROM_NODE.ps256, 'base64'))],
  errors: [err(() => c.createSign('nope')), threw(() => c.createSign('sha256').update(msg).sign(rsaPub)),
    threw(() => c.createSign('sha256').update(msg).sign(c.createSecretKey(Buffer.from('k')))),
    err(() => c.sign('sha256', 'a string', rsa))],
};
// The callback forms answer later, never during the call.
out.callbacks = await new Promise((resolve) => {
  const seen = [];
  let returned = false;
  c.randomBytes(4, (e, b) => {
    seen.push(['bytes', e, b.length, returned]);
    c.randomInt(5, (e2, n) => {
      seen.push(['int', e2, n >= 0 && n < 5]);
      c.randomFill(new Uint8Array(3), 1, (e3, b3) => {
        seen.push(['fill', e3, b3.length]);
        c.sign('sha256', Buffer.from('x'), KEYS.rsa, (e4, sig) => {
          seen.push(['sign', e4, sig.length]);
          c.verify('sha256', Buffer.from('x'), KEYS.rsa, sig, (e5, ok) => { seen.push(['verify', e5, ok]); resolve(seen); });
        });
      });
    });
  });
  returned = true;
});
const { types } = require('util');
out.utilTypes = [types.isKeyObject(rsa), types.isKeyObject(c.createSecretKey(Buffer.from('k'))), types.isKeyObject({}), types.isKeyObject(null),
  types.isCryptoKey(rsa), types.isCryptoKey({})];
api.accessToken.setCustomClaim('out', out);
