//! The modules a script set may `require`: local files in the scripts' subfolders (compiled and
//! hashed with the set, so a change to one republishes the set, and a broken one keeps its last
//! good version) and packages in the `node_modules` beside the folders (compiled on first
//! `require`, once per set). The bytecode is shared by every worker; each context keeps its own
//! module cache (`shim.js`). Resolution is Node's (`resolve.rs`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::catalog::{self, LoadError};
use super::resolve::{self, ResolveError, Resolved, Roots};

/// Largest module file read (lodash's single file is 540 KB; Auth0 has no per-file limit).
pub const MAX_MODULE_BYTES: u64 = 8 << 20;
/// Most local module files read with a set: a folder tree bigger than this is a mistake.
const MAX_LOCAL_FILES: usize = 10_000;

/// What `require` gets for a file: the compiled CommonJS wrapper, JSON text, or why neither.
#[derive(Debug, Clone)]
pub(crate) enum Loaded {
    Script(Arc<[u8]>),
    Json(Arc<str>),
    Broken(Arc<str>),
}

type ResolveKey = (PathBuf, String, bool);

/// One set's module table; see the module docs.
#[derive(Debug, Default)]
pub struct Modules {
    roots: Roots,
    /// Every `.js`/`.json` file under the scripts' subfolders, with its sha256.
    pub(crate) local: Vec<(PathBuf, String)>,
    resolved: Mutex<HashMap<ResolveKey, Result<Resolved, ResolveError>>>,
    loaded: Mutex<HashMap<PathBuf, Loaded>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Modules {
    /// The table of scripts read from these folders: their roots, and every local module
    /// compiled now. A local module that fails keeps its version from `previous` (as a script
    /// keeps its last good version); its error is returned either way.
    pub(crate) fn read(folders: &[&Path], previous: Option<&Modules>) -> (Modules, Vec<LoadError>) {
        let mut local = Vec::new();
        for dir in folders {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for sub in entries.flatten().map(|e| e.path()).filter(|p| real_dir(p)) {
                collect(&sub, &mut local);
            }
        }
        local.sort();
        let (mut loaded, mut errors) = (HashMap::new(), Vec::new());
        for (path, _) in &local {
            // Keyed as `require` finds it: by canonical path.
            let key = path.canonicalize().unwrap_or_else(|_| path.clone());
            let l = match compile(path) {
                Loaded::Broken(why) => {
                    errors.push(LoadError {
                        path: path.clone(),
                        line: None,
                        column: None,
                        message: why.to_string(),
                    });
                    previous
                        .and_then(|p| lock(&p.loaded).get(&key).cloned())
                        .unwrap_or(Loaded::Broken(why))
                }
                good => good,
            };
            loaded.insert(key, l);
        }
        let modules = Modules {
            roots: Roots::new(folders),
            local,
            resolved: Mutex::default(),
            loaded: Mutex::new(loaded),
        };
        (modules, errors)
    }

    /// `require(spec)` from a module in `from`, remembered for the life of the set.
    pub(crate) fn resolve(
        &self,
        from: &Path,
        spec: &str,
        versioned: bool,
    ) -> Result<Resolved, ResolveError> {
        let key = (from.to_path_buf(), spec.to_owned(), versioned);
        if let Some(r) = lock(&self.resolved).get(&key) {
            return r.clone();
        }
        let r = resolve::resolve(&self.roots, from, spec, versioned);
        lock(&self.resolved).insert(key, r.clone());
        r
    }

    /// A resolved file, compiled on first use (a concurrent first use may compile it twice).
    pub(crate) fn load(&self, path: &Path) -> Loaded {
        if let Some(l) = lock(&self.loaded).get(path) {
            return l.clone();
        }
        let l = compile(path);
        lock(&self.loaded).insert(path.to_path_buf(), l.clone());
        l
    }
}

/// The local module files under `dir` (not `node_modules`, which is read on first use).
fn collect(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    if dir.file_name().is_some_and(|n| n == "node_modules") || out.len() >= MAX_LOCAL_FILES {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.flatten().map(|e| e.path()) {
        if real_dir(&path) {
            collect(&path, out);
        } else if path
            .extension()
            .is_some_and(|x| x == "js" || x == "json" || x == "cjs")
            && let Ok(bytes) = std::fs::read(&path)
        {
            out.push((path, catalog::sha256_hex(&bytes)));
        }
    }
}

/// A folder that is not a symlink: a link to an ancestor would make the walk endless.
fn real_dir(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir())
}

/// The head of Node's CommonJS module wrapper; the source starts on line 1 after it.
pub(super) const MODULE_HEAD: &str =
    "(function (exports, require, module, __filename, __dirname) {";

fn compile(path: &Path) -> Loaded {
    let name = path.display().to_string();
    let broken = |why: String| Loaded::Broken(why.into());
    match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_MODULE_BYTES => {
            return broken(format!(
                "{name} is over {} MiB and cannot be required",
                MAX_MODULE_BYTES >> 20
            ));
        }
        Ok(_) => {}
        Err(e) => return broken(format!("cannot read {name}: {e}")),
    }
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return broken(format!("cannot read {name}: {e}")),
    };
    if path.extension().is_some_and(|x| x == "json") {
        return match serde_json::from_str::<serde::de::IgnoredAny>(&text) {
            Ok(_) => Loaded::Json(text.into()),
            Err(e) => broken(format!("{name}: {e}")),
        };
    }
    // A `#!` line is a comment to Node.
    let body = match text.strip_prefix("#!") {
        Some(rest) => format!("//{rest}"),
        None => text,
    };
    // Unlike a script's wrapper, a module's needs no escape check: it holds nothing of the
    // engine's, and code that closed it early would run in the same sandbox all the same.
    let source = format!("{MODULE_HEAD}{body}\n}})\n");
    match catalog::compile_global(&name, &source, MODULE_HEAD.len()) {
        Ok(bytes) => Loaded::Script(bytes.into()),
        Err(e) => broken(e.to_string()),
    }
}
