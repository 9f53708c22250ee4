// claimsmith's rarely used namespaces of an Action's `api`: everything but `access`,
// `accessToken`, `idToken`, `user` and `rules`, which stay in the shim.
//
// Compiled once to bytecode as global code whose value is the factory below, and run in a
// context on the first use of one of these namespaces (shim.js `more`): most logins use none,
// and carrying this code in the shim cost every strict context its reading and freeing. `d` holds
// what the shim captured before any script ran (`host` for the cache among them), and its
// builders: `chain(i, api, f)` makes a method of Action `i`'s `api`, `claim(i, api, list)` a
// `setCustomClaim`, `state(i)` is that Action's running state, `refreshing()` whether the login is
// a refresh exchange. Each function below builds one namespace of one Action, once (the shim keeps
// it); `cxApi` builds a credentials-exchange Action's whole `api`.
(function (d) {
  'use strict';
  const { host, chain, claim, state, needString, freeze, jparse, P, Err, TE, RE, isArray, keys, Str, NaNv, isFinite,
    isInteger, isSafeInteger, metadata, refreshing } = d;
  const MFA = ['none', 'guardian', 'google-authenticator', 'duo', 'any'];
  // The 25 `api.samlResponse` setters of Auth0's post-login API object page.
  const SAML_SETTERS = ['setAttribute', 'setAudience', 'setRecipient', 'setCreateUpnClaim',
    'setPassthroughClaimsWithNoMapping', 'setMapUnknownClaimsAsIs', 'setMapIdentities', 'setSignatureAlgorithm',
    'setDigestAlgorithm', 'setDestination', 'setLifetimeInSeconds', 'setSignResponse', 'setNameIdentifierFormat',
    'setNameIdentifierProbes', 'setAuthnContextClassRef', 'setSigningCert', 'setIncludeAttributeNameFormat',
    'setTypedAttributes', 'setEncryptionCert', 'setEncryptionPublicKey', 'setCert', 'setKey', 'setRelayState',
    'setIssuer', 'setEncryptionAlgorithm'];
  function cacheResult(json) { return jparse(json); }
  const noop = (api) => freeze(function () { return api; });
  const later = (what) => freeze(function () {
    return P.reject(new Err(what + ' is not available in claimsmith: read event.authorization.roles'));
  });
  function cache(i) {
    return freeze({
      get: freeze((k) => {
        state(i);
        needString('cache key', k);
        const r = host.cacheGet(k);
        return r === undefined || r === null ? undefined : cacheResult(r);
      }),
      set: freeze((k, v, opts) => {
        state(i);
        needString('cache key', k);
        needString('cache value', v);
        let ttl = NaNv, exp = NaNv;
        if (opts !== undefined && opts !== null) {
          if (typeof opts !== 'object') throw new TE('cache options must be an object');
          if (opts.ttl !== undefined) { if (typeof opts.ttl !== 'number') throw new TE('ttl must be a number'); ttl = opts.ttl; }
          if (opts.expires_at !== undefined) { if (typeof opts.expires_at !== 'number') throw new TE('expires_at must be a number'); exp = opts.expires_at; }
        }
        return cacheResult(host.cacheSet(k, v, ttl, exp));
      }),
      delete: freeze((k) => { state(i); needString('cache key', k); return cacheResult(host.cacheDelete(k)); }),
    });
  }
  function transaction(i, api) {
    return freeze({
      setMetadata: chain(i, api, (l, k, v) => {
        const meta = l.meta, evMeta = l.evMeta;
        needString('transaction metadata key', k);
        if (k.length > 64) throw new RE('transaction metadata keys are at most 64 characters');
        if (v === null || v === undefined) { delete meta[k]; delete evMeta[k]; return; }
        const t = typeof v;
        if (t === 'string') { if (v.length > 8192) throw new RE('transaction metadata values are at most 8 KB'); }
        else if (t === 'number') {
          if (!isFinite(v)) throw new TE('transaction metadata numbers must be finite');
          if (isInteger(v) && !isSafeInteger(v)) throw new RE('transaction metadata integers must be safe integers');
        } else if (t !== 'boolean') throw new TE('transaction metadata values must be strings, numbers or booleans');
        let total = 0;
        for (const key of keys(meta)) if (key !== k) total += key.length + Str(meta[key]).length;
        if (total + k.length + Str(v).length > 16384) throw new RE('transaction metadata is at most 16 KB in total');
        meta[k] = v;
        evMeta[k] = v;
      }),
    });
  }
  // The credentials-exchange `api` (Auth0's: access.deny(code, reason) with three codes,
  // accessToken.setCustomClaim, cache).
  const CX_CODES = ['invalid_scope', 'invalid_request', 'server_error'];
  function cxApi(i) {
    let access, accessToken, c;
    const api = freeze({
      get access() {
        return access || (access = freeze({
          deny: chain(i, api, (l, code, reason) => {
            needString('deny code', code);
            if (CX_CODES.indexOf(code) < 0) throw new TE('api.access.deny code must be one of ' + CX_CODES.join(', ') + ': ' + code);
            if (reason !== undefined) needString('deny reason', reason);
            if (l.deny === null) l.deny = [code, reason === undefined ? '' : reason];
          }),
        }));
      },
      get accessToken() { return accessToken || (accessToken = freeze({ setCustomClaim: claim(i, api, 'access') })); },
      get cache() { return c || (c = cache(i)); },
    });
    return api;
  }
  // `api.validation.error(code, message)`: post-login and pre-user-registration.
  function validation(i, api) {
    return freeze({
      error: chain(i, api, (l, code, message) => {
        needString('validation error code', code);
        needString('validation error message', message);
        if (l.stop === null) l.stop = ['validation', code, message];
      }),
    });
  }
  // The pre-user-registration `api` (Auth0's: access.deny(reason, userMessage), user.set*Metadata
  // aggregated into the user about to be stored, validation.error(code, message), cache).
  function preRegApi(i) {
    let access, user, v, c;
    const api = freeze({
      get access() {
        return access || (access = freeze({
          deny: chain(i, api, (l, reason, userMessage) => {
            needString('deny reason', reason);
            if (userMessage !== undefined) needString('deny userMessage', userMessage);
            if (l.deny === null) l.deny = [reason, userMessage === undefined ? '' : userMessage];
          }),
        }));
      },
      get user() {
        return user || (user = freeze({ setAppMetadata: metadata(i, api, 'app', 'app_metadata'), setUserMetadata: metadata(i, api, 'user', 'user_metadata') }));
      },
      get validation() { return v || (v = validation(i, api)); },
      get cache() { return c || (c = cache(i)); },
    });
    return api;
  }
  // The post-user-registration `api`: its cache only (the user is stored; nothing to refuse).
  function postRegApi(i) {
    let c;
    return freeze({ get cache() { return c || (c = cache(i)); } });
  }
  return {
    cxApi,
    preRegApi,
    postRegApi,
    cache,
    transaction,
    multifactor: (i, api) => freeze({
      enable: chain(i, api, (l, provider) => {
        needString('provider', provider);
        if (MFA.indexOf(provider) < 0) throw new TE('unknown multifactor provider: ' + provider);
        l.out.mfa = provider !== 'none';
        l.out.mfaBy = i;
      }),
    }),
    redirect: (i, api) => freeze({
      canRedirect: freeze(() => false),
      sendUserTo: chain(i, api, (l, url) => {
        needString('url', url);
        l.out.redirect = 'An Action called api.redirect.sendUserTo, but the token endpoint cannot redirect the user';
        l.out.redirectBy = i;
      }),
      encodeToken: freeze(() => { throw new Err('api.redirect.encodeToken is not available: the token endpoint cannot redirect'); }),
      validateToken: freeze(() => { throw new Err('api.redirect.validateToken is not available: the token endpoint cannot redirect'); }),
    }),
    samlResponse(i, api) {
      const o = {};
      for (const k of SAML_SETTERS) o[k] = noop(api);
      return freeze(o);
    },
    session: (i, api) => freeze({
      // Auth0: revoking the session denies the login; no later Action runs.
      revoke: chain(i, api, (l, reason) => { needString('revoke reason', reason); if (l.deny === null) l.deny = reason; }),
      setMetadata: noop(api), deleteMetadata: noop(api), evictMetadata: noop(api),
      setExpiresAt: noop(api), setIdleExpiresAt: noop(api), setCookieMode: noop(api),
    }),
    prompt: (i, api) => freeze({
      render: chain(i, api, (l, id) => {
        needString('prompt id', id);
        l.out.redirect = 'An Action called api.prompt.render, but the token endpoint cannot show a form';
        l.out.redirectBy = i;
      }),
    }),
    authentication(i, api) {
      // Auth0: the login cannot continue without a browser (an MFA challenge or enrollment): the
      // answer is `mfa_required` once this Action finishes; no later Action runs.
      const challenge = chain(i, api, (l) => { l.stop = ['mfa']; });
      return freeze({
        challengeWith: challenge, challengeWithAny: challenge, enrollWith: challenge, enrollWithAny: challenge,
        setPrimaryUser: chain(i, api, (l, id) => {
          needString('primary user id', id);
          if (id.length === 0 || id.length > 128) throw new RE('the primary user id must be 1 to 128 characters');
          if (l.out.primary !== null && l.out.primary !== id) throw new Err('api.authentication.setPrimaryUser may be called once per login');
          l.out.primary = id;
        }),
        recordMethod: noop(api),
      });
    },
    refreshToken(i, api) {
      // Applied by the grant (refresh.rs): revoke, the expiries and the metadata act on the
      // refresh token being exchanged and its successor; at a password login, the metadata
      // goes on the first token of the family (if one is issued) and the rest changes nothing.
      const at = (what) => chain(i, api, (l, ms) => {
        if (typeof ms !== 'number' || !isFinite(ms)) throw new TE(what + ' must be a number of milliseconds since the epoch');
        l.out.rt.push([what, ms]);
      });
      return freeze({
        // Auth0: only a refresh exchange has a token to revoke; elsewhere nothing happens.
        revoke: chain(i, api, (l, reason) => {
          needString('revoke reason', reason);
          if (!refreshing()) return;
          l.out.rt.push(['revoke']);
          if (l.deny === null) l.deny = reason;
        }),
        setExpiresAt: at('expiresAt'),
        setIdleExpiresAt: at('idleExpiresAt'),
        setMetadata: chain(i, api, (l, k, v) => {
          needString('refresh token metadata key', k);
          needString('refresh token metadata value', v);
          if (k.length > 255 || v.length > 255) throw new RE('refresh token metadata keys and values are at most 255 characters');
          l.out.rt.push(['set', k, v]);
        }),
        deleteMetadata: chain(i, api, (l, k) => { needString('refresh token metadata key', k); l.out.rt.push(['delete', k]); }),
        evictMetadata: chain(i, api, (l) => { l.out.rt.push(['evict']); }),
      });
    },
    validation,
    // claimsmith has no user groups: the user belongs to none.
    groups: () => freeze({
      getUserGroups: freeze(() => P.resolve({ groups: [] })),
      hasGroupMembership: freeze((g) => {
        if (!isArray(g)) throw new TE('groups must be an array of strings');
        return P.resolve({ isMember: false, groups: [] });
      }),
    }),
    roles: () => freeze({
      getUserEffectiveRoles: later('api.roles.getUserEffectiveRoles'),
      getUserEffectiveRolesByIds: later('api.roles.getUserEffectiveRolesByIds'),
      getUserEffectiveRolesByNames: later('api.roles.getUserEffectiveRolesByNames'),
    }),
  };
})
