/**
 * Adds the user's email and id to the access token under a namespace, as Auth0's
 * "Add email to access token" rule does. Unchanged Auth0 Rules code.
 */
function addEmailToAccessToken(user, context, callback) {
  var namespace = 'https://claimsmith.dev/';
  context.accessToken[namespace + 'email'] = user.email;
  context.accessToken[namespace + 'user_id'] = user.user_id;
  return callback(null, user, context);
}
