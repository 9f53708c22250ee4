// Test Action (tests_harden.rs): finds every *shared* object a script can reach and reports the
// ones a script could change (extensible, or with a writable or configurable own property).
//
// Shared objects: globalThis's values, their prototypes, property values, getters and setters,
// recursively; plus whatever calling a shared function returns that is the *same* object on two
// calls with fresh arguments (a fresh result is per call), and the prototypes and property values
// of fresh results that are the same on both (e.g. the prototype of `[].values().map(f)`).
// Every shared function is called, and constructed, with fresh receivers and fresh argument
// patterns; fresh results become receivers for the methods of their prototypes, to a fixed point.
// Walked objects are never passed as arguments (so no call can freeze one for us); they are only
// used as `this` for their own methods.
//
// Claim `https://t/walk`: the findings and counts; `last` names the last call (`threw`/`stage`
// if the walk itself failed). Knobs, from `event.secrets`: `cap` (most calls) and `only` (call
// only functions whose path starts with this), for narrowing a finding down.
'use strict'; // sloppy functions would expose their own arguments.callee to the walk
exports.onExecutePostLogin = async (event, api) => {
  let stage = 'start';
  try { walk(api, (s) => { stage = s; }, event.secrets.cap, event.secrets.only); } catch (e) {
    api.accessToken.setCustomClaim('https://t/walk', { threw: String(e), stack: String(e && e.stack), stage });
  }
};
function walk(api, report, cap, only) {
  let lastStage = '';
  const progress = (s) => { lastStage = s; report(s); };
  const G = globalThis;
  const { getPrototypeOf, getOwnPropertyDescriptor, isExtensible } = Object;
  const ownKeys = Reflect.ownKeys;
  const apply = Reflect.apply;
  const construct = Reflect.construct;
  const S = String;
  const isObj = (v) => v !== null && (typeof v === 'object' || typeof v === 'function');
  const name = (k) => (typeof k === 'symbol' ? '[' + S(k.description) + ']' : S(k));

  // Landmarks, only to name what the walk reports (the walk must find them on its own).
  const known = new Map();
  const mark = (f, label) => { try { const o = f(); if (isObj(o)) known.set(o, label); } catch (e) { /* absent */ } };
  mark(() => getPrototypeOf([].values().map((x) => x)), '%IteratorHelperPrototype%');
  mark(() => getPrototypeOf(Iterator.from({ next() { return { done: true }; } })), '%WrapForValidIteratorPrototype%');
  mark(() => getPrototypeOf([].values()), '%ArrayIteratorPrototype%');
  mark(() => getPrototypeOf(''[Symbol.iterator]()), '%StringIteratorPrototype%');
  mark(() => getPrototypeOf(new Map().values()), '%MapIteratorPrototype%');
  mark(() => getPrototypeOf(new Set().values()), '%SetIteratorPrototype%');
  mark(() => getPrototypeOf(/x/[Symbol.matchAll]('')), '%RegExpStringIteratorPrototype%');
  mark(() => getPrototypeOf(function* () {}).prototype, '%GeneratorPrototype%');
  mark(() => getPrototypeOf(async function* () {}).prototype, '%AsyncGeneratorPrototype%');
  mark(() => getPrototypeOf(getPrototypeOf(async function* () {}).prototype), '%AsyncIteratorPrototype%');
  // The Node globals (built on first read: these marks build them, the walk must still find them).
  mark(() => getPrototypeOf(Uint8Array.prototype), '%TypedArray.prototype%');
  mark(() => ArrayBuffer.prototype, 'ArrayBuffer.prototype');
  mark(() => Buffer.prototype, 'Buffer.prototype');
  mark(() => TextDecoder.prototype, 'TextDecoder.prototype');
  mark(() => URL.prototype, 'URL.prototype');
  mark(() => URLSearchParams.prototype.entries.prototype, 'URLSearchParams iterator prototype');
  mark(() => AbortSignal.prototype, 'AbortSignal.prototype');
  mark(() => EventTarget.prototype, 'EventTarget.prototype');
  mark(() => CryptoKey.prototype, 'CryptoKey.prototype');
  mark(() => crypto.subtle, 'crypto.subtle');
  mark(() => process, 'process');
  mark(() => getPrototypeOf(getPrototypeOf(setImmediate(() => {}))), 'Timeout.prototype');

  const shared = new Map(); // object -> where it was found
  const holderOf = new Map(); // function -> the shared object it was found on
  let fresh = true; // something new was found this round
  const pending = []; // [object, path, holder]: walked iteratively (the graph is deep)
  function share(o, path, holder) {
    pending.push([o, path, holder]);
    // Breadth first, so the shortest path names an object and the round's calls start near the top.
    for (let i = 0; i < pending.length; i++) {
      const [x, at, h] = pending[i];
      if (!isObj(x) || shared.has(x)) continue;
      shared.set(x, known.has(x) ? known.get(x) : at);
      if (typeof x === 'function' && h !== undefined) holderOf.set(x, h);
      fresh = true;
      pending.push([getPrototypeOf(x), at + '.__proto__']);
      for (const k of ownKeys(x)) {
        const d = getOwnPropertyDescriptor(x, k);
        const kat = at + '.' + name(k);
        if ('value' in d) pending.push([d.value, kat, x]);
        else { pending.push([d.get, kat + '<get>', x]); pending.push([d.set, kat + '<set>', x]); }
      }
    }
    pending.length = 0;
  }

  // Receivers: factories of fresh instances, at most two per prototype.
  const receivers = []; // { make, proto, label }
  const perProto = new Map();
  function receiver(make, sample, label) {
    if (!isObj(sample) && typeof sample !== 'string') return;
    const proto = isObj(sample) ? getPrototypeOf(sample) : String.prototype;
    // Keyed by the nearest shared prototype: a generator's own prototype is fresh per function.
    let key = proto;
    while (key !== null && !shared.has(key)) key = getPrototypeOf(key);
    const n = perProto.get(key) || 0;
    if (n >= 2) return;
    perProto.set(key, n + 1);
    receivers.push({ make, proto, label: label.slice(0, 120) });
    fresh = true;
  }
  // Two results of the same recipe: identical means shared; otherwise look one level into them.
  function compare(a, b, path, depth) {
    if (!isObj(a) || !isObj(b)) return;
    if (a === b) { share(a, path); return; }
    if (depth > 3) return;
    compare(getPrototypeOf(a), getPrototypeOf(b), path + '.__proto__', depth + 1);
    for (const k of ownKeys(a)) {
      const da = getOwnPropertyDescriptor(a, k);
      const db = getOwnPropertyDescriptor(b, k);
      if (da === undefined || db === undefined) continue;
      const at = path + '.' + name(k);
      compare(da.value, db.value, at, depth + 1);
      compare(da.get, db.get, at + '<get>', depth + 1);
      compare(da.set, db.set, at + '<set>', depth + 1);
    }
  }
  let calls = 0;
  function attempt(make) {
    calls++;
    try { return { v: make() }; } catch (e) { return { v: e }; } // thrown errors count too
  }
  function consider(make, label) {
    const a = attempt(make);
    const b = attempt(make);
    compare(a.v, b.v, label, 0);
    if ((isObj(a.v) && a.v !== b.v) || typeof a.v === 'string') receiver(make, a.v, label);
  }

  const samples = {
    'array': () => [1, 2], 'object': () => ({ a: 1 }), 'string': () => 'str',
    'arrow': () => (x) => x, 'function': () => function () {}, 'generator function': () => function* () {},
    'async function': () => async function () {}, 'async generator function': () => async function* () {},
    'class': () => class {}, 'generator': () => (function* () { yield 1; })(),
    'async generator': () => (async function* () { yield 1; })(), 'arguments': function () { return arguments; },
    'map': () => new Map([[1, 2]]), 'set': () => new Set([1]), 'weakmap': () => new WeakMap(),
    'weakset': () => new WeakSet(), 'date': () => new Date(0), 'regexp': () => /a/g,
    'error': () => new Error('e'), 'promise': () => Promise.resolve(1), 'bound': () => ((x) => x).bind(null),
    'array iterator': () => [1, 2].values(), 'plain iterator': () => ({ next() { return { done: true }; } }),
  };
  for (const k of keys(samples)) consider(samples[k], k);
  function keys(o) { return Object.keys(o); }

  const argPatterns = [
    ['()', () => []],
    ['(f)', () => [(x) => x]],
    ['([1,2])', () => [[1, 2]]],
    ["('str')", () => ['str']],
    ['(1)', () => [1]],
    ['({next})', () => [{ next() { return { done: true }; } }]],
  ];

  share(G, 'globalThis');
  // The built-in modules are shared per context too, reached through `require` (by name, which
  // no argument pattern above would guess).
  for (const m of ['assert', 'axios', 'buffer', 'crypto', 'events', 'path', 'punycode', 'querystring', 'stream', 'string_decoder', 'timers', 'url', 'util', 'node-fetch', 'request', 'request-promise']) share(require(m), "require('" + m + "')");
  const done = new Map(); // function -> number of receivers already tried
  let rounds = 0;
  const CAP = cap || 400000;
  while (fresh && rounds < 10 && calls < CAP) {
    fresh = false;
    rounds++;
    for (const [f, path] of [...shared]) {
      if (typeof f !== 'function' || calls >= CAP || (only && !path.startsWith(only))) continue;
      const holder = holderOf.get(f);
      const from = done.get(f) || 0;
      done.set(f, receivers.length);
      if (from === 0) {
        // Static calls: no receiver, the holder itself, and as a constructor.
        for (const [an, args] of argPatterns) {
          progress(path + an + ' #' + calls);
          consider(() => apply(f, undefined, args()), path + an);
          if (holder !== undefined && holder !== G) consider(() => apply(f, holder, args()), path + an + ' on its holder');
          consider(() => construct(f, args()), 'new ' + path + an);
        }
      }
      // Methods: every fresh receiver whose prototype chain holds the function's holder.
      for (let i = from; i < receivers.length; i++) {
        const r = receivers[i];
        let inChain = false;
        for (let p = r.proto; p !== null && !inChain; p = getPrototypeOf(p)) inChain = p === holder;
        if (!inChain) continue;
        for (const [an, args] of argPatterns) {
          progress(path + an + ' on ' + r.label + ' #' + calls);
          consider(() => apply(f, r.make(), args()), path + an + ' on ' + r.label);
        }
      }
    }
  }

  const bad = [];
  const reached = [];
  const badKnown = [];
  for (const [o, path] of shared) {
    if (known.has(o)) reached.push(known.get(o));
    if (o === G) continue; // scripts may add globals; the standard bindings are checked below
    const why = [];
    if (isExtensible(o)) why.push('extensible');
    for (const k of ownKeys(o)) {
      const d = getOwnPropertyDescriptor(o, k);
      if (d.configurable || d.writable) why.push(name(k));
    }
    if (why.length) bad.push(path.slice(0, 160) + ': ' + why.slice(0, 4).join(','));
    if (why.length && known.has(o)) badKnown.push(known.get(o));
  }
  // The global object's own bindings at the start of a login are the built-ins: none writable.
  for (const k of ownKeys(G)) {
    const d = getOwnPropertyDescriptor(G, k);
    if (d.configurable || d.writable) bad.push('globalThis.' + name(k) + ': writable binding');
  }
  api.accessToken.setCustomClaim('https://t/walk', {
    bad: bad.slice(0, 150), badCount: bad.length, badKnown, reached, shared: shared.size, receivers: receivers.length,
    calls, rounds, capped: calls >= CAP, last: lastStage,
  });
}
