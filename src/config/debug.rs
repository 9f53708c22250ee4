//! The `[debug]` table: development aids, all off by default and never for production. Only
//! their settings live here; `grant` records logins (README "Recorded logins") and reports the
//! provenance of claims.

use super::env::file_table;
use super::{ConfigError, positive};

file_table! {
    /// The `[debug]` table, as written; each key is documented in the README ("Configuration").
    pub struct DebugFile {
        record: bool,
        record_keep: u32,
        provenance: bool,
    }
    tables {}
}

/// The checked `[debug]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebugConfig {
    /// Keep the last `record_keep` logins, redacted, in the database (`claimsmith logins`).
    pub record: bool,
    /// How many recorded logins are kept; the oldest go as each new one is written (at least 1).
    pub record_keep: u32,
    /// Token responses say which script set, overwrote or dropped each custom claim, and why.
    pub provenance: bool,
}

impl DebugFile {
    pub(super) fn resolve(self) -> Result<DebugConfig, ConfigError> {
        let keep = positive("debug.record_keep", self.record_keep.unwrap_or(100).into())?;
        Ok(DebugConfig {
            record: self.record.unwrap_or(false),
            record_keep: u32::try_from(keep).unwrap_or(u32::MAX),
            provenance: self.provenance.unwrap_or(false),
        })
    }
}
