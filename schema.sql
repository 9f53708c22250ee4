-- claimsmith schema, version 1. Applied at every start-up: every statement is idempotent, and the
-- store sets PRAGMA user_version = 1 once it has run. A later version adds a block guarded by
-- user_version in src/store/mod.rs; nothing here is ever edited in place.
--
-- Times are RFC 3339 UTC strings (as Auth0 writes them); JSON columns hold objects or arrays.

CREATE TABLE IF NOT EXISTS connections (
    id          TEXT PRIMARY KEY,                     -- con_<random>
    name        TEXT NOT NULL UNIQUE,                 -- the `realm`, e.g. Username-Password-Authentication
    strategy    TEXT NOT NULL DEFAULT 'auth0',
    metadata    TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL
    -- options  TEXT NOT NULL DEFAULT '{}': added by migration 2 (MIGRATIONS in src/store/mod.rs)
);

CREATE TABLE IF NOT EXISTS users (
    user_id             TEXT PRIMARY KEY,             -- auth0|<id>
    connection_id       TEXT NOT NULL REFERENCES connections(id),
    email               TEXT COLLATE NOCASE,
    username            TEXT COLLATE NOCASE,
    email_verified      INTEGER NOT NULL DEFAULT 0,
    name                TEXT,
    nickname            TEXT,
    given_name          TEXT,
    family_name         TEXT,
    picture             TEXT,
    phone_number        TEXT,
    password_hash       TEXT,                         -- bcrypt ($2a$/$2b$/$2y$) or argon2 PHC string
    app_metadata        TEXT NOT NULL DEFAULT '{}',
    user_metadata       TEXT NOT NULL DEFAULT '{}',
    blocked             INTEGER NOT NULL DEFAULT 0,
    logins_count        INTEGER NOT NULL DEFAULT 0,
    last_login          TEXT,
    last_ip             TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    last_password_reset TEXT,
    CHECK (email IS NOT NULL OR username IS NOT NULL)
);
CREATE UNIQUE INDEX IF NOT EXISTS users_email ON users(connection_id, email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS users_username ON users(connection_id, username) WHERE username IS NOT NULL;

CREATE TABLE IF NOT EXISTS clients (
    client_id    TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    secret_hash  TEXT,                                -- sha256:<hex>; NULL for a public client
    app_type     TEXT NOT NULL DEFAULT 'non_interactive', -- non_interactive | regular_web | spa | native
    grant_types  TEXT NOT NULL DEFAULT '[]',          -- JSON array of grant_type strings
    metadata     TEXT NOT NULL DEFAULT '{}',          -- string -> string, as Auth0's client metadata
    auth_method  TEXT NOT NULL DEFAULT 'client_secret_post', -- client_secret_post | client_secret_basic | none
    created_at   TEXT NOT NULL
);

-- APIs (resource servers): the identifier is the `audience`.
CREATE TABLE IF NOT EXISTS resource_servers (
    id                   TEXT PRIMARY KEY,
    identifier           TEXT NOT NULL UNIQUE,
    name                 TEXT NOT NULL,
    token_lifetime_s     INTEGER NOT NULL DEFAULT 86400,
    signing_alg          TEXT NOT NULL DEFAULT 'RS256', -- RS256 | ES256 | EdDSA
    rbac_enabled         INTEGER NOT NULL DEFAULT 0,
    permissions_in_token INTEGER NOT NULL DEFAULT 0,  -- "Add Permissions in the Access Token"
    allow_offline_access INTEGER NOT NULL DEFAULT 0,
    created_at           TEXT NOT NULL
);

-- An API's scopes, which are also the permissions roles grant.
CREATE TABLE IF NOT EXISTS scopes (
    resource_server_id TEXT NOT NULL REFERENCES resource_servers(id) ON DELETE CASCADE,
    value              TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (resource_server_id, value)
);

CREATE TABLE IF NOT EXISTS roles (
    id          TEXT PRIMARY KEY,                     -- rol_<random>
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS role_permissions (
    role_id            TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    resource_server_id TEXT NOT NULL,
    permission         TEXT NOT NULL,
    PRIMARY KEY (role_id, resource_server_id, permission),
    FOREIGN KEY (resource_server_id, permission) REFERENCES scopes(resource_server_id, value) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS user_roles (
    user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);

CREATE TABLE IF NOT EXISTS user_permissions (
    user_id            TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    resource_server_id TEXT NOT NULL,
    permission         TEXT NOT NULL,
    PRIMARY KEY (user_id, resource_server_id, permission),
    FOREIGN KEY (resource_server_id, permission) REFERENCES scopes(resource_server_id, value) ON DELETE CASCADE
);

-- Which APIs a client may get client_credentials tokens for, with which scopes.
CREATE TABLE IF NOT EXISTS client_grants (
    client_id          TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    resource_server_id TEXT NOT NULL REFERENCES resource_servers(id) ON DELETE CASCADE,
    scopes             TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (client_id, resource_server_id)
);

CREATE TABLE IF NOT EXISTS organizations (
    id           TEXT PRIMARY KEY,                    -- org_<random>
    name         TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    metadata     TEXT NOT NULL DEFAULT '{}',
    created_at   TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS organization_members (
    org_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    PRIMARY KEY (org_id, user_id)
);

CREATE TABLE IF NOT EXISTS organization_member_roles (
    org_id  TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (org_id, user_id, role_id),
    FOREIGN KEY (org_id, user_id) REFERENCES organization_members(org_id, user_id) ON DELETE CASCADE
);

-- Private keys never leave this table except into the in-memory key ring; the database file is
-- created 0600. The newest non-retired key of each algorithm signs; every non-retired key is in
-- the JWKS. A rotated key is retired only once its successor has signed for longer than the
-- longest token lifetime, so every token it signed has expired.
CREATE TABLE IF NOT EXISTS signing_keys (
    kid        TEXT PRIMARY KEY,
    alg        TEXT NOT NULL,
    pkcs8      BLOB NOT NULL,
    created_at TEXT NOT NULL,
    activated_at TEXT,                                -- first signed with (a server started with it)
    rotated_at TEXT,                                  -- no longer signs, still published
    retired_at TEXT                                   -- no longer published
);

-- Rotating refresh tokens: only a hash of the token is stored; a family shares one origin so that
-- reuse of a rotated token can revoke all of it.
CREATE TABLE IF NOT EXISTS refresh_tokens (
    id                TEXT PRIMARY KEY,
    token_hash        TEXT NOT NULL UNIQUE,
    family_id         TEXT NOT NULL,
    user_id           TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    client_id         TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    audience          TEXT NOT NULL,
    scope             TEXT NOT NULL,
    org_id            TEXT,
    metadata          TEXT NOT NULL DEFAULT '{}',
    created_at        TEXT NOT NULL,
    expires_at        TEXT,
    last_exchanged_at TEXT,
    rotated_at        TEXT,
    revoked_at        TEXT
);
CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens(family_id);

-- Brute-force protection: consecutive failures per login name (as typed, lower-cased), connection
-- and IP. Keyed by the name, not the user, so that unknown names are blocked alike and a block
-- tells nothing about who exists.
CREATE TABLE IF NOT EXISTS login_failures (
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    login         TEXT NOT NULL,
    ip            TEXT NOT NULL,
    count         INTEGER NOT NULL DEFAULT 0,
    last_failure  TEXT NOT NULL,
    blocked_until TEXT,
    PRIMARY KEY (connection_id, login, ip)
);
