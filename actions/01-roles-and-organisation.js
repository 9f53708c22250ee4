/**
 * Puts the user's roles, role and organisation id into the access token.
 * The organisation comes from the login's organization when there is one, else from
 * app_metadata.organisation_id, as backends migrating from Auth0 keep it.
 */
exports.onExecutePostLogin = async (event, api) => {
  const namespace = 'https://claimsmith.dev/';
  const app = event.user.app_metadata || {};

  if (event.authorization) {
    api.accessToken.setCustomClaim(namespace + 'roles', event.authorization.roles);
  }
  const organisationId = (event.organization && event.organization.id) || app.organisation_id;
  if (organisationId) {
    api.accessToken.setCustomClaim(namespace + 'organisation_id', organisationId);
  }
  if (app.role) {
    api.accessToken.setCustomClaim(namespace + 'role', app.role);
  }
};
