// claimsmith script shim: compiled once to bytecode, loaded first into every sandbox context.
//
// `install(host, cfg)` receives the raw Rust host functions and keeps them in this closure: no
// script can reach a host function (rquickjs shares host-function prototypes across the contexts
// of a runtime; see RUNTIME-NOTES §8.1). It defines the globals `console` and `require`, hardens
// the built-ins when asked (warm isolation, `harden.js`), and returns the driver `{ add, run, timers }`:
//   add(kind, name, init, dir)  registers a compiled script (kind 0 = Rule, 1 = Action) and checks its shape;
//   run(eventJson, rulesJson, nowMs) runs the Rules then the Actions of one login and resolves to
//   the outcome object, which Rust reads field by field and validates (it never trusts its shape).
export default function install(host, cfgJson) {
  'use strict';
  const G = globalThis;
  const cfg = JSON.parse(cfgJson);
  // The host functions few contexts need, made on the first need of one (bindings.rs `more`).
  let hostMore = null;
  const hx = () => hostMore || (hostMore = host.more());
  const O = Object;
  const { freeze, defineProperty, getPrototypeOf, getOwnPropertyDescriptor, keys } = O;
  const ownKeys = Reflect.ownKeys;
  const SMap = Map;
  const isSafeInteger = Number.isSafeInteger;
  const isFinite = Number.isFinite;
  const isInteger = Number.isInteger;
  const hasOwn = (o, k) => O.prototype.hasOwnProperty.call(o, k);
  const jparse = JSON.parse;
  const jstringify = JSON.stringify;
  const isArray = Array.isArray;
  const P = Promise;
  const TE = TypeError;
  const RE = RangeError;
  const Err = Error;
  const Str = String;

  // ---- hardening (warm isolation): harden.js, read only by warm contexts -------------------------
  const hardening = cfg.harden
    ? host.library('harden')({ O, G, TE, Str, P, freeze, defineProperty, getPrototypeOf, getOwnPropertyDescriptor, ownKeys })
    : null;
  const freezeAll = (roots, hardened) => hardening.freezeAll(roots, hardened);
  function deepFreeze(v) {
    if (v !== null && typeof v === 'object') { freeze(v); for (const k of keys(v)) deepFreeze(v[k]); }
    return v;
  }

  // ---- state of the running login ----------------------------------------------------------------
  let cur = -1; // index of the running script (rules first, then actions), for console and errors
  const scripts = []; // { kind, name, value }
  const enter = (i) => { cur = i; cstate = null; host.enter(i); }; // cstate: console's, below

  // ---- console and require -------------------------------------------------------------------------
  // Node's `console` over `util.format` / `util.inspect` (default options: depth 2, breakLength 80,
  // compact 3, maxArrayLength 100), reduced to what a sandbox holds. Nothing here runs until a
  // script calls console; each line goes to `host.log`, which keeps it per script and caps it.
  // Differences from Node: enumerable getters are read (as JSON.stringify does: the event's lazy
  // sections are getters), a Promise shows no state; see console.js.
  // The formatter (console.js) is loaded on the first call: see there.
  let formatter = null;
  const lib = () => formatter || (formatter = host.library('console')({ O, Str, Err, TE, RE, P, getPrototypeOf,
    getOwnPropertyDescriptor, ownKeys, hasOwn, isArray, jstringify }));
  // Per-script, per-login state (`enter` resets it): counters, timers, group indentation.
  let cstate = null;
  // Built when first read in a strict context (the global is a native accessor then: a login
  // that never logs does not build it), at install in a warm one (hardening freezes it). Its code
  // is console_object.js, not carried by every context; so are the functions it is given here.
  let consoleObject = null;
  const theConsole = () => consoleObject || (consoleObject = host.library('console_object')({
    emit(level, line) {
      const ind = cstate === null ? '' : cstate.indent;
      if (ind !== '') line = ind + line.split('\n').join('\n' + ind);
      hx().log(level, line);
    },
    cs: () => cstate || (cstate = { counts: new Map(), timers: new Map(), indent: '' }),
    describe, freeze, Err, TE, Str,
    format: (args) => lib().format(args),
    inspect: (v, opts) => lib().inspect(v, opts),
    table: (data, props) => lib().table(data, props),
  }));
  // ---- require: Node's CommonJS over the set's module table (library.rs, resolve.rs) -------------
  // The machinery is require.js, run in a context on its first `require` call (most logins never
  // call it); each script's `require` here only forwards to it.
  let requireLib = null;
  const rlib = () => requireLib || (requireLib = host.library('require')({ host: hx(), harden: cfg.harden, freeze,
    freezeAll, Err, TE, jparse, Map: SMap, format: (args) => lib().format(args), inspect: (v, opts) => lib().inspect(v, opts) }));
  function makeRequire(dir, versioned) {
    const require = function require(id) { return rlib().require(dir, versioned, id); };
    require.resolve = freeze(function resolve(id) { return rlib().resolve(dir, versioned, id); });
    return freeze(require);
  }
  // The global `require` (Node has none; Auth0's webtask had one): built-ins and packages only.
  const require = makeRequire('', false);

  // ---- Rules globals (lexical to each rule, see catalog.rs) ------------------------------------------
  class UnauthorizedError extends Err {
    constructor(message) {
      super(message);
      defineProperty(this, 'name', { value: 'UnauthorizedError', writable: true, configurable: true });
    }
  }
  defineProperty(UnauthorizedError.prototype, 'name', { value: 'UnauthorizedError', writable: true, configurable: true });
  const configuration = deepFreeze(cfg.configuration);
  const badKey = (k) => k.indexOf('.') >= 0 || k.indexOf('$') >= 0;
  // Metadata a Rule persisted for the user logging in, merged into the Actions' `event.user`
  // (`{uid, app, user}` for the running login; reset by `run`).
  let persisted = null;
  function mergeInto(target, patch) {
    for (const k of keys(patch)) { if (patch[k] === null) delete target[k]; else target[k] = patch[k]; }
  }
  // node-auth0's `users.updateAppMetadata(params, metadata, cb?)`: metadata.js, run in a context on
  // the first call (few Rules update metadata).
  let metadataLib = null;
  const mlib = () => metadataLib || (metadataLib = host.library('metadata')({ host: hx(), P, TE, Err, isArray, keys,
    badKey, jstringify, jparse, persisted: () => persisted }));
  // `auth0.accessToken`: a token for this server's Management API with the Rules' scopes (Auth0's
  // `read:users update:users`), asked of the host on each read (`host.mgmtToken`, which signs one
  // and reuses it while more than half its lifetime is left; it throws when none can be had, so
  // the login fails closed): a login that never reads it pays nothing. `auth0.baseUrl` is that
  // API's URL, `<issuer>api/v2`. Both non-enumerable, so that printing `auth0` never prints the
  // token.
  const auth0 = freeze(O.defineProperties({
    domain: cfg.domain,
    users: freeze({
      updateAppMetadata: (id, obj, cb) => mlib().patchUser(0, id, obj, cb),
      updateUserMetadata: (id, obj, cb) => mlib().patchUser(1, id, obj, cb),
    }),
  }, {
    accessToken: { get: freeze(function accessToken() { return hx().mgmtToken(); }), enumerable: false },
    baseUrl: { value: cfg.baseUrl, enumerable: false },
  }));
  freeze(UnauthorizedError);
  freeze(UnauthorizedError.prototype);

  // No compiler is reachable: `eval` would only throw "eval is not supported"; remove the name.
  delete G.eval;
  // Two quickjs-ng leaks, which JS_FreeRuntime's assertion turns into an abort of the whole process
  // when the runtime is freed (every strict login, every load-time check): the
  // `Error.stackTraceLimit` setter does not free the value it replaces (an object assigned, then
  // replaced), and building an error while `Error.prepareStackTrace` holds a non-function object
  // leaks that object. Both accessors are wrapped in every mode, so the limit only ever holds a
  // number and the hook a function or undefined; hardening then pins them as before.
  function guardAccessor(prop, accept) {
    const d = getOwnPropertyDescriptor(Err, prop);
    if (!d || !d.get || !d.set || !d.configurable) return;
    const { get, set } = d;
    defineProperty(Err, prop, {
      get() { return get.call(this); },
      set(v) { set.call(this, accept(v)); },
      enumerable: d.enumerable,
      configurable: true,
    });
  }
  guardAccessor('stackTraceLimit', (v) => +v);
  guardAccessor('prepareStackTrace', (v) => (typeof v === 'function' ? v : undefined));
  // Defined before hardening, which then freezes the console's functions and their prototypes.
  // `global` is Node's name for the global object (Rules' `global` parameter is the same object).
  for (const [k, v] of [['require', require], ['global', G]]) {
    defineProperty(G, k, { value: v, writable: false, enumerable: false, configurable: false });
  }
  // Read-only in both modes, as before: a Rule cannot swap the console of the Actions after it.
  if (cfg.harden) defineProperty(G, 'console', { value: theConsole(), writable: false, enumerable: false, configurable: false });
  else host.lazyGlobals(0, theConsole, false); // 0: ['console'] (lazy_globals.rs)
  if (cfg.harden) hardening.harden();

  // ---- typed arrays, strict ------------------------------------------------------------------------------
  // A strict context starts without them (sandbox.rs `StrictIntrinsics`): the first read of one of
  // these names installs them all (`host.typedArrays`, which replaces these accessors with the real
  // data properties); a write first makes the name the script's own value, as any global.
  if (!cfg.harden) {
    // 1: ArrayBuffer, SharedArrayBuffer, the typed arrays, DataView, Atomics (lazy_globals.rs).
    host.lazyGlobals(1, (k) => {
      hx().typedArrays();
      const d = getOwnPropertyDescriptor(G, k); // the real one now (never this accessor again)
      return d !== undefined && 'value' in d ? d.value : undefined;
    }, true);
  }

  // ---- Node globals (node_globals/node_buffer/node_web/node_timers.js, node_host.rs) -------------------
  // Each name is an accessor that builds the whole library on the context's first read of any of
  // them (`host.nodeGlobals`): a login that touches none pays one defineProperty per name. Warm:
  // the library is frozen before a script sees it and the accessor stays, read-only like the
  // hardened built-ins; strict: the first read or write makes the name a data property, as in Node.
  let nodeLib = null;
  const nodeGlobal = (k) => {
    if (nodeLib === null) {
      hx().typedArrays(); // the library is built on them (and its host functions return them)
      const f = hx().fetchHost();
      const lib = hx().nodeGlobals(f.start, f.take);
      // `[scripts.process_env]`: copied into this context's `process.env` (frozen there).
      const env = cfg.processEnv;
      if (env !== null && typeof env === 'object' && keys(env).length) lib.process.env = freeze({ ...env });
      // The library freezes only objects without object children (process.env, versions, argv).
      if (cfg.harden) freezeAll([lib], true);
      nodeLib = lib;
    }
    return nodeLib[k];
  };
  const setGlobal = (k, v) => defineProperty(G, k, { value: v, writable: true, enumerable: false, configurable: true });
  // Defined natively (lazy_globals.rs): one small C function per name instead of two closures.
  // 2: AbortController, AbortSignal, Buffer, CryptoKey, Event, EventTarget, TextDecoder, TextEncoder,
  // URL, URLSearchParams, atob, btoa, clearImmediate, clearInterval, clearTimeout, crypto, process,
  // setImmediate, setInterval, setTimeout, structuredClone, fetch, Headers, Request, Response,
  // FormData (lazy_globals.rs).
  host.lazyGlobals(2, cfg.harden ? nodeGlobal : (k) => { const v = nodeGlobal(k); setGlobal(k, v); return v; }, !cfg.harden);
  // The driver's hold on the timers (sandbox.rs, once the library exists): `timers(false)` fires
  // the earliest due timer (0) or answers the wait in ms (-1: none); `timers(true)` drops them all.
  // The answered fetches are settled first (0: something ran).
  const timers = (drop) => {
    if (nodeLib === null) return -1;
    if (!drop) return nodeLib.fetchQueue.deliver() ? 0 : nodeLib.timerQueue.run();
    nodeLib.timerQueue.clear();
    nodeLib.fetchQueue.clear();
    return -1;
  };

  // ---- registration --------------------------------------------------------------------------------------
  const ok = (ex, k) => ex !== null && (typeof ex === 'object' || typeof ex === 'function') && typeof ex[k] === 'function';
  function add(kind, name, init, dir) {
    enter(scripts.length);
    if (kind === 0) {
      const fn = init(configuration, G, auth0, UnauthorizedError, makeRequire(dir, true));
      if (typeof fn !== 'function') throw new TE('a Rule must be a function (user, context, callback)');
      if (fn.length !== 3) throw new TE('a Rule must take 3 parameters (user, context, callback), not ' + fn.length);
      scripts.push({ kind, name, value: fn, login: true });
      return 1;
    } else {
      const module = { id: '.', path: dir, filename: dir + '/' + name + '.js', loaded: false, exports: {}, children: [], paths: [] };
      init(makeRequire(dir, false), module);
      module.loaded = true;
      const ex = module.exports;
      // Which triggers it runs on: bit t for TRIGGERS[t] (input.rs `Trigger::bit`).
      let on = 0;
      for (let t = 0; t < TRIGGERS.length; t++) if (ok(ex, TRIGGERS[t])) on |= 1 << t;
      if (on === 0) {
        throw new TE('an Action must export ' + TRIGGERS.join(', ').replace(/, ([^,]*)$/, ' or $1'));
      }
      const i = scripts.length;
      // Each trigger's `api`: post-login's built here, the rarer ones by api.js.
      const apis = [on & 1 ? makeApi(i) : null, on & 2 ? more().cxApi(i) : null,
        on & 4 ? more().preRegApi(i) : null, on & 8 ? more().postRegApi(i) : null];
      scripts.push({ kind, name, value: module, on, apis });
      return on;
    }
  }
  // The Actions triggers by the shim's number: 0 post-login, 1 credentials exchange, 2 and 3
  // pre- and post-user-registration.
  const TRIGGERS = ['onExecutePostLogin', 'onExecuteCredentialsExchange', 'onExecutePreUserRegistration',
    'onExecutePostUserRegistration'];

  // ---- claims and errors -----------------------------------------------------------------------------------
  function claimJson(v, what) {
    const t = typeof v;
    if (t === 'undefined') return undefined;
    if (t === 'function' || t === 'symbol') {
      hx().log(3, 'claim ' + what + ' dropped: a ' + t + ' is not JSON');
      return undefined;
    }
    return jstringify(v); // throws TypeError on cycles and BigInt
  }
  function describe(e) {
    if (e instanceof Err) return { message: Str(e.message), stack: Str(e.stack || ''), name: Str(e.name) };
    if (e !== null && typeof e === 'object') {
      let m;
      try { m = typeof e.message === 'string' ? e.message : jstringify(e); } catch (x) { m = undefined; }
      return { message: m === undefined ? Str(O.prototype.toString.call(e)) : m, stack: '', name: '' };
    }
    let m;
    try { m = Str(e); } catch (x) { m = typeof e; }
    return { message: m, stack: '', name: '' };
  }
  // QuickJS throws `null` when the heap is too full to build the "out of memory" error. A script
  // may also throw null on purpose: Rust tells the two apart by the heap size (`nullThrow`).
  function isOom(out, e, d) {
    if (e === null || e === undefined) out.nullThrow = true;
    return d.name === 'InternalError' && d.message === 'out of memory';
  }
  function failure(out, e) {
    const d = describe(e);
    if (isOom(out, e, d)) { out.oom = cur; return; }
    out.stack = d.stack;
    out.v = ['deny', d.message];
    out.threw = true;
  }

  // ---- Rules -------------------------------------------------------------------------------------------------
  function callRule(fn, user, context) {
    return new P((resolve) => {
      let called = false;
      function callback(err, u, c) {
        if (called) { hx().log(3, 'callback called more than once; ignored'); return; }
        called = true;
        resolve(err ? { err } : { user: u, context: c });
      }
      try {
        const r = fn(user, context, callback);
        if (r !== null && typeof r === 'object' && typeof r.then === 'function') {
          r.then(undefined, (e) => { if (!called) { called = true; resolve({ threw: true, err: e }); } });
        }
      } catch (e) {
        if (!called) { called = true; resolve({ threw: true, err: e }); } else hx().log(3, 'threw after calling back: ' + describe(e).message);
      }
    });
  }
  function tokenObject(o) { return o !== null && typeof o === 'object' ? o : {}; }
  function snapshot(o, prev, attr, name, skip) {
    const next = O.create(null); // `__proto__` is an ordinary claim name here
    for (const k of keys(o)) {
      if (k === skip) continue;
      let s;
      try { s = claimJson(o[k], k); } catch (e) { s = '!' + describe(e).message; }
      next[k] = s;
      if (s !== prev[k]) attr[k] = name;
    }
    return next;
  }
  // The claims of the final context, from the snapshot taken after the last Rule (JSON text never
  // starts with '!', which marks a value that could not be serialised).
  function emitRuleClaims(list, snap, attr) {
    for (const k of keys(snap)) {
      const s = snap[k];
      if (s === undefined) continue;
      if (s.charCodeAt(0) === 33) {
        hx().log(3, 'claim ' + k + ' dropped: ' + s.slice(1));
        continue;
      }
      list.push([attr[k] === undefined ? -1 : attr[k], k, s]);
    }
  }
  async function runRules(out, rulesJson) {
    const input = jparse(rulesJson);
    let user = input.user;
    let context = input.context;
    const uid = user.user_id;
    persisted.uid = uid;
    let prevA = O.create(null), prevI = O.create(null);
    const attrA = O.create(null), attrI = O.create(null);
    let scopeWas = 'undefined', scopeBy = -1; // the last Rule that changed context.accessToken.scope
    for (let i = 0; i < scripts.length; i++) {
      const s = scripts[i];
      if (s.kind !== 0) continue;
      enter(i);
      const r = await callRule(s.value, user, context);
      if (r.threw || r.err) { // a thrown `null`, `0` or `''` is still a failure
        const d = describe(r.err);
        if (isOom(out, r.err, d)) { out.oom = i; return false; }
        out.stack = d.stack;
        out.v = [r.err instanceof UnauthorizedError || d.name === 'UnauthorizedError' ? 'unauth' : 'deny', d.message];
        out.threw = r.threw === true; // a throw, not `callback(err)`
        return false;
      }
      out.ran.push(s.name);
      if (r.user !== null && typeof r.user === 'object') user = r.user;
      if (r.context !== null && typeof r.context === 'object') context = r.context;
      prevA = snapshot(tokenObject(context.accessToken), prevA, attrA, i, 'scope');
      const scopeNow = String(jstringify(tokenObject(context.accessToken).scope));
      if (scopeNow !== scopeWas) { scopeWas = scopeNow; scopeBy = i; }
      prevI = snapshot(tokenObject(context.idToken), prevI, attrI, i, undefined);
    }
    const at = tokenObject(context.accessToken);
    emitRuleClaims(out.access, prevA, attrA);
    emitRuleClaims(out.id, prevI, attrI);
    if (hasOwn(at, 'scope') && at.scope !== undefined) {
      const sc = typeof at.scope === 'string' ? at.scope.split(' ').filter((x) => x) : at.scope;
      if (isArray(sc) && sc.every((x) => typeof x === 'string')) out.scopes.push(['replace', sc, scopeBy]);
      else hx().log(3, 'context.accessToken.scope ignored: it must be an array of strings');
    }
    // Account linking: a Rule that points `context.primaryUser` at another user makes the token's
    // `sub` that user (the grant checks that the user exists).
    const pu = context.primaryUser;
    if (typeof pu === 'string' && pu !== '' && pu !== uid) out.primary = pu;
    if (context.redirect) out.redirect = 'A Rule set context.redirect, but the token endpoint cannot redirect the user';
    // As `api.multifactor.enable('none')`: provider `none` asks for no MFA.
    const mf = context.multifactor;
    if (mf && !(typeof mf === 'object' && mf.provider === 'none')) out.mfa = true;
    return true;
  }

  // ---- Actions -------------------------------------------------------------------------------------------------
  const needString = (what, v) => { if (typeof v !== 'string') throw new TE(what + ' must be a string'); };
  // Auth0 Actions limit: metadata changes persisted per login, per object (spec S3).
  const MAX_METADATA = 32 * 1024;
  // The running Action's state: {i, out, meta, evMeta, deny}. Each Action's `api` is built and
  // frozen once per context; its methods act on `L` only while that Action runs (a call from
  // floating work after the Action finished throws).
  let L = null;
  function state(i) {
    if (L === null || L.i !== i) throw new Err('api used after its Action finished');
    return L;
  }
  // A method of Action `i`'s `api`: `f(state, ...args)` while that Action runs, then `api` back.
  // These builders are shared by the Actions (not closures made per Action).
  const chain = (i, api, f) => freeze(function (...a) { f(state(i), ...a); return api; });
  const claim = (i, api, list) => chain(i, api, (l, k, v) => {
    needString('claim key', k);
    const s = claimJson(v, k);
    if (s !== undefined) l.out[list].push([i, k, s]);
  });
  // `undefined` changes nothing (it never deletes a stored key); `null` deletes the key.
  const metadata = (i, api, target, what) => chain(i, api, (l, k, v) => {
    needString('metadata key', k);
    if (badKey(k)) throw new TE('metadata keys must not contain "." or "$": ' + k);
    if (typeof v === 'function' || typeof v === 'symbol') throw new TE('metadata values must be JSON');
    if (v === undefined) return;
    const pending = l.out[target];
    const had = hasOwn(pending, k), before = pending[k];
    pending[k] = jparse(jstringify(v));
    if (jstringify(pending).length > MAX_METADATA) {
      if (had) pending[k] = before; else delete pending[k];
      throw new RE(what + ' changes in one login are limited to ' + MAX_METADATA / 1024 + ' KB (Auth0 Actions limit): ' + k);
    }
    l.out.metaBy.push([i, target, k]); // who set it, for `claimsmith test`
  });
  // The namespaces few Actions use are built by api.js, run in a context on the first use of one
  // of them: the shim's code, which every strict context reads and frees, holds only the common ones.
  let apiLib = null;
  const more = () => apiLib || (apiLib = host.library('api')({ host: hx(), chain, claim, state, needString, freeze, jparse,
    P, Err, TE, RE, isArray, keys, Str, NaNv: NaN, isFinite, isInteger, isSafeInteger, metadata,
    refreshing: () => refreshing }));
  // The namespaces of an Action's `api` are built on first use (most Actions touch two or three
  // of the thirteen): `api` is frozen, its namespaces are getters that build and freeze the
  // namespace object once, then return that same object.
  function makeApi(i) {
    let access, accessToken, idToken, user, cache, transaction, multifactor, redirect, rules,
      samlResponse, session, prompt, authentication, refreshToken, validation, groups, roles;
    const api = freeze({
      get access() {
        return access || (access = freeze({ deny: chain(i, api, (l, reason) => { needString('deny reason', reason); if (l.deny === null) l.deny = reason; }) }));
      },
      get accessToken() {
        return accessToken || (accessToken = freeze({
          setCustomClaim: claim(i, api, 'access'),
          addScope: chain(i, api, (l, s) => { needString('scope', s); l.out.scopes.push(['add', s, i]); }),
          removeScope: chain(i, api, (l, s) => { needString('scope', s); l.out.scopes.push(['remove', s, i]); }),
        }));
      },
      get idToken() { return idToken || (idToken = freeze({ setCustomClaim: claim(i, api, 'id') })); },
      get user() {
        return user || (user = freeze({ setAppMetadata: metadata(i, api, 'app', 'app_metadata'), setUserMetadata: metadata(i, api, 'user', 'user_metadata') }));
      },
      get cache() { return cache || (cache = more().cache(i)); },
      get transaction() { return transaction || (transaction = more().transaction(i, api)); },
      get multifactor() { return multifactor || (multifactor = more().multifactor(i, api)); },
      get redirect() { return redirect || (redirect = more().redirect(i, api)); },
      get rules() {
        return rules || (rules = freeze({ wasExecuted: freeze((name) => { needString('rule name', name); return state(i).out.ran.indexOf(name) >= 0; }) }));
      },
      get samlResponse() { return samlResponse || (samlResponse = more().samlResponse(i, api)); },
      get session() { return session || (session = more().session(i, api)); },
      get prompt() { return prompt || (prompt = more().prompt(i, api)); },
      get authentication() { return authentication || (authentication = more().authentication(i, api)); },
      get refreshToken() { return refreshToken || (refreshToken = more().refreshToken(i, api)); },
      get validation() { return validation || (validation = more().validation(i, api)); },
      get groups() { return groups || (groups = more().groups(i, api)); },
      get roles() { return roles || (roles = more().roles(i, api)); },
    });
    return api;
  }
  // `event` is a deep copy per Action, built lazily: each top-level section is parsed from its
  // JSON text on first access (then it is an ordinary data property), so an Action pays only for
  // what it reads. Assigning a section replaces it as usual.
  const own = (o, k, v) => defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  // One shared accessor pair per section name (no closures per login): the event's JSON texts
  // live in a WeakMap keyed by the event object.
  const PARTS = new WeakMap();
  const descriptors = {};
  function descriptor(k) {
    let d = descriptors[k];
    if (d === undefined) {
      d = freeze({
        get() {
          const p = PARTS.get(this);
          if (p === undefined) throw new TE('not an event');
          const v = jparse(p.json[k]);
          if (k === 'transaction' && v !== null && typeof v === 'object') v.metadata = p.evMeta;
          own(this, k, v);
          return v;
        },
        set(v) { own(this, k, v); },
        enumerable: true,
        configurable: true,
      });
      descriptors[k] = d;
    }
    return d;
  }
  const secretsJson = {};
  for (const k of keys(cfg.secrets)) secretsJson[k] = jstringify(cfg.secrets[k]);
  // The Actions of trigger `t` (TRIGGERS), in order, each on its own lazily parsed copy of the
  // event. A deny or a stop ends the trigger.
  async function runActions(out, parts, t) {
    const meta = {};
    for (let i = 0; i < scripts.length; i++) {
      const s = scripts[i];
      if (s.kind !== 1 || !(s.on & (1 << t))) continue;
      enter(i);
      const evMeta = {};
      for (const k of keys(meta)) evMeta[k] = meta[k];
      const event = {};
      const json = {};
      for (let p = 0; p + 1 < parts.length; p += 2) {
        const k = parts[p];
        if (k === 'secrets') {
          const sj = hasOwn(secretsJson, s.name) ? secretsJson[s.name] : secretsJson['\u0000shared'];
          json[k] = sj === undefined ? '{}' : sj;
        } else {
          json[k] = parts[p + 1];
        }
        defineProperty(event, k, descriptor(k));
      }
      if (t !== 1) json.user = userWithMetadata(json.user, out);
      PARTS.set(event, { json, evMeta });
      const l = { i, out, meta, evMeta, deny: null, stop: null };
      L = l;
      try {
        await s.value.exports[TRIGGERS[t]](event, s.apis[t]);
      } catch (e) {
        failure(out, e);
        return;
      } finally {
        L = null;
      }
      if (l.deny !== null) { out.v = t === 0 ? ['deny', l.deny] : [DENY[t], l.deny[0], l.deny[1]]; return; }
      if (l.stop !== null) { out.v = l.stop; return; }
    }
  }
  // `event.user` as the next Action sees it: what a Rule persisted, then the pending
  // `api.user.set*Metadata` changes of earlier Actions (Auth0 hands them on; revised Decision).
  function userWithMetadata(text, out) {
    const pa = persisted.app, pu = persisted.user;
    if (!keys(pa).length && !keys(pu).length && !keys(out.app).length && !keys(out.user).length) return text;
    const u = jparse(text);
    if (u === null || typeof u !== 'object') return text;
    for (const [k, a, b] of [['app_metadata', pa, out.app], ['user_metadata', pu, out.user]]) {
      const m = u[k] !== null && typeof u[k] === 'object' ? u[k] : (u[k] = {});
      mergeInto(m, a);
      mergeInto(m, b);
    }
    return jstringify(u);
  }

  // The verdict of a trigger's `api.access.deny` (outcome.rs); post-login's has one text.
  const DENY = [null, 'cx_deny', 'reg_deny', 'reg_deny'];
  // trigger: 0 post-login (Rules, then Actions); the others run Actions only (TRIGGERS).
  let refreshing = false; // this login is a refresh exchange (its event has refresh_token)
  async function run(eventParts, rulesJson, trigger) {
    refreshing = eventParts.indexOf('refresh_token') >= 0;
    const out = { at: -1, v: ['allow'], access: [], id: [], scopes: [], app: {}, user: {}, mfa: false, redirect: null, primary: null, ran: [], rt: [], stack: '', oom: -1, nullThrow: false, metaBy: [], mfaBy: -1, redirectBy: -1, vBy: -1 };
    persisted = { uid: null, app: {}, user: {} };
    let go = true;
    if (trigger === 0 && rulesJson) go = await runRules(out, rulesJson);
    if (go) await runActions(out, eventParts, trigger);
    out.at = cur;
    // The script whose call decided the verdict (-1: a Rule's context, or none): a refusal ends
    // the run in its script; MFA and redirects are asked for earlier.
    if (out.v[0] === 'allow') {
      if (out.redirect !== null) { out.v = ['redirect', out.redirect]; out.vBy = out.redirectBy; }
      else if (out.mfa) { out.v = ['mfa']; out.vBy = out.mfaBy; }
    } else out.vBy = cur;
    // Rust reads `out` field by field (outcome.rs); the metadata, usually empty, as JSON text.
    out.app = keys(out.app).length ? jstringify(out.app) : null;
    out.user = keys(out.user).length ? jstringify(out.user) : null;
    out.rt = out.rt.length ? jstringify(out.rt) : null;
    return out;
  }
  return freeze({ add, run, timers });
}
