// A real OpenID Connect client nobody here wrote (openid-client 5, from tests/npm's lockfile) logs
// in to claimsmith as an application would: discovery, the password grant, a refresh, client
// credentials and a revocation. openid-client validates the refreshed ID token itself (signature
// through the JWKS, iss, aud, exp, the same sub); the other tokens are verified here with jose
// against the same JWKS.
// Prints one JSON document; tests/it/oauth_clients.rs checks it.
'use strict';
const { Issuer } = require('openid-client');
const { createRemoteJWKSet, jwtVerify } = require('jose');

async function main() {
  const [base, id, secret, m2mId, m2mSecret, username, password, api] = process.argv.slice(2);
  const issuer = await Issuer.discover(base);
  const jwks = createRemoteJWKSet(new URL(issuer.metadata.jwks_uri));
  const verify = async (token) =>
    (await jwtVerify(token, jwks, { issuer: issuer.metadata.issuer, audience: api })).payload;
  const pick = (c) => ({ sub: c.sub, scope: c.scope, gty: c.gty, azp: c.azp });

  const app = new issuer.Client({ client_id: id, client_secret: secret, token_endpoint_auth_method: 'client_secret_post' });
  const login = await app.grant({ grant_type: 'password', username, password, audience: api, scope: 'openid profile offline_access read:x' });
  const idToken = (await jwtVerify(login.id_token, jwks, { issuer: issuer.metadata.issuer, audience: id })).payload;
  const refreshed = await app.refresh(login.refresh_token);
  const m2m = new issuer.Client({ client_id: m2mId, client_secret: m2mSecret }); // client_secret_basic
  const cc = await m2m.grant({ grant_type: 'client_credentials', audience: api });
  await app.revoke(refreshed.refresh_token, 'refresh_token');
  let afterRevoke = 'refreshed';
  try { await app.refresh(refreshed.refresh_token); } catch (e) { afterRevoke = e.error; }
  return {
    issuer: issuer.metadata.issuer,
    idToken: { sub: idToken.sub, aud: idToken.aud, name: idToken.name },
    password: pick(await verify(login.access_token)),
    refresh: { ...pick(await verify(refreshed.access_token)), idToken: refreshed.claims().sub, rotated: refreshed.refresh_token !== login.refresh_token },
    clientCredentials: pick(await verify(cc.access_token)),
    afterRevoke,
  };
}

main().then((r) => console.log(JSON.stringify(r)), (e) => { console.error((e && e.stack) || e); process.exit(1); });
