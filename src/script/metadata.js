// claimsmith's `auth0.users.updateAppMetadata` / `updateUserMetadata` for Rules (shim.js `auth0`).
//
// Compiled once to bytecode as global code whose value is the factory below, and run in a
// context on the first call (shim.js `mlib`): few Rules update metadata, and carrying this code
// in the shim cost every strict context its reading and freeing. `d` holds what the shim
// captured before any script ran (`host` for `patch` among them) and `persisted()`, the running
// login's `{uid, app, user}` (metadata persisted for the user logging in, merged into the
// Actions' `event.user`).
(function (d) {
  'use strict';
  const { host, P, TE, Err, isArray, keys, badKey, jstringify, jparse, persisted } = d;
  // node-auth0's `users.updateAppMetadata(params, metadata, cb?)`: a Promise, or the callback
  // `cb(err)` when one is given (then it returns undefined, as node-auth0 v2 does).
  function patchUser(kind, id, obj, cb) {
    const p = new P((resolve, reject) => {
      if (typeof id !== 'string') throw new TE('auth0.users: the user id must be a string');
      if (obj === null || typeof obj !== 'object' || isArray(obj)) throw new TE('auth0.users: the metadata must be an object');
      for (const k of keys(obj)) if (badKey(k)) throw new Err('Fields with "." or "$" are not allowed: ' + k);
      const text = jstringify(obj);
      const failure = host.patch(kind, id, text);
      if (failure !== undefined && failure !== null) { reject(new Err(failure)); return; }
      const now = persisted();
      if (now !== null && id === now.uid) {
        const patch = jparse(text), into = kind === 0 ? now.app : now.user;
        for (const k of keys(patch)) into[k] = patch[k]; // a null is kept: it deletes in event.user
      }
      resolve();
    });
    if (typeof cb !== 'function') return p;
    p.then(() => cb(null), (e) => cb(e));
    return undefined;
  }
  return { patchUser };
})
