//! Unit tests of the generator: the table against the pinned member lists and the README.

use super::emit::{Entry, parse};
use super::pins::pinned;
use super::*;

fn table() -> Vec<Entry> {
    parse(TABLE)
}

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README")
}

/// Whether `word` appears in `text` as a whole identifier.
fn mentions(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
        let before = text[..i].chars().next_back().is_none_or(|c| !ident(c));
        let after = text[i + word.len()..]
            .chars()
            .next()
            .is_none_or(|c| !ident(c));
        before && after
    })
}

#[test]
fn every_pinned_member_has_a_declaration() {
    let table = table();
    let mut missing = Vec::new();
    for root in ROOTS {
        for member in pinned(root.name).members {
            if !table
                .iter()
                .any(|e| e.root == root.name && e.path == member)
            {
                missing.push(format!("{}.{member}", root.name));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "pinned but not in table.txt: {missing:?}"
    );
    // Positive control: the pins are read at all (Auth0's page lists 68 post-login api members).
    let methods = pinned("PostLoginAPI").members;
    assert_eq!(methods.iter().filter(|m| m.contains('.')).count(), 68);
    assert!(pinned("Event").members.contains(&"user.user_id".to_owned()));
    assert!(
        pinned("User")
            .members
            .contains(&"identities.profileData".to_owned())
    );
}

#[test]
fn every_declared_member_is_pinned_or_documented_in_the_readme() {
    let readme = readme();
    let mut wrong = Vec::new();
    for e in table() {
        assert!(
            ROOTS.iter().any(|r| r.name == e.root),
            "table.txt names an interface that is not declared: {}",
            e.root
        );
        let is_pinned = pinned(&e.root).members.contains(&e.path);
        let leaf = e.path.rsplit('.').next().unwrap_or(&e.path);
        match (e.own, is_pinned) {
            (false, false) => wrong.push(format!("{}.{}: neither pinned nor `+`", e.root, e.path)),
            (true, true) => wrong.push(format!("{}.{}: pinned, yet marked `+`", e.root, e.path)),
            (true, false) if leaf != "*" && !mentions(&readme, leaf) => wrong.push(format!(
                "{}.{}: `+` but the README never names it",
                e.root, e.path
            )),
            _ => {}
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // Positive control: the README check can fail.
    assert!(!mentions(&readme, "app_metadta"));
    assert!(mentions(&readme, "requested_scopes"));
}

#[test]
fn optionality_follows_the_pins() {
    let table = table();
    let mut wrong = Vec::new();
    for root in ROOTS {
        let pins = pinned(root.name);
        for e in table.iter().filter(|e| e.root == root.name) {
            if pins.required.contains(&e.path) && e.optional {
                wrong.push(format!("{}.{} is required by Auth0", root.name, e.path));
            }
            if pins.conditional.contains(&e.path) && !e.optional {
                wrong.push(format!("{}.{} is conditional in Auth0", root.name, e.path));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert!(
        pinned("Event")
            .required
            .contains(&"organization.id".to_owned())
    );
    assert!(
        pinned("Context")
            .conditional
            .contains(&"redirect".to_owned())
    );
}

/// Every name the output declares globally (values, types, modules) is one the README names.
#[test]
fn every_global_name_is_documented_in_the_readme() {
    let readme = readme();
    let out = declarations();
    let mut undocumented = Vec::new();
    for line in out.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let name = match words.as_slice() {
            [
                "declare",
                "var" | "function" | "class" | "namespace",
                name,
                ..,
            ] => name,
            ["interface" | "type", name, ..] => name,
            ["declare", "module", name, ..] => name,
            _ => continue,
        };
        let name = name
            .trim_matches(|c: char| c == '\'' || c == ':' || c == '{' || c == ';')
            .split(['<', '(', ':'])
            .next()
            .unwrap_or_default();
        let bare = name.strip_prefix("node:").unwrap_or(name);
        if !mentions(&readme, bare) && !readme.contains(&format!("`{bare}`")) {
            undocumented.push(name.to_owned());
        }
    }
    assert!(
        undocumented.is_empty(),
        "declared, not in the README: {undocumented:?}"
    );
}

#[test]
fn a_pinned_member_missing_from_the_table_is_still_declared_as_unknown() {
    let table: Vec<Entry> = table()
        .into_iter()
        .filter(|e| !(e.root == "PostLoginAPI" && e.path == "access.deny"))
        .collect();
    let root = ROOTS
        .iter()
        .find(|r| r.name == "PostLoginAPI")
        .expect("root");
    let text = emit::interface(root, &table, &pinned("PostLoginAPI"));
    assert!(text.contains("    deny: unknown;"), "{text}");
}

#[test]
fn the_declarations_nest_objects_and_mark_optional_members() {
    let out = declarations();
    assert!(out.contains("interface Event {\n"));
    assert!(out.contains("  user: {\n    user_id: string;\n"), "{out}");
    assert!(out.contains("  organization?: {\n"));
    assert!(out.contains("  identities: {\n    connection: string;\n"));
    assert!(out.contains("    }[];\n"));
    assert!(out.contains("  [key: string]: unknown;\n"));
    assert!(out.contains("declare module 'node:crypto'"));
}
