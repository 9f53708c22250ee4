//! The member lists the Auth0 conformance tests pin (`tests/fixtures/auth0-members/*.json`,
//! written from Auth0's reference pages), embedded at compile time and read as paths relative to
//! each declared interface.
//!
//! They stay where the conformance tests (`tests/it/api_members.rs`, `tests/it/registration.rs`)
//! and the README cite them; embedding them from there keeps one copy without moving files others
//! cite.

use serde_json::Value;

/// What the lists pin for one declared interface.
#[derive(Debug, Default)]
pub(crate) struct Pins {
    /// Auth0's page the lists were written from.
    pub source: Option<String>,
    /// Every pinned member path (`access.deny`, `user.user_id`, `identities.provider`).
    pub members: Vec<String>,
    /// Paths Auth0 marks as always present: declared without `?`.
    pub required: Vec<String>,
    /// Paths Auth0 marks as present only sometimes: declared with `?`.
    pub conditional: Vec<String>,
}

const EVENT: &str = include_str!("../../tests/fixtures/auth0-members/event.json");
const API: &str = include_str!("../../tests/fixtures/auth0-members/api.json");
const PRE_API: &str =
    include_str!("../../tests/fixtures/auth0-members/pre-user-registration-api.json");
const POST_API: &str =
    include_str!("../../tests/fixtures/auth0-members/post-user-registration-api.json");
const USER: &str = include_str!("../../tests/fixtures/auth0-members/user.json");
const CONTEXT: &str = include_str!("../../tests/fixtures/auth0-members/context.json");

/// The pins of the interface `root` (none for the interfaces that are claimsmith's own); a
/// pinned path pins its parents too (`access.deny` pins the namespace `access`).
pub(crate) fn pinned(root: &str) -> Pins {
    let mut pins = lists(root);
    let mut parents = Vec::new();
    for path in &pins.members {
        let mut at = path.as_str();
        while let Some((parent, _)) = at.rsplit_once('.') {
            if !pins.members.iter().chain(&parents).any(|p| p == parent) {
                parents.push(parent.to_owned());
            }
            at = parent;
        }
    }
    pins.members.extend(parents);
    pins
}

fn lists(root: &str) -> Pins {
    match root {
        "Event" => event(),
        "PostLoginAPI" => api(API),
        "PreUserRegistrationAPI" => api(PRE_API),
        "PostUserRegistrationAPI" => api(POST_API),
        "User" => rules_object(USER, "identities"),
        "Context" => rules_object(CONTEXT, "request"),
        _ => Pins::default(),
    }
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("the member lists are JSON (checked by the unit tests)")
}

/// The strings of `doc[key]`, each prefixed.
fn strings(doc: &Value, key: &str, prefix: &str) -> Vec<String> {
    doc[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|s| format!("{prefix}{s}"))
                .collect()
        })
        .unwrap_or_default()
}

fn source(doc: &Value) -> Option<String> {
    doc["source"].as_str().map(str::to_owned)
}

/// `api.<namespace>.<method>` → `<namespace>.<method>`.
fn api(text: &str) -> Pins {
    let doc = parse(text);
    let members = strings(&doc, "members", "")
        .into_iter()
        .map(|m| m.strip_prefix("api.").unwrap_or(&m).to_owned())
        .collect();
    Pins {
        source: source(&doc),
        members,
        ..Pins::default()
    }
}

/// `top_level`, `required`, and `required_when_present` (required inside an optional section).
fn event() -> Pins {
    let doc = parse(EVENT);
    let mut members = strings(&doc, "top_level", "");
    let mut required = strings(&doc, "required", "");
    let when_present = &doc["required_when_present"];
    if let Some(sections) = when_present.as_object() {
        for section in sections.keys() {
            required.extend(strings(when_present, section, &format!("{section}.")));
        }
    }
    for path in &required {
        if !members.contains(path) {
            members.push(path.clone());
        }
    }
    Pins {
        source: source(&doc),
        members,
        required,
        conditional: Vec::new(),
    }
}

/// Rules' `user` / `context`: `members`, `also`, `conditional`, and one nested list (`identities`
/// of the user, `request` of the context) with its `<nested>_conditional`.
fn rules_object(text: &str, nested: &str) -> Pins {
    let doc = parse(text);
    let mut members = strings(&doc, "members", "");
    if let Some(also) = doc["also"].as_object() {
        members.extend(also.keys().cloned());
    }
    let inner = format!("{nested}.");
    members.extend(strings(&doc, nested, &inner));
    let late = strings(&doc, &format!("{nested}_conditional"), &inner);
    members.extend(late.iter().cloned());
    let mut conditional = strings(&doc, "conditional", "");
    conditional.extend(late);
    Pins {
        source: source(&doc),
        members,
        required: Vec::new(),
        conditional,
    }
}
