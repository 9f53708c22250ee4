// claimsmith's `require` machinery: Node's CommonJS over the set's module table (library.rs,
// resolve.rs), for the shim's `require` functions.
//
// Compiled once to bytecode as global code whose value is the factory below, and run in a
// context on its first `require` call (shim.js `rlib`): most logins never call `require`, and
// carrying this code in the shim cost every strict context its reading and freeing. `d` holds
// what the shim captured before any script ran (the host functions among them, kept in this
// closure as in the shim's).
(function (d) {
  'use strict';
  const { host, harden, freeze, freezeAll, Err, TE, jparse, format, inspect, Map } = d;
  // One module cache per context, as Node's `require.cache`: a module's state is shared by the
  // scripts of a login and, in a warm context, by its later logins; strict starts empty each time.
  const modCache = new Map();
  function unavailable(name) {
    const e = new Err("The Node.js module '" + name + "' is not available in claimsmith");
    e.code = 'MODULE_NOT_FOUND'; // as a missing module: optional-dependency probes catch it
    return e;
  }
  // Built-ins (modules.rs, src/script/node/): each run once per context, frozen when warm like
  // the globals. Their own `require` also reaches claimsmith's internal modules.
  const consoleApi = () => freeze({ format: (...a) => format(a), inspect: (v, o) => inspect(v, o) });
  const builtinRequire = freeze(function require(id) {
    if (id === 'claimsmith:console') return consoleApi();
    if (id === 'claimsmith:crypto-host') return host.cryptoHost(); // only node/crypto.js asks
    return builtin(id.startsWith('node:') ? id.slice(5) : id);
  });
  function builtin(name) {
    const key = 'node:' + name;
    const cached = modCache.get(key);
    if (cached !== undefined) return cached.exports;
    const f = host.builtin(name);
    if (f === undefined) throw unavailable(name);
    const m = { id: key, path: '/', filename: key, loaded: false, exports: {}, children: [], paths: [] };
    modCache.set(key, m);
    let ok = false;
    try {
      f.call(m.exports, m.exports, builtinRequire, m, key, '/');
      ok = true;
    } finally {
      if (!ok) modCache.delete(key);
    }
    if (harden) freezeAll([m.exports]);
    m.loaded = true;
    return m.exports;
  }
  // `host.resolve` answers `F<path>`, `B<built-in>` or `E<code>\n<message>`.
  function resolveId(dir, id, versioned) {
    if (typeof id !== 'string') throw new TE('The "id" argument must be of type string. Received ' + (id === null ? 'null' : typeof id));
    if (id === '') throw new TE("The argument 'id' must be a non-empty string. Received ''");
    const r = host.resolve(dir, id, versioned);
    if (r.charCodeAt(0) === 69) {
      const nl = r.indexOf('\n'), e = new Err(r.slice(nl + 1));
      e.code = r.slice(1, nl);
      throw e;
    }
    return r;
  }
  // What each name resolved to from each folder: a `require` inside a handler runs every login,
  // and the answer cannot change within the set this context holds.
  const folders = new Map();
  function find(dir, versioned, id) {
    const key = (versioned ? 'v' : 'u') + dir;
    let resolved = folders.get(key);
    if (resolved === undefined) folders.set(key, (resolved = new Map()));
    let r = resolved.get(id);
    if (r === undefined) resolved.set(id, (r = resolveId(dir, id, versioned)));
    return r;
  }
  function load(dir, versioned, id) {
    const r = find(dir, versioned, id);
    if (r.charCodeAt(0) === 66) return builtin(r.slice(1));
    const path = r.slice(1);
    const cached = modCache.get(path);
    if (cached !== undefined) return cached.exports;
    const d = path.slice(0, path.lastIndexOf('/')) || '/';
    const m = { id: path, path: d, filename: path, loaded: false, exports: {}, children: [], paths: [] };
    modCache.set(path, m); // before running it: a cycle sees the partial exports, as in Node
    let ok = false;
    try {
      const f = host.module(path);
      if (typeof f === 'string') {
        try { m.exports = jparse(f); } catch (e) { e.message = path + ': ' + e.message; throw e; }
      } else {
        f.call(m.exports, m.exports, makeRequire(d), m, path, d);
      }
      ok = true;
    } finally {
      if (!ok) modCache.delete(path);
    }
    m.loaded = true;
    return m.exports;
  }
  const resolve = (dir, versioned, id) => find(dir, versioned, id).slice(1);
  // A module's own `require` (as the shim's, for a script).
  function makeRequire(dir) {
    const req = function require(id) { return load(dir, false, id); };
    req.resolve = freeze(function resolve(id) { return find(dir, false, id).slice(1); });
    return freeze(req);
  }
  return { require: load, resolve };
})
