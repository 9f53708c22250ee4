// Deep equality as Node's `assert.deepStrictEqual` / `assert.deepEqual` decide it (shared by
// `assert` and `util.isDeepStrictEqual`): own enumerable keys, prototypes when strict, Date,
// RegExp, boxed primitives, errors, typed arrays, Map and Set, cycles.
'use strict';

const tag = (v) => Object.prototype.toString.call(v);

function keysOf(o) {
  const keys = Object.keys(o);
  for (const s of Object.getOwnPropertySymbols(o)) {
    if (Object.prototype.propertyIsEnumerable.call(o, s)) keys.push(s);
  }
  return keys;
}

function equal(a, b, strict, memo) {
  if (strict ? Object.is(a, b) : (a == b || (a !== a && b !== b))) return true; // eslint-disable-line eqeqeq
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
    if (!strict && (a === null || typeof a !== 'object') && (b === null || typeof b !== 'object')) {
      return a == b; // eslint-disable-line eqeqeq
    }
    return false;
  }
  if (tag(a) !== tag(b)) return false;
  if (strict && Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (a instanceof Date) {
    if (a.getTime() !== b.getTime()) return false;
  } else if (a instanceof RegExp) {
    if (String(a) !== String(b) || a.lastIndex !== b.lastIndex) return false;
  } else if (a instanceof Error) {
    if (a.message !== b.message || a.name !== b.name) return false;
  } else if (typeof ArrayBuffer === 'function' && ArrayBuffer.isView(a)) {
    if (a.length !== b.length || a.byteLength !== b.byteLength) return false;
    for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i]) && (strict || a[i] != b[i])) return false; // eslint-disable-line eqeqeq
  } else if (a instanceof Number || a instanceof String || a instanceof Boolean) {
    if (!Object.is(a.valueOf(), b.valueOf())) return false;
  }
  // Cycles: a pair already being compared is taken as equal, as Node does.
  let seen = memo.get(a);
  if (seen !== undefined && seen.has(b)) return true;
  if (seen === undefined) memo.set(a, (seen = new Set()));
  seen.add(b);
  if (a instanceof Map) {
    if (a.size !== b.size) return false;
    outer: for (const [k, v] of a) {
      if (b.has(k)) { if (!equal(v, b.get(k), strict, memo)) return false; continue; }
      if (k === null || typeof k !== 'object') return false;
      for (const [k2, v2] of b) if (equal(k, k2, strict, memo) && equal(v, v2, strict, memo)) continue outer;
      return false;
    }
  } else if (a instanceof Set) {
    if (a.size !== b.size) return false;
    outer: for (const v of a) {
      if (b.has(v)) continue;
      if (v === null || typeof v !== 'object') return false;
      for (const v2 of b) if (equal(v, v2, strict, memo)) continue outer;
      return false;
    }
  }
  const ka = keysOf(a);
  const kb = keysOf(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.propertyIsEnumerable.call(b, k)) return false;
    if (!equal(a[k], b[k], strict, memo)) return false;
  }
  return true;
}

module.exports = {
  isDeepStrictEqual: (a, b) => equal(a, b, true, new Map()),
  isDeepEqual: (a, b) => equal(a, b, false, new Map()),
};
