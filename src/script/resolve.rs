//! Node's CommonJS resolution (`require.resolve`, "Modules: CommonJS modules", the
//! `LOAD_AS_FILE` / `LOAD_AS_DIRECTORY` / `LOAD_NODE_MODULES` / `LOAD_PACKAGE_EXPORTS` steps),
//! confined to the scripts' folders and the `node_modules` beside them. Plain Rust over the file
//! system: no rquickjs here; `modules_table.rs` compiles what this finds.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{MapAccess, SeqAccess, Visitor};

/// Node 20's `require('module').builtinModules`: a bare name among these is never looked up in
/// `node_modules` (as in Node), whether claimsmith provides it or not.
pub(crate) const NODE_BUILTINS: &[&str] = &[
    "_http_agent",
    "_http_client",
    "_http_common",
    "_http_incoming",
    "_http_outgoing",
    "_http_server",
    "_stream_duplex",
    "_stream_passthrough",
    "_stream_readable",
    "_stream_transform",
    "_stream_wrap",
    "_stream_writable",
    "_tls_common",
    "_tls_wrap",
    "assert",
    "assert/strict",
    "async_hooks",
    "buffer",
    "child_process",
    "cluster",
    "console",
    "constants",
    "crypto",
    "dgram",
    "diagnostics_channel",
    "dns",
    "dns/promises",
    "domain",
    "events",
    "fs",
    "fs/promises",
    "http",
    "http2",
    "https",
    "inspector",
    "inspector/promises",
    "module",
    "net",
    "os",
    "path",
    "path/posix",
    "path/win32",
    "perf_hooks",
    "process",
    "punycode",
    "querystring",
    "readline",
    "readline/promises",
    "repl",
    "stream",
    "stream/consumers",
    "stream/promises",
    "stream/web",
    "string_decoder",
    "sys",
    "timers",
    "timers/promises",
    "tls",
    "trace_events",
    "tty",
    "url",
    "util",
    "util/types",
    "v8",
    "vm",
    "wasi",
    "worker_threads",
    "zlib",
];

/// npm packages claimsmith answers itself when `node_modules` has none (`src/script/node/`):
/// the HTTP clients Auth0 scripts use most, over the scripts' `fetch`.
pub(crate) const STAND_INS: &[&str] = &["axios", "node-fetch", "request", "request-promise"];

/// What a specifier names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// A Node built-in, by its name without `node:`.
    Builtin(&'static str),
    /// A `.js` or `.json` file inside the roots (canonical path).
    File(PathBuf),
}

/// Why a specifier does not resolve: Node's error code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResolveError {
    pub code: &'static str,
    pub message: String,
}

fn not_found(spec: &str, why: &str) -> ResolveError {
    ResolveError {
        code: "MODULE_NOT_FOUND",
        message: format!("Cannot find module '{spec}'{why}"),
    }
}

/// Where modules may come from: the scripts' folders and, above each, the folder whose
/// `node_modules` their packages live in. Canonical paths.
#[derive(Debug, Default, Clone)]
pub(crate) struct Roots {
    /// Folders a module file may be read from (symlinked `node_modules` included).
    readable: Vec<PathBuf>,
    /// The lookup of `node_modules` folders stops at these (the parents of `actions/` and `rules/`).
    tops: Vec<PathBuf>,
}

impl Roots {
    /// The roots of scripts read from `folders` (those that exist).
    pub(crate) fn new(folders: &[&Path]) -> Roots {
        let mut roots = Roots::default();
        for dir in folders {
            let Ok(dir) = dir.canonicalize() else {
                continue;
            };
            let top = dir.parent().map_or_else(|| dir.clone(), Path::to_path_buf);
            if let Ok(nm) = top.join("node_modules").canonicalize() {
                // A symlinked `node_modules`: its packages' files have canonical paths under
                // the link's target, and their own dependencies are looked up from there.
                if let Some(real_top) = nm.parent() {
                    push_unique(&mut roots.tops, real_top.to_path_buf());
                }
                push_unique(&mut roots.readable, nm);
            }
            push_unique(&mut roots.readable, dir);
            push_unique(&mut roots.tops, top);
        }
        roots
    }

    fn may_read(&self, path: &Path) -> bool {
        self.readable.iter().any(|r| path.starts_with(r))
    }
}

fn push_unique(list: &mut Vec<PathBuf>, p: PathBuf) {
    if !list.contains(&p) {
        list.push(p);
    }
}

/// Resolves `spec` as `require(spec)` does in a module whose folder is `from`. `versioned`
/// allows Rules' `name@version` form (the installed package must have exactly that version).
pub(crate) fn resolve(
    roots: &Roots,
    from: &Path,
    spec: &str,
    versioned: bool,
) -> Result<Resolved, ResolveError> {
    if let Some(name) = spec.strip_prefix("node:") {
        return builtin(name).map(Resolved::Builtin).ok_or(ResolveError {
            code: "ERR_UNKNOWN_BUILTIN_MODULE",
            message: format!("No such built-in module: {spec}"),
        });
    }
    if let Some(name) = builtin(spec) {
        return Ok(Resolved::Builtin(name));
    }
    let relative = spec.starts_with("./")
        || spec.starts_with("../")
        || spec.starts_with('/')
        || spec == "."
        || spec == "..";
    let found = if relative {
        let base = from.join(spec);
        load_as_file(&base).or_else(|| load_as_directory(&base))
    } else {
        let (name, version) = match split_version(spec) {
            Some((name, version)) if versioned => (name, Some(version)),
            _ => (spec, None),
        };
        // A package of one of claimsmith's stand-ins that is not installed is the stand-in.
        return match load_node_modules(roots, from, spec, name, version) {
            Err(e) if e.code == "MODULE_NOT_FOUND" && version.is_none() => STAND_INS
                .iter()
                .copied()
                .find(|s| *s == spec)
                .map(Resolved::Builtin)
                .ok_or(e),
            found => found,
        };
    };
    match found {
        Some(path) => confine(roots, spec, &path),
        None => Err(not_found(spec, "")),
    }
}

fn builtin(name: &str) -> Option<&'static str> {
    NODE_BUILTINS.iter().copied().find(|b| *b == name)
}

/// The canonical path of a found file, if it lies inside the roots.
fn confine(roots: &Roots, spec: &str, path: &Path) -> Result<Resolved, ResolveError> {
    let real = path.canonicalize().map_err(|_| not_found(spec, ""))?;
    if roots.may_read(&real) {
        Ok(Resolved::File(real))
    } else {
        Err(not_found(
            spec,
            " (claimsmith scripts may only require files inside their folders and node_modules)",
        ))
    }
}

/// `lodash@4.17.21` or `@scope/pkg@1.0.0`: the package name and the version.
fn split_version(spec: &str) -> Option<(&str, &str)> {
    let from = if spec.starts_with('@') {
        spec.find('/')?
    } else {
        0
    };
    let at = from + spec[from..].find('@')?;
    let (name, version) = (&spec[..at], &spec[at + 1..]);
    (!name.is_empty() && !version.is_empty() && !version.contains('/')).then_some((name, version))
}

fn is_file(p: &Path) -> bool {
    p.is_file()
}

fn with_ext(p: &Path, ext: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(ext);
    PathBuf::from(s)
}

/// LOAD_AS_FILE: the path itself, then `.js`, then `.json` (`.node` addons are not supported).
fn load_as_file(p: &Path) -> Option<PathBuf> {
    [p.to_path_buf(), with_ext(p, ".js"), with_ext(p, ".json")]
        .into_iter()
        .find(|c| is_file(c))
}

/// LOAD_INDEX: `index.js`, then `index.json`.
fn load_index(p: &Path) -> Option<PathBuf> {
    [p.join("index.js"), p.join("index.json")]
        .into_iter()
        .find(|c| is_file(c))
}

/// LOAD_AS_DIRECTORY: `package.json`'s `main` (as a file, then as a folder), then `index`.
fn load_as_directory(p: &Path) -> Option<PathBuf> {
    if let Some(main) = read_package(p).and_then(|pkg| pkg.main) {
        let m = p.join(main);
        if let Some(found) = load_as_file(&m).or_else(|| load_index(&m)) {
            return Some(found);
        }
    }
    load_index(p)
}

#[derive(Debug, Default, Deserialize)]
struct Package {
    #[serde(default, deserialize_with = "string_or_none")]
    main: Option<String>,
    #[serde(default, deserialize_with = "string_or_none")]
    version: Option<String>,
    #[serde(default)]
    exports: Option<Exports>,
}

fn string_or_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Some(s),
        _ => None,
    })
}

/// A package's `package.json`, or `None` when it is missing or not JSON.
fn read_package(dir: &Path) -> Option<Package> {
    let text = std::fs::read(dir.join("package.json")).ok()?;
    serde_json::from_slice(&text).ok()
}

/// LOAD_NODE_MODULES: the `node_modules` folders from `from` up to the top it lies in.
fn load_node_modules(
    roots: &Roots,
    from: &Path,
    spec: &str,
    name: &str,
    version: Option<&str>,
) -> Result<Resolved, ResolveError> {
    let Some(top) = roots.tops.iter().find(|t| from.starts_with(t)) else {
        return Err(not_found(spec, ""));
    };
    let (package, subpath) = split_package(name);
    for dir in from.ancestors().take_while(|d| d.starts_with(top)) {
        if dir.file_name().is_some_and(|n| n == "node_modules") {
            continue;
        }
        let pkg_dir = dir.join("node_modules").join(package);
        if !pkg_dir.is_dir() {
            continue;
        }
        let pkg = read_package(&pkg_dir).unwrap_or_default();
        if let Some(wanted) = version {
            let installed = pkg.version.as_deref().unwrap_or("(no version)");
            if installed != wanted {
                return Err(not_found(
                    spec,
                    &format!(": the installed {package} is version {installed}, not {wanted}"),
                ));
            }
        }
        let found = match &pkg.exports {
            Some(exports) => {
                let target = exports_target(exports, &subpath).ok_or_else(|| ResolveError {
                    code: "ERR_PACKAGE_PATH_NOT_EXPORTED",
                    message: not_exported(&subpath, &pkg_dir),
                })?;
                let file = pkg_dir.join(target.trim_start_matches("./"));
                is_file(&file).then_some(file)
            }
            None => {
                let base = dir.join("node_modules").join(name);
                load_as_file(&base).or_else(|| load_as_directory(&base))
            }
        };
        return match found {
            Some(path) => confine(roots, spec, &path),
            None => Err(not_found(spec, "")),
        };
    }
    Err(not_found(spec, ""))
}

fn not_exported(subpath: &str, pkg_dir: &Path) -> String {
    let file = pkg_dir.join("package.json");
    if subpath == "." {
        format!("No \"exports\" main defined in {}", file.display())
    } else {
        format!(
            "Package subpath '{subpath}' is not defined by \"exports\" in {}",
            file.display()
        )
    }
}

/// `@scope/pkg/a/b` → (`@scope/pkg`, `./a/b`); `pkg` → (`pkg`, `.`).
fn split_package(name: &str) -> (&str, String) {
    let segments = if name.starts_with('@') { 2 } else { 1 };
    let end = name
        .match_indices('/')
        .nth(segments - 1)
        .map_or(name.len(), |(i, _)| i);
    let sub = &name[end..];
    (&name[..end], format!(".{sub}"))
}

/// `package.json` `exports`, with object keys in file order (conditions are tried in order).
#[derive(Debug, Clone)]
pub(crate) enum Exports {
    Target(String),
    List(Vec<Exports>),
    Map(Vec<(String, Exports)>),
    Null,
}

/// The conditions claimsmith's `require` matches, as Node's CommonJS loader does.
const CONDITIONS: [&str; 3] = ["node", "require", "default"];

/// PACKAGE_EXPORTS_RESOLVE for `subpath` (`.` or `./x`): the target path, or `None` when the
/// package does not export it.
fn exports_target(exports: &Exports, subpath: &str) -> Option<String> {
    let sugar = match exports {
        Exports::Map(m) => !m.iter().any(|(k, _)| k.starts_with('.')),
        _ => true,
    };
    if sugar {
        return (subpath == ".").then(|| target(exports, None)).flatten();
    }
    let Exports::Map(map) = exports else {
        return None;
    };
    if let Some((_, t)) = map.iter().find(|(k, _)| k == subpath && !k.contains('*')) {
        return target(t, None);
    }
    // Subpath patterns: the longest key prefix before `*` wins.
    let mut best: Option<(&str, &Exports, &str)> = None;
    for (key, t) in map {
        let Some((prefix, suffix)) = key.split_once('*') else {
            continue;
        };
        if subpath.len() >= key.len() - 1
            && subpath.starts_with(prefix)
            && subpath.ends_with(suffix)
            && best.is_none_or(|(b, _, _)| prefix.len() > b.len())
        {
            let middle = &subpath[prefix.len()..subpath.len() - suffix.len()];
            best = Some((prefix, t, middle));
        }
    }
    best.and_then(|(_, t, middle)| target(t, Some(middle)))
}

/// RESOLVE_PACKAGE_TARGET with the `node`, `require` and `default` conditions.
fn target(t: &Exports, pattern: Option<&str>) -> Option<String> {
    match t {
        Exports::Target(s) if s.starts_with("./") && !s.split('/').any(|seg| seg == "..") => {
            Some(match pattern {
                Some(m) => s.replace('*', m),
                None => s.clone(),
            })
        }
        Exports::Target(_) | Exports::Null => None,
        Exports::List(list) => list.iter().find_map(|t| target(t, pattern)),
        Exports::Map(map) => map
            .iter()
            .filter(|(k, _)| CONDITIONS.contains(&k.as_str()))
            .find_map(|(_, t)| target(t, pattern)),
    }
}

impl<'de> Deserialize<'de> for Exports {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Exports;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an exports field")
            }
            fn visit_str<E>(self, s: &str) -> Result<Exports, E> {
                Ok(Exports::Target(s.to_owned()))
            }
            fn visit_unit<E>(self) -> Result<Exports, E> {
                Ok(Exports::Null)
            }
            fn visit_none<E>(self) -> Result<Exports, E> {
                Ok(Exports::Null)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Exports, E> {
                Ok(Exports::Null)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Exports, E> {
                Ok(Exports::Null)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Exports, E> {
                Ok(Exports::Null)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Exports, E> {
                Ok(Exports::Null)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Exports, A::Error> {
                let mut list = Vec::new();
                while let Some(e) = seq.next_element()? {
                    list.push(e);
                }
                Ok(Exports::List(list))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Exports, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Exports>()? {
                    entries.push((k, v));
                }
                Ok(Exports::Map(entries))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn setup() -> (tempfile::TempDir, Roots, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        write(&root, "actions/a.js", "");
        write(&root, "actions/lib/x.js", "");
        write(&root, "actions/lib/data.json", "{}");
        write(&root, "actions/lib/dir/index.js", "");
        write(&root, "rules/r.js", "");
        write(&root, "secret.js", "");
        write(
            &root,
            "node_modules/plain/package.json",
            r#"{"main": "lib/main", "version": "1.2.3"}"#,
        );
        write(&root, "node_modules/plain/lib/main.js", "");
        write(&root, "node_modules/plain/extra.js", "");
        write(&root, "node_modules/noindex/index.js", "");
        write(
            &root,
            "node_modules/@s/exp/package.json",
            r#"{"version": "2.0.0", "exports": {".": {"import": "./esm.mjs", "require": "./cjs.js"},
               "./lite": {"types": "./x.d.ts", "node": "./lite-node.js", "default": "./lite.js"},
               "./feat/*": "./features/*.js", "./feat/private/*": null}}"#,
        );
        for f in [
            "cjs.js",
            "lite-node.js",
            "lite.js",
            "features/a.js",
            "features/private/b.js",
        ] {
            write(&root, &format!("node_modules/@s/exp/{f}"), "");
        }
        write(
            &root,
            "node_modules/sugar/package.json",
            r#"{"exports": "./only.js"}"#,
        );
        write(&root, "node_modules/sugar/only.js", "");
        write(&root, "node_modules/sugar/other.js", "");
        let roots = Roots::new(&[&root.join("actions"), &root.join("rules")]);
        (dir, roots, root)
    }

    fn file(r: Result<Resolved, ResolveError>) -> PathBuf {
        match r {
            Ok(Resolved::File(p)) => p,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn relative_files_folders_and_json_as_node_finds_them() {
        let (_d, roots, root) = setup();
        let from = root.join("actions");
        assert_eq!(
            file(resolve(&roots, &from, "./lib/x", false)),
            root.join("actions/lib/x.js")
        );
        assert_eq!(
            file(resolve(&roots, &from, "./lib/x.js", false)),
            root.join("actions/lib/x.js")
        );
        assert_eq!(
            file(resolve(&roots, &from, "./lib/data", false)),
            root.join("actions/lib/data.json")
        );
        assert_eq!(
            file(resolve(&roots, &from, "./lib/dir", false)),
            root.join("actions/lib/dir/index.js")
        );
        assert_eq!(
            file(resolve(&roots, &root.join("actions/lib"), "../a", false)),
            root.join("actions/a.js")
        );
        let e = resolve(&roots, &from, "./nope", false).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            ("MODULE_NOT_FOUND", "Cannot find module './nope'")
        );
    }

    #[test]
    fn nothing_outside_the_roots_is_read() {
        let (_d, roots, root) = setup();
        let from = root.join("actions");
        for spec in [
            "../secret",
            "../secret.js",
            "/etc/passwd",
            "../../../../../../etc/passwd",
        ] {
            let e = resolve(&roots, &from, spec, false).unwrap_err();
            assert_eq!(e.code, "MODULE_NOT_FOUND", "{spec}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.join("secret.js"), root.join("actions/lib/link.js"))
                .unwrap();
            let e = resolve(&roots, &from, "./lib/link", false).unwrap_err();
            assert!(
                e.message.contains("only require files inside"),
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn packages_main_index_and_subpaths() {
        let (_d, roots, root) = setup();
        let from = root.join("actions/lib");
        let nm = root.join("node_modules");
        assert_eq!(
            file(resolve(&roots, &from, "plain", false)),
            nm.join("plain/lib/main.js")
        );
        assert_eq!(
            file(resolve(&roots, &from, "plain/extra", false)),
            nm.join("plain/extra.js")
        );
        assert_eq!(
            file(resolve(&roots, &from, "noindex", false)),
            nm.join("noindex/index.js")
        );
        assert_eq!(
            file(resolve(&roots, &root.join("rules"), "plain", false)),
            nm.join("plain/lib/main.js")
        );
        // From inside a package, its own dependencies resolve from the same node_modules.
        assert_eq!(
            file(resolve(&roots, &nm.join("plain/lib"), "noindex", false)),
            nm.join("noindex/index.js")
        );
        assert_eq!(
            resolve(&roots, &from, "missing", false).unwrap_err().code,
            "MODULE_NOT_FOUND"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_package_in_a_symlinked_node_modules_finds_its_dependencies() {
        let (_d, _roots, root) = setup();
        let scripts = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(scripts.path().join("actions")).unwrap();
        std::os::unix::fs::symlink(
            root.join("node_modules"),
            scripts.path().join("node_modules"),
        )
        .unwrap();
        let roots = Roots::new(&[&scripts.path().join("actions")]);
        let nm = root.join("node_modules").canonicalize().unwrap();
        // `plain/lib/main.js` is read through its canonical path, outside the scripts' folder.
        assert_eq!(
            file(resolve(&roots, &nm.join("plain/lib"), "noindex", false)),
            nm.join("noindex/index.js")
        );
    }

    #[test]
    fn exports_maps_use_node_require_and_default_in_order() {
        let (_d, roots, root) = setup();
        let (from, pkg) = (root.join("actions"), root.join("node_modules/@s/exp"));
        assert_eq!(
            file(resolve(&roots, &from, "@s/exp", false)),
            pkg.join("cjs.js")
        );
        assert_eq!(
            file(resolve(&roots, &from, "@s/exp/lite", false)),
            pkg.join("lite-node.js")
        );
        assert_eq!(
            file(resolve(&roots, &from, "@s/exp/feat/a", false)),
            pkg.join("features/a.js")
        );
        for hidden in [
            "@s/exp/cjs.js",
            "@s/exp/feat/private/b",
            "@s/exp/package.json",
        ] {
            let e = resolve(&roots, &from, hidden, false).unwrap_err();
            assert_eq!(
                e.code, "ERR_PACKAGE_PATH_NOT_EXPORTED",
                "{hidden}: {}",
                e.message
            );
        }
        assert_eq!(
            file(resolve(&roots, &from, "sugar", false)),
            root.join("node_modules/sugar/only.js")
        );
        assert_eq!(
            resolve(&roots, &from, "sugar/other", false)
                .unwrap_err()
                .code,
            "ERR_PACKAGE_PATH_NOT_EXPORTED"
        );
    }

    #[test]
    fn builtins_and_versions() {
        let (_d, roots, root) = setup();
        let from = root.join("rules");
        assert_eq!(
            resolve(&roots, &from, "fs", false),
            Ok(Resolved::Builtin("fs"))
        );
        assert_eq!(
            resolve(&roots, &from, "node:path", false),
            Ok(Resolved::Builtin("path"))
        );
        assert_eq!(
            resolve(&roots, &from, "node:nope", false).unwrap_err().code,
            "ERR_UNKNOWN_BUILTIN_MODULE"
        );
        assert_eq!(
            file(resolve(&roots, &from, "plain@1.2.3", true)),
            root.join("node_modules/plain/lib/main.js")
        );
        let e = resolve(&roots, &from, "plain@1.2.4", true).unwrap_err();
        assert!(
            e.message.contains("version 1.2.3, not 1.2.4"),
            "{}",
            e.message
        );
        assert_eq!(
            file(resolve(&roots, &from, "@s/exp@2.0.0", true)),
            root.join("node_modules/@s/exp/cjs.js")
        );
        // Only Rules take the versioned form.
        assert_eq!(
            resolve(&roots, &from, "plain@1.2.3", false)
                .unwrap_err()
                .code,
            "MODULE_NOT_FOUND"
        );
    }
}
