//! [`ScriptError`]: a login the scripts could not finish (a deny is an `Outcome`, not an error).

use std::sync::Arc;

use super::ScriptKind;
use super::sandbox::{Failure, SandboxError};

/// A failure of the script engine during one login, with the script that was running, if known.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", self.public_description())]
pub struct ScriptError {
    pub script: Option<Arc<str>>,
    pub kind: ScriptErrorKind,
}

/// What went wrong. Every kind answers 500 `server_error` on the wire, except `Overloaded`
/// (503 `temporarily_unavailable` with `Retry-After`).
#[derive(Debug, Clone, PartialEq)]
pub enum ScriptErrorKind {
    /// The login's scripts did not finish by the login deadline (also a wedged worker).
    Timeout,
    /// A runtime reached its memory limit.
    OutOfMemory,
    /// An Action's promise can never settle (nothing left that could settle it).
    NeverSettled,
    /// A Rule never called its callback (and nothing left could call it).
    NeverCalledBack,
    /// A worker panicked (or the Host panicked inside a script call); the worker was replaced.
    WorkerCrashed,
    /// Refused before any script ran: too many worker threads are wedged in built-ins that ignore
    /// the time limit (`max_abandoned_workers`). Retry after this many seconds.
    Overloaded { retry_after_s: u32 },
    /// Refused before any script ran: this enabled script failed to load and has no last good
    /// version, and `[scripts] on_load_error = "refuse"` (a login must not run without it).
    NotLoaded,
    /// Anything else inside the engine; the text is for the log, never the wire.
    Engine(String),
}

impl ScriptError {
    pub(crate) fn new(script: Option<Arc<str>>, kind: ScriptErrorKind) -> Self {
        ScriptError { script, kind }
    }

    /// Text for the wire (500 `server_error`): names the failure kind and the script, never a
    /// stack or an engine message.
    pub fn public_description(&self) -> String {
        let who = match &self.script {
            Some(name) => format!("Script '{name}'"),
            None => "The login scripts".to_string(),
        };
        match &self.kind {
            ScriptErrorKind::Timeout => format!("{who} exceeded the time limit (timeout)."),
            ScriptErrorKind::OutOfMemory => {
                format!("{who} exceeded the memory limit (out of memory).")
            }
            ScriptErrorKind::NeverSettled => {
                format!("{who} returned a promise that never settles (never settled).")
            }
            ScriptErrorKind::NeverCalledBack => {
                format!("{who} never called its callback (never called back).")
            }
            ScriptErrorKind::WorkerCrashed => {
                format!("{who} failed: the script worker crashed (engine failure).")
            }
            ScriptErrorKind::Engine(_) => {
                format!("{who} failed inside the script engine (engine failure).")
            }
            ScriptErrorKind::NotLoaded => format!("{who} failed to load (load error)."),
            ScriptErrorKind::Overloaded { .. } => {
                "The login scripts are overloaded: script workers are stuck; retry later.".into()
            }
        }
    }
}

/// A sandbox failure as the engine reports it; engine and initialisation messages go to the log
/// here, never to the wire.
impl From<Failure> for ScriptError {
    fn from(f: Failure) -> Self {
        let kind = match f.error {
            SandboxError::Timeout => ScriptErrorKind::Timeout,
            SandboxError::OutOfMemory => ScriptErrorKind::OutOfMemory,
            SandboxError::Pending(ScriptKind::Rule) => ScriptErrorKind::NeverCalledBack,
            SandboxError::Pending(ScriptKind::Action) => ScriptErrorKind::NeverSettled,
            SandboxError::HostPanicked => ScriptErrorKind::WorkerCrashed,
            SandboxError::Script(m, _) => {
                tracing::warn!(target: "script", script = ?f.script, "script failed to initialise: {m}");
                ScriptErrorKind::Engine(m)
            }
            SandboxError::Engine(m) => {
                tracing::error!(target: "script", script = ?f.script, "script engine error: {m}");
                ScriptErrorKind::Engine(m)
            }
        };
        ScriptError::new(f.script, kind)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn public_description_names_kind_and_script_but_never_the_engine_text() {
        let e = ScriptError::new(Some("slow".into()), ScriptErrorKind::Timeout);
        assert_eq!(
            e.public_description(),
            "Script 'slow' exceeded the time limit (timeout)."
        );
        let e = ScriptError::new(
            None,
            ScriptErrorKind::Engine("secret stack at x.js:1".into()),
        );
        assert!(!e.public_description().contains("secret"));
        assert!(e.to_string().contains("engine failure"));
        let e = ScriptError::new(Some("10-deny".into()), ScriptErrorKind::NotLoaded);
        assert_eq!(
            e.public_description(),
            "Script '10-deny' failed to load (load error)."
        );
        for kind in [
            ScriptErrorKind::OutOfMemory,
            ScriptErrorKind::NeverSettled,
            ScriptErrorKind::NeverCalledBack,
            ScriptErrorKind::WorkerCrashed,
        ] {
            let text = ScriptError::new(Some("s".into()), kind).public_description();
            assert!(text.contains("'s'"), "{text}");
        }
    }
}
