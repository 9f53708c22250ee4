//! The environment overlay: `CLAIMSMITH_*` variables written into the TOML table before it is
//! deserialised, so that the environment sits between the file and the command line.

const ENV_PREFIX: &str = "CLAIMSMITH_";

/// `CLAIMSMITH_<KEY>` sets a top-level key, `CLAIMSMITH_SCRIPTS_<KEY>` a `[scripts]` key,
/// `CLAIMSMITH_SECRET_<NAME>` a shared Action secret and `CLAIMSMITH_CONFIGURATION_<NAME>` a
/// Rules `configuration` entry. Values that parse as integers or booleans are typed so.
fn scripts(t: &mut toml::Table) -> Option<&mut toml::Table> {
    t.entry("scripts")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        .as_table_mut()
}

pub(super) fn overlay_env(table: &mut toml::Table, vars: impl Iterator<Item = (String, String)>) {
    const SCRIPT_KEYS: [&str; 11] = [
        "isolation",
        "timeout_ms",
        "memory_limit_mb",
        "stack_kb",
        "workers",
        "recycle_after_runs",
        "console_cap_bytes",
        "debounce_ms",
        "watch",
        "max_abandoned_workers",
        "on_load_error",
    ];
    // Keys that hold text stay text, whatever they look like (`CLAIMSMITH_TENANT=123`).
    const TEXT_KEYS: [&str; 14] = [
        "listen",
        "db",
        "actions",
        "rules",
        "issuer",
        "tenant",
        "default_connection",
        "default_audience",
        "log_format",
        "tls_cert",
        "tls_key",
        "isolation",
        "health_token",
        "on_load_error",
    ];
    let typed_for = |k: &str, v: &str| -> toml::Value {
        if TEXT_KEYS.contains(&k) {
            v.into()
        } else if let Ok(i) = v.parse::<i64>() {
            i.into()
        } else if let Ok(b) = v.parse::<bool>() {
            b.into()
        } else {
            v.into()
        }
    };
    for (name, value) in vars {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let (section, key, v) = if let Some(s) = rest.strip_prefix("SECRET_") {
            ("secrets", s.to_owned(), toml::Value::from(value))
        } else if let Some(c) = rest.strip_prefix("CONFIGURATION_") {
            ("configuration", c.to_owned(), toml::Value::from(value))
        } else if let Some(k) = rest.strip_prefix("SCRIPTS_") {
            let k = k.to_ascii_lowercase();
            if !SCRIPT_KEYS.contains(&k.as_str()) {
                continue;
            }
            if let Some(t) = scripts(table) {
                t.insert(k.clone(), typed_for(&k, &value));
            }
            continue;
        } else {
            // Unknown names are ignored here: the environment is shared with other programs.
            let k = rest.to_ascii_lowercase();
            if TOP_KEYS.contains(&k.as_str()) {
                table.insert(k.clone(), typed_for(&k, &value));
            }
            continue;
        };
        if let Some(sec) = scripts(table).and_then(|t| {
            t.entry(section)
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
        }) {
            sec.insert(key, v);
        }
    }
}

const TOP_KEYS: [&str; 27] = [
    "brute_force_threshold",
    "brute_force_block_s",
    "rehash_passwords",
    "listen",
    "db",
    "actions",
    "rules",
    "issuer",
    "tenant",
    "default_connection",
    "default_audience",
    "access_token_lifetime_s",
    "id_token_lifetime_s",
    "log_format",
    "tls_cert",
    "tls_key",
    "insecure_http",
    "max_body_bytes",
    "max_token_bytes",
    "max_connections",
    "max_connections_per_ip",
    "header_timeout_ms",
    "idle_timeout_ms",
    "health_token",
    "hash_concurrency",
    "hash_queue",
    "shutdown_grace_ms",
];
