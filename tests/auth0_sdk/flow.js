// Auth0's own Node SDK (`auth0` v4, from tests/npm's lockfile) drives a backend's flow against
// claimsmith exactly as it would against an Auth0 tenant, with only the domain changed: the
// ManagementClient gets its own token by client credentials, creates an organization and a user
// with metadata on the database connection (the organization's id in its app_metadata), creates
// a role and gives it to the user, adds the user to the organization, reads all of it back and
// updates the user, then the AuthenticationClient logs the user in with the password grant.
// Prints one JSON document (the ids and the access token); tests/it/auth0_sdk.rs verifies the
// token against the server's JWKS.
'use strict';
const { ManagementClient, AuthenticationClient } = require('auth0');

async function main() {
  const [domain, m2mId, m2mSecret, appId, appSecret, audience, connection, orgName] = process.argv.slice(2);
  const management = new ManagementClient({ domain, clientId: m2mId, clientSecret: m2mSecret });
  const email = 'sdk-user@example.com';
  const password = 'Sdk-Passw0rd!';
  const { data: org } = await management.organizations.create({ name: orgName, display_name: 'Acme' });
  const { data: user } = await management.users.create({
    connection,
    email,
    password,
    email_verified: true,
    user_metadata: { city: 'Utrecht', province: 'Utrecht' },
    app_metadata: { role: 'editor', organisation_id: org.id },
  });
  const { data: role } = await management.roles.create({ name: 'editor', description: 'Edits things' });
  await management.users.assignRoles({ id: user.user_id }, { roles: [role.id] });
  await management.organizations.addMembers({ id: org.id }, { members: [user.user_id] });
  const { data: roles } = await management.users.getRoles({ id: user.user_id });
  const { data: byEmail } = await management.usersByEmail.getByEmail({ email });
  const { data: found } = await management.users.getAll({ q: `email:"${email}"`, search_engine: 'v3', include_totals: true });
  const { data: members } = await management.organizations.getMembers({ id: org.id });
  await management.users.update({ id: user.user_id }, { user_metadata: { city: 'Utrecht' }, name: 'Sdk User' });
  const { data: allRoles } = await management.roles.getAll();
  const { data: orgs } = await management.organizations.getAll();
  const { data: stored } = await management.users.get({ id: user.user_id });

  const auth = new AuthenticationClient({ domain, clientId: appId, clientSecret: appSecret });
  const { data: tokens } = await auth.oauth.passwordGrant({ username: email, password, audience, scope: 'openid email' });
  return {
    orgId: org.id,
    userId: user.user_id,
    roleId: role.id,
    roles: roles.map((r) => r.name),
    byEmail: byEmail.map((u) => u.user_id),
    found: { total: found.total, ids: found.users.map((u) => u.user_id) },
    members: members.map((m) => m.user_id),
    allRoles: allRoles.map((r) => r.name),
    orgs: orgs.map((o) => o.name),
    name: stored.name,
    metadata: { user: stored.user_metadata, app: stored.app_metadata },
    accessToken: tokens.access_token,
  };
}

main().then((r) => console.log(JSON.stringify(r)), (e) => { console.error((e && e.stack) || e); process.exit(1); });
