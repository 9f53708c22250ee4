//! The command line, declared with clap. Every command but `serve` prints a table on success, or
//! with `--json` one JSON document for scripts; errors go to stderr with a non-zero exit code.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Overrides;

/// claimsmith: an Auth0-compatible token server that runs your Rules and Actions.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true, env = "CLAIMSMITH_CONFIG")]
    pub config: Option<PathBuf>,
    /// SQLite database file [default: ./claimsmith.db].
    #[arg(long, global = true)]
    pub db: Option<PathBuf>,
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, global = true)]
    pub log_json: bool,
    /// Print the command's result as one JSON document (for scripts) instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the token server.
    Serve(Serve),
    /// Manage users.
    #[command(subcommand)]
    Users(Users),
    /// Manage clients (applications).
    #[command(subcommand)]
    Clients(Clients),
    /// Manage APIs (resource servers, the `audience` of tokens).
    #[command(subcommand)]
    Apis(Apis),
    /// Manage roles.
    #[command(subcommand)]
    Roles(Roles),
    /// Manage organizations.
    #[command(subcommand)]
    Orgs(Orgs),
    /// Manage database connections (the `realm` of a login).
    #[command(subcommand)]
    Connections(Connections),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(Keys),
    /// Run the Rules and Actions on an event (or every `*.test.json` case), without a server.
    Test(crate::dev::TestArgs),
    /// Write TypeScript declarations for scripts (event, api, user, context, globals) to stdout.
    Typings,
    /// Recorded logins (`[debug] record`): turn a real login into a `claimsmith test` event.
    #[command(subcommand)]
    Logins(Logins),
}

#[derive(Debug, Args)]
pub struct Serve {
    /// Seed a demo API, client and user, and print a ready curl command.
    #[arg(long)]
    pub demo: bool,
    /// Address to listen on [default: 127.0.0.1:3000].
    #[arg(long)]
    pub listen: Option<String>,
    /// Issuer URL [default: http://<listen>/].
    #[arg(long)]
    pub issuer: Option<String>,
    /// Folder of post-login Actions [default: ./actions].
    #[arg(long)]
    pub actions: Option<PathBuf>,
    /// Folder of Rules [default: ./rules].
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// TLS certificate chain (PEM).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Allow plain HTTP on a non-loopback address (a TLS-terminating proxy is in front).
    #[arg(long)]
    pub insecure_http: bool,
}

#[derive(Debug, Subcommand)]
pub enum Users {
    /// Create a user.
    Add(UserAdd),
    /// Import users from Auth0's bulk user import JSON.
    Import {
        file: PathBuf,
        /// Connection to import into [default: the default connection].
        #[arg(long)]
        connection: Option<String>,
    },
    /// List users.
    List,
    /// Show a user, with its roles.
    Show(UserPick),
    /// Delete a user, with its roles, memberships and refresh tokens.
    Remove(UserPick),
    /// Set a user's password, read from the first line of standard input.
    SetPassword {
        #[command(flatten)]
        who: UserPick,
        /// Required: the password is never taken on the command line, where `ps` shows it.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Change a user's name, blocked state or metadata (merged one level deep; `null` deletes a key).
    Update(UserUpdate),
    /// Block a user.
    Block(UserPick),
    /// Unblock a user.
    Unblock(UserPick),
}

#[derive(Debug, Args)]
pub struct UserAdd {
    #[arg(long, required_unless_present = "username")]
    pub email: Option<String>,
    #[arg(long)]
    pub username: Option<String>,
    /// Password (hashed with argon2id). Visible to other users in `ps`: prefer --password-stdin.
    #[arg(
        long,
        required_unless_present_any = ["password_hash", "password_stdin"],
        conflicts_with_all = ["password_hash", "password_stdin"]
    )]
    pub password: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long, conflicts_with = "password_hash")]
    pub password_stdin: bool,
    /// An existing bcrypt or argon2 hash.
    #[arg(long)]
    pub password_hash: Option<String>,
    /// Connection [default: the default connection].
    #[arg(long)]
    pub connection: Option<String>,
    #[arg(long)]
    pub email_verified: bool,
    #[arg(long)]
    pub name: Option<String>,
    /// JSON object.
    #[arg(long)]
    pub app_metadata: Option<String>,
    /// JSON object.
    #[arg(long)]
    pub user_metadata: Option<String>,
}

#[derive(Debug, Args)]
pub struct UserUpdate {
    #[command(flatten)]
    pub who: UserPick,
    #[arg(long)]
    pub name: Option<String>,
    /// true or false.
    #[arg(long)]
    pub blocked: Option<bool>,
    /// JSON object merged into app_metadata (`null` deletes a key).
    #[arg(long)]
    pub app_metadata: Option<String>,
    /// JSON object merged into user_metadata (`null` deletes a key).
    #[arg(long)]
    pub user_metadata: Option<String>,
}

#[derive(Debug, Args)]
pub struct UserPick {
    /// The user's email (or username).
    #[arg(long, required_unless_present = "user", conflicts_with = "user")]
    pub email: Option<String>,
    /// The user's id (auth0|...).
    #[arg(long)]
    pub user: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Clients {
    /// Create a client; prints its client_secret once.
    Add {
        #[arg(long)]
        name: String,
        /// Grant types it may use (repeat) [default: password].
        #[arg(long = "grant")]
        grants: Vec<String>,
        /// A public client: no secret.
        #[arg(long)]
        public: bool,
        /// JSON object of string values (client metadata).
        #[arg(long)]
        metadata: Option<String>,
        /// Trust its `auth0-forwarded-for` header as the end user's IP (a backend that logs users
        /// in for them); confidential clients only.
        #[arg(long, conflicts_with = "public")]
        trusted_forwarded_for: bool,
    },
    /// List clients (never their secrets).
    List,
    /// Show a client, with its connections.
    Show {
        /// The client id (it may start with `-`).
        #[arg(long, allow_hyphen_values = true)]
        client: String,
    },
    /// Delete a client, with its grants and refresh tokens.
    Remove {
        /// The client id (it may start with `-`).
        #[arg(long, allow_hyphen_values = true)]
        client: String,
    },
    /// Give a confidential client a new secret, printed once; the old one stops working at once.
    RotateSecret {
        /// The client id (it may start with `-`).
        #[arg(long, allow_hyphen_values = true)]
        client: String,
    },
    /// Change a client's settings.
    Update {
        /// The client id (it may start with `-`).
        #[arg(long, allow_hyphen_values = true)]
        client: String,
        /// Trust (true) or ignore (false) its `auth0-forwarded-for` header.
        #[arg(long, action = clap::ArgAction::Set)]
        trusted_forwarded_for: bool,
    },
    /// Let a client log users in through a connection.
    EnableConnection {
        /// The client id (it may start with `-`).
        #[arg(long, allow_hyphen_values = true)]
        client: String,
        #[arg(long)]
        connection: String,
    },
    /// Stop a client logging users in through a connection.
    DisableConnection {
        /// The client id (it may start with `-`).
        #[arg(long, allow_hyphen_values = true)]
        client: String,
        #[arg(long)]
        connection: String,
    },
    /// Let a client get client-credentials tokens for an API (Auth0's client grant); replaces an
    /// earlier grant for the same API.
    Grant {
        /// The client id (it may start with `-`).
        #[arg(long, allow_hyphen_values = true)]
        client: String,
        /// The API's identifier.
        #[arg(long)]
        audience: String,
        /// A scope of the API it may get (repeat).
        #[arg(long = "scope")]
        scopes: Vec<String>,
    },
    /// Remove a client grant.
    RevokeGrant {
        /// The client id (it may start with `-`).
        #[arg(long, allow_hyphen_values = true)]
        client: String,
        #[arg(long)]
        audience: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum Apis {
    /// Register an API.
    Add {
        /// The audience.
        #[arg(long)]
        identifier: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, default_value = "RS256", value_parser = ["RS256", "ES256", "EdDSA"])]
        alg: String,
        /// Access token lifetime in seconds.
        #[arg(long, default_value_t = 86_400)]
        lifetime: u64,
        #[arg(long)]
        offline_access: bool,
        /// Limit API scopes to the user's permissions.
        #[arg(long)]
        rbac: bool,
        /// Add a `permissions` claim to access tokens.
        #[arg(long)]
        permissions_in_token: bool,
        /// A scope (permission) the API defines (repeat).
        #[arg(long = "scope")]
        scopes: Vec<String>,
    },
    /// List APIs.
    List,
    /// Show an API.
    Show {
        #[arg(long)]
        identifier: String,
    },
    /// Delete an API, with its scopes, the permissions granted on it and its client grants.
    Remove {
        #[arg(long)]
        identifier: String,
    },
    /// Change an API's settings; what is not given stays as it is.
    Update(ApiUpdate),
}

#[derive(Debug, Args)]
pub struct ApiUpdate {
    #[arg(long)]
    pub identifier: String,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long, value_parser = ["RS256", "ES256", "EdDSA"])]
    pub alg: Option<String>,
    /// Access token lifetime in seconds.
    #[arg(long)]
    pub lifetime: Option<u64>,
    /// true or false.
    #[arg(long)]
    pub offline_access: Option<bool>,
    /// true or false.
    #[arg(long)]
    pub rbac: Option<bool>,
    /// true or false.
    #[arg(long)]
    pub permissions_in_token: Option<bool>,
    /// Add a scope (repeat).
    #[arg(long = "add-scope")]
    pub add_scopes: Vec<String>,
    /// Remove a scope (repeat); roles and users granted it lose it.
    #[arg(long = "remove-scope")]
    pub remove_scopes: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum Roles {
    /// Create a role.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// API whose scopes `--permission` names.
        #[arg(long, requires = "permissions")]
        api: Option<String>,
        /// A permission of `--api` the role grants (repeat).
        #[arg(long = "permission", requires = "api")]
        permissions: Vec<String>,
    },
    /// List roles with their permissions.
    List,
    /// Show a role.
    Show {
        /// Name or id.
        #[arg(long)]
        role: String,
    },
    /// Delete a role; users holding it lose it.
    Remove {
        /// Name or id.
        #[arg(long)]
        role: String,
    },
    /// Give a user a role.
    Assign {
        #[arg(long)]
        role: String,
        /// Email or user id.
        #[arg(long)]
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum Orgs {
    /// Create an organization.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        display_name: Option<String>,
        /// JSON object.
        #[arg(long)]
        metadata: Option<String>,
    },
    /// List organizations.
    List,
    /// Show an organization, with its members.
    Show {
        /// Name or id.
        #[arg(long)]
        org: String,
    },
    /// Delete an organization and its memberships (not the users).
    Remove {
        /// Name or id.
        #[arg(long)]
        org: String,
    },
    /// Add a member.
    AddMember {
        /// Organization name or id.
        #[arg(long)]
        org: String,
        /// Email or user id.
        #[arg(long)]
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum Connections {
    /// Create a database connection, or change one's metadata and options.
    Set {
        #[arg(long)]
        name: String,
        /// JSON object, replacing the stored one: `event.connection.metadata`, Rules'
        /// `context.connectionMetadata`.
        #[arg(long)]
        metadata: Option<String>,
        /// JSON object, replacing the stored one: Rules' `context.connectionOptions`.
        #[arg(long)]
        options: Option<String>,
    },
    /// List connections, with how many users each has.
    List,
    /// Show a connection.
    Show {
        #[arg(long)]
        name: String,
    },
    /// Delete a connection; refused while it has users, unless `--force` deletes them too.
    Remove {
        #[arg(long)]
        name: String,
        /// Also delete the connection's users (and their tokens, roles, memberships).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum Keys {
    /// List signing keys: kid, algorithm, state (never the private key).
    List,
    /// Generate a new signing key; the old one stays published (restart to take effect).
    Rotate {
        #[arg(long, default_value = "RS256", value_parser = ["RS256", "ES256", "EdDSA"])]
        alg: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum Logins {
    /// List the recorded logins, newest first.
    List,
    /// Show a recorded login with its event; `--as-event` prints only the event, a test case.
    Show {
        /// Its id, from `logins list`.
        id: i64,
        #[arg(long)]
        as_event: bool,
    },
}

impl Cli {
    /// The configuration overrides given on the command line.
    pub fn overrides(&self) -> Overrides {
        let mut o = Overrides {
            db: self.db.clone(),
            log_json: self.log_json,
            ..Overrides::default()
        };
        if let Command::Serve(s) = &self.command {
            o.listen = s.listen.clone();
            o.issuer = s.issuer.clone();
            o.actions = s.actions.clone();
            o.rules = s.rules.clone();
            o.tls_cert = s.tls_cert.clone();
            o.tls_key = s.tls_key.clone();
            o.insecure_http = s.insecure_http;
        }
        if let Command::Test(t) = &self.command {
            o.actions = t.actions.clone();
            o.rules = t.rules.clone();
        }
        o
    }
}
