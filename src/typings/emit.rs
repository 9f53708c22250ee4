//! The type table (`table.txt`) read into entries, and one interface written from the entries
//! of its root plus the pinned members: a pinned member the table has no line for is still
//! declared, as `unknown` (the unit tests refuse that state; the output never hides a member).

use super::Root;
use super::pins::Pins;

/// One line of the table.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The interface it belongs to.
    pub root: String,
    /// The member's path from the root, without `+` or `?`.
    pub path: String,
    /// Declared with `?`.
    pub optional: bool,
    /// Marked `+`: claimsmith's own, documented in the README rather than pinned.
    pub own: bool,
    /// The TypeScript type, `{}` or `{}[]` for an object whose members follow.
    pub ty: String,
}

/// The table's entries, in order; `#` lines and blank lines are comments.
pub(crate) fn parse(table: &str) -> Vec<Entry> {
    table
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|line| {
            let mut parts = line.splitn(3, ' ');
            let root = parts.next()?.to_owned();
            let raw = parts.next()?;
            let ty = parts.next()?.trim().to_owned();
            let own = raw.starts_with('+');
            let raw = raw.trim_start_matches('+');
            let optional = raw.ends_with('?');
            let path = raw.trim_end_matches('?').to_owned();
            Some(Entry {
                root,
                path,
                optional,
                own,
                ty,
            })
        })
        .collect()
}

/// `interface <root> { … }` with its doc comment.
pub(crate) fn interface(root: &Root, table: &[Entry], pins: &Pins) -> String {
    let mut entries: Vec<Entry> = table
        .iter()
        .filter(|e| e.root == root.name)
        .cloned()
        .collect();
    for member in &pins.members {
        let optional = pins.conditional.contains(member) && !pins.required.contains(member);
        declare_missing(&mut entries, root.name, member, optional);
    }
    let mut out = format!("\n/** {}", root.doc);
    if let Some(source) = &pins.source {
        out.push_str(&format!(" Members pinned against {source}"));
    }
    out.push_str(" */\n");
    out.push_str(&format!("interface {} {{\n", root.name));
    members(&entries, "", 1, &mut out);
    out.push_str("}\n");
    out
}

/// Adds `path` (and its parents, as objects) as `unknown` when the table has no line for it.
fn declare_missing(entries: &mut Vec<Entry>, root: &str, path: &str, optional: bool) {
    if entries.iter().any(|e| e.path == path) {
        return;
    }
    if let Some((parent, _)) = path.rsplit_once('.') {
        declare_missing(entries, root, parent, false);
        if let Some(p) = entries.iter_mut().find(|e| e.path == parent)
            && !p.ty.starts_with("{}")
        {
            p.ty = "{}".to_owned();
        }
    }
    entries.push(Entry {
        root: root.to_owned(),
        path: path.to_owned(),
        optional,
        own: false,
        ty: "unknown".to_owned(),
    });
}

/// The members directly under `prefix` (`""` or `"user."`), nested objects inline.
fn members(entries: &[Entry], prefix: &str, depth: usize, out: &mut String) {
    let indent = "  ".repeat(depth);
    for e in entries {
        let Some(name) = e.path.strip_prefix(prefix) else {
            continue;
        };
        if name.contains('.') {
            continue;
        }
        let q = if e.optional { "?" } else { "" };
        if e.own {
            // Hover text in editors: which members are claimsmith's rather than Auth0's.
            out.push_str(&format!("{indent}/** claimsmith (README) */\n"));
        }
        if name == "*" {
            out.push_str(&format!("{indent}[key: string]: {};\n", e.ty));
        } else if e.ty == "{}" || e.ty == "{}[]" {
            out.push_str(&format!("{indent}{name}{q}: {{\n"));
            members(entries, &format!("{}.", e.path), depth + 1, out);
            let array = if e.ty == "{}[]" { "[]" } else { "" };
            out.push_str(&format!("{indent}}}{array};\n"));
        } else {
            out.push_str(&format!("{indent}{name}{q}: {};\n", e.ty));
        }
    }
}
