// claimsmith's warm-isolation hardening, loaded by the shim only in warm contexts
// (`host.library('harden')`, modules.rs): a strict context never reads it. Global code whose value is the
// factory; the shim hands over the built-ins it captured before any script ran.
(function hardening(deps) {
  'use strict';
  const { O, G, TE, Str, P, freeze, defineProperty, getPrototypeOf, getOwnPropertyDescriptor, ownKeys } = deps;
  // Assigning to an inherited frozen property throws in strict code (the "override mistake"), which
  // would break ordinary code like `this.name = 'MyError'` in an Error subclass. These properties
  // become accessors whose setter defines an own property on the receiver instead. The original
  // values are only reachable through these getters now: `overridden` keeps them for the walk.
  const overridden = [];
  function enableOverride(obj, prop) {
    const d = getOwnPropertyDescriptor(obj, prop);
    if (!d || !('value' in d) || !d.configurable) return;
    const value = d.value;
    overridden.push(value);
    defineProperty(obj, prop, {
      get() { return value; },
      set(v) {
        if (this === obj) throw new TE("Cannot assign to read only property '" + Str(prop) + "' of a built-in");
        defineProperty(this, prop, { value: v, writable: true, enumerable: true, configurable: true });
      },
      enumerable: d.enumerable,
      configurable: false,
    });
  }
  function harden() {
    const errors = [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError];
    if (typeof InternalError === 'function') errors.push(InternalError);
    if (typeof AggregateError === 'function') errors.push(AggregateError);
    for (const p of ['constructor', 'toString', 'valueOf', 'toLocaleString', 'hasOwnProperty',
      'isPrototypeOf', 'propertyIsEnumerable']) enableOverride(O.prototype, p);
    for (const E of errors) for (const p of ['name', 'message', 'constructor', 'toString']) enableOverride(E.prototype, p);
    enableOverride(Function.prototype, 'toString');
    const roots = overridden.slice();
    for (const k of ownKeys(G)) {
      const d = getOwnPropertyDescriptor(G, k);
      if ('value' in d) roots.push(d.value);
      // Standard global bindings become read-only: `globalThis.JSON = fake` must not outlive a login.
      if (d.configurable) defineProperty(G, k, { writable: false, configurable: false });
    }
    // Intrinsics no global names, reached only through syntax or by calling a built-in; their
    // prototypes are what matters. tests_harden.rs walks everything a script can reach (calling
    // every built-in) so that a new one in the next quickjs-ng fails a test. Unreachable from JS,
    // hence not here: %AsyncFromSyncIteratorPrototype% (used by `for await` internally) and the
    // CallSite prototype (only via Error.prepareStackTrace, pinned below).
    const anon = [
      function* () {}, async function () {}, async function* () {}, (function* () {})(),
      (async function* () {})(), [][Symbol.iterator](), new Map()[Symbol.iterator](),
      new Set()[Symbol.iterator](), ''[Symbol.iterator](), /x/[Symbol.matchAll](''), P.resolve(),
    ];
    if (typeof Iterator === 'function') {
      const done = { next() { return { done: true, value: undefined }; } };
      anon.push([].values().map((x) => x)); // %IteratorHelperPrototype% (also concat, chunks...)
      anon.push(Iterator.from(done)); // %WrapForValidIteratorPrototype%
    }
    for (const a of anon) { roots.push(a); roots.push(getPrototypeOf(a)); }
    const tt = getOwnPropertyDescriptor(Function.prototype, 'caller');
    if (tt && tt.get) roots.push(tt.get);
    freezeAll(roots);
  }
  // Freezes everything reachable from `roots` (also the Node globals, built after hardening).
  // `hardened`: skip frozen objects, all of whose reachable objects `harden` froze already.
  function freezeAll(roots, hardened) {
    const seen = new Set();
    while (roots.length) {
      const o = roots.pop();
      if (o === null || (typeof o !== 'object' && typeof o !== 'function') || o === G || seen.has(o)) continue;
      if (hardened && O.isFrozen(o)) continue;
      seen.add(o);
      // Static accessors with a setter (quickjs-ng: Error.prepareStackTrace, Error.stackTraceLimit)
      // keep engine-wide state that freezing does not protect: pin them to their current value.
      if (typeof o === 'function') {
        for (const k of ownKeys(o)) {
          const d = getOwnPropertyDescriptor(o, k);
          if (d.set === undefined || !d.configurable) continue;
          let v;
          try { v = o[k]; } catch (e) { continue; } // Function.prototype.caller & co. throw: no state
          defineProperty(o, k, { value: v, writable: false, enumerable: d.enumerable, configurable: false });
        }
      }
      freeze(o);
      roots.push(getPrototypeOf(o));
      for (const k of ownKeys(o)) {
        const d = getOwnPropertyDescriptor(o, k);
        if ('value' in d) roots.push(d.value); else { roots.push(d.get); roots.push(d.set); }
      }
    }
  }
  return { harden, freezeAll };
})
