// ---- The handlers, named as Auth0's editor names them (README "Typings"). ----

/** `exports.onExecutePostLogin = async (event, api) => {}` (README "Actions"). */
type onExecutePostLogin = (event: Event, api: PostLoginAPI) => Promise<void>;
/** `exports.onExecuteCredentialsExchange = async (event, api) => {}` (README "Client credentials"). */
type onExecuteCredentialsExchange = (event: CredentialsExchangeEvent, api: CredentialsExchangeAPI) => Promise<void>;
/** `exports.onExecutePreUserRegistration = async (event, api) => {}` (README "Registration Actions"). */
type onExecutePreUserRegistration = (event: PreUserRegistrationEvent, api: PreUserRegistrationAPI) => Promise<void>;
/** `exports.onExecutePostUserRegistration = async (event, api) => {}` (README "Registration Actions"). */
type onExecutePostUserRegistration = (event: PostUserRegistrationEvent, api: PostUserRegistrationAPI) => Promise<void>;

/** What an Action file exports (README "Files and order": the shape). */
interface ActionExports {
  onExecutePostLogin?: onExecutePostLogin;
  onExecuteCredentialsExchange?: onExecuteCredentialsExchange;
  onExecutePreUserRegistration?: onExecutePreUserRegistration;
  onExecutePostUserRegistration?: onExecutePostUserRegistration;
}
/** An Action file's `module`. */
interface ActionModule {
  exports: ActionExports;
}

/** A Rule: `function (user, context, callback) {}` (README "Rules"). */
type Rule = (user: User, context: Context, callback: Callback) => void;
/** `callback(null, user, context)` continues; `callback(error)` refuses the login. */
type Callback = (error?: unknown, user?: User, context?: Context) => void;
/** Rules' `configuration`: the `[scripts.configuration]` map, deeply frozen. */
type Configuration = Readonly<Record<string, string>>;
/** `auth0.users.updateAppMetadata` / `updateUserMetadata`: a Promise, or node-auth0's callback. */
interface UpdateMetadata {
  (userId: string, metadata: Record<string, unknown>): Promise<void>;
  (userId: string, metadata: Record<string, unknown>, callback: (error: Error | null) => void): undefined;
}
/** `callback(new UnauthorizedError(msg))` answers 401 `unauthorized`. */
interface UnauthorizedError extends Error {}
interface UnauthorizedErrorConstructor {
  new (message?: string): UnauthorizedError;
  readonly prototype: UnauthorizedError;
}

// ---- The built-in modules and the stand-ins of `require` (README "Modules"). ----
