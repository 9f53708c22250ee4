//! The environment overlay: `CLAIMSMITH_*` variables written into the TOML table before it is
//! deserialised, so that the environment sits between the file and the command line.
//!
//! The keys the environment may set, and the TOML type each value gets, are not listed here: they
//! come from the file structs themselves, through [`file_table!`], so a key is spelled once.

use std::path::PathBuf;

use super::{DebugFile, FileConfig, LogFormat, OnLoadError, ScriptsFile, Watch};
use crate::script::Isolation;

const ENV_PREFIX: &str = "CLAIMSMITH_";

/// Declares a configuration table: a serde struct whose fields are all `Option<T>` (unknown keys
/// refused), plus `KEYS` (every scalar key, as written) and `env_value` (an environment string
/// typed as the field is). Nested tables go after `tables`, written out in full.
macro_rules! file_table {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty, )*
        }
        tables {
            $( $(#[$tmeta:meta])* $table:ident : $tty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Default, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: Option<$ty>, )*
            $( $(#[$tmeta])* #[serde(default)] pub $table: $tty, )*
        }

        impl $name {
            /// Every scalar key of this table, as written in the file.
            pub const KEYS: &'static [&'static str] = &[$(stringify!($field)),*];
            /// Every nested table of this one.
            pub const TABLES: &'static [&'static str] = &[$(stringify!($table)),*];

            /// `raw` (an environment variable's value) as the TOML value of `key`, typed as the
            /// field is; `None` when this table has no such key.
            pub(in crate::config) fn env_value(key: &str, raw: String) -> Option<toml::Value> {
                match key {
                    $( stringify!($field) => Some(<$ty as $crate::config::env::FromEnv>::toml(raw)), )*
                    _ => None,
                }
            }
        }
    };
}
pub(super) use file_table;

/// How an environment string becomes a TOML value for a field of this type.
pub(super) trait FromEnv {
    fn toml(raw: String) -> toml::Value;
}

/// Text stays text, whatever it looks like (`CLAIMSMITH_TENANT=123`).
macro_rules! text {
    ($($t:ty),*) => {$(
        impl FromEnv for $t {
            fn toml(raw: String) -> toml::Value {
                raw.into()
            }
        }
    )*};
}
text!(String, PathBuf, LogFormat, OnLoadError, Isolation, Watch);

/// Numbers are typed as numbers; anything else is left as text for serde to refuse, naming the key.
macro_rules! integer {
    ($($t:ty),*) => {$(
        impl FromEnv for $t {
            fn toml(raw: String) -> toml::Value {
                raw.parse::<i64>().map_or_else(|_| raw.into(), Into::into)
            }
        }
    )*};
}
integer!(u32, u64, usize);

/// A list from the environment is comma-separated (`CLAIMSMITH_SCRIPTS_FETCH_ALLOW=https://a,https://b`).
impl FromEnv for Vec<String> {
    fn toml(raw: String) -> toml::Value {
        toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::from(s.to_owned()))
                .collect(),
        )
    }
}

impl FromEnv for bool {
    fn toml(raw: String) -> toml::Value {
        raw.parse::<bool>().map_or_else(|_| raw.into(), Into::into)
    }
}

fn sub_table<'t>(t: &'t mut toml::Table, key: &str) -> Option<&'t mut toml::Table> {
    t.entry(key)
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        .as_table_mut()
}

/// `CLAIMSMITH_<KEY>` sets a top-level key, `CLAIMSMITH_SCRIPTS_<KEY>` a `[scripts]` key,
/// `CLAIMSMITH_DEBUG_<KEY>` a `[debug]` key,
/// `CLAIMSMITH_SECRET_<NAME>` a shared Action secret, `CLAIMSMITH_CONFIGURATION_<NAME>` a
/// Rules `configuration` entry and `CLAIMSMITH_PROCESS_ENV_<NAME>` an entry of the scripts'
/// `process.env`. Unknown names are ignored: the environment is shared with other
/// programs.
pub(super) fn overlay_env(table: &mut toml::Table, vars: impl Iterator<Item = (String, String)>) {
    for (name, value) in vars {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let (section, key, v) = if let Some(s) = rest.strip_prefix("SECRET_") {
            ("secrets", s.to_owned(), toml::Value::from(value))
        } else if let Some(c) = rest.strip_prefix("CONFIGURATION_") {
            ("configuration", c.to_owned(), toml::Value::from(value))
        } else if let Some(e) = rest.strip_prefix("PROCESS_ENV_") {
            ("process_env", e.to_owned(), toml::Value::from(value))
        } else if let Some(k) = rest.strip_prefix("SCRIPTS_") {
            let k = k.to_ascii_lowercase();
            if let Some(v) = ScriptsFile::env_value(&k, value)
                && let Some(t) = sub_table(table, "scripts")
            {
                t.insert(k, v);
            }
            continue;
        } else if let Some(k) = rest.strip_prefix("DEBUG_") {
            let k = k.to_ascii_lowercase();
            if let Some(v) = DebugFile::env_value(&k, value)
                && let Some(t) = sub_table(table, "debug")
            {
                t.insert(k, v);
            }
            continue;
        } else {
            let k = rest.to_ascii_lowercase();
            if let Some(v) = FileConfig::env_value(&k, value) {
                table.insert(k, v);
            }
            continue;
        };
        if let Some(sec) = sub_table(table, "scripts").and_then(|t| sub_table(t, section)) {
            sec.insert(key, v);
        }
    }
}
