//! How the CLI prints a command's result for a person: a list as an aligned table with a header
//! row, one resource as `FIELD  VALUE` rows. `--json` bypasses this and prints the document
//! itself. Cells are plain text: a list of scalars joined by `, `, anything nested as compact
//! JSON; no colours, no wrapping, so the output also survives `grep` and `less`.

use serde_json::Value;

use crate::cli::{Apis, Clients, Command, Connections, Keys, Logins, Orgs, Roles, Users};

/// The columns a `list` command shows (the rest is in `show` and `--json`); empty for the commands
/// whose result is one document.
pub fn list_columns(cmd: &Command) -> &'static [&'static str] {
    match cmd {
        Command::Users(Users::List) => &[
            "user_id",
            "connection",
            "email",
            "username",
            "name",
            "blocked",
            "logins_count",
        ],
        Command::Clients(Clients::List) => &[
            "client_id",
            "name",
            "confidential",
            "grant_types",
            "trusted_forwarded_for",
        ],
        Command::Apis(Apis::List) => &[
            "identifier",
            "name",
            "signing_alg",
            "token_lifetime_s",
            "rbac_enabled",
            "allow_offline_access",
            "scopes",
        ],
        Command::Roles(Roles::List) => &["name", "id", "description", "permissions"],
        Command::Orgs(Orgs::List) => &["name", "id", "display_name"],
        Command::Connections(Connections::List) => &["name", "id", "strategy", "users"],
        Command::Keys(Keys::List) => &["kid", "alg", "state", "created_at"],
        Command::Logins(Logins::List) => &[
            "id",
            "recorded_at",
            "client_id",
            "user_id",
            "grant",
            "verdict",
        ],
        Command::Logins(Logins::Show { as_event: true, .. }) => AS_JSON,
        _ => &[],
    }
}

/// The "columns" of a command whose result is a file rather than a table: printed as indented
/// JSON with or without `--json` (`logins show --as-event`, a `claimsmith test --event` case).
pub const AS_JSON: &[&str] = &["(the document as JSON)"];

/// Renders `doc` for a person: an array as a table of `columns` (all its scalar fields when
/// `columns` is empty) under an upper-case header row, an object as `FIELD  VALUE` rows.
pub fn render(doc: &Value, columns: &[&str]) -> String {
    if columns == AS_JSON {
        return serde_json::to_string_pretty(doc).unwrap_or_default() + "\n";
    }
    match doc {
        Value::Array(rows) => {
            let columns: Vec<&str> = if columns.is_empty() {
                rows.first()
                    .and_then(Value::as_object)
                    .map(|o| o.keys().map(String::as_str).collect())
                    .unwrap_or_default()
            } else {
                columns.to_vec()
            };
            let header = columns.iter().map(|c| c.to_uppercase()).collect();
            let mut lines = vec![header];
            for row in rows {
                lines.push(columns.iter().map(|c| cell(&row[*c])).collect());
            }
            aligned(&lines)
        }
        Value::Object(fields) => {
            let lines: Vec<Vec<String>> = std::iter::once(vec!["FIELD".into(), "VALUE".into()])
                .chain(fields.iter().map(|(k, v)| vec![k.clone(), cell(v)]))
                .collect();
            aligned(&lines)
        }
        other => cell(other),
    }
}

/// One value as table text: strings bare, `null` empty, lists of scalars comma-joined, an object
/// in a list as its values joined by spaces (a role's `audience permission`), else compact JSON.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::Object(o) => o.values().map(cell).collect::<Vec<_>>().join(" "),
                other => cell(other),
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// Left-aligned columns two spaces apart; no trailing spaces.
fn aligned(lines: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = Vec::new();
    for line in lines {
        for (i, c) in line.iter().enumerate() {
            let w = c.chars().count();
            match widths.get_mut(i) {
                Some(max) => *max = (*max).max(w),
                None => widths.push(w),
            }
        }
    }
    let mut out = String::new();
    for line in lines {
        let mut text = String::new();
        for (i, c) in line.iter().enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            text.push_str(c);
            let pad = widths[i] - c.chars().count();
            text.extend(std::iter::repeat_n(' ', pad));
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_list_is_a_header_and_aligned_rows_of_the_chosen_columns() {
        let doc = json!([
            {"name": "admin", "id": "rol_1", "permissions": [{"audience": "https://a", "permission": "read"}]},
            {"name": "x", "id": "rol_22", "permissions": [], "secret": "no"},
        ]);
        let text = render(&doc, &["name", "id", "permissions"]);
        assert_eq!(
            text,
            "NAME   ID      PERMISSIONS\n\
             admin  rol_1   https://a read\n\
             x      rol_22\n"
        );
    }

    #[test]
    fn one_document_is_field_value_rows_with_nested_values_compact() {
        let doc = json!({"user_id": "auth0|1", "blocked": false, "app_metadata": {"a": 1},
                         "scopes": ["read", "write"], "last_login": null});
        let text = render(&doc, &[]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "FIELD         VALUE");
        assert!(lines.contains(&"user_id       auth0|1"), "{text}");
        assert!(lines.contains(&"app_metadata  {\"a\":1}"), "{text}");
        assert!(lines.contains(&"scopes        read, write"), "{text}");
        assert!(lines.contains(&"last_login"), "{text}");
    }

    #[test]
    fn a_document_for_a_file_is_indented_json() {
        let doc = json!({"user": {"user_id": "auth0|1"}});
        let text = render(&doc, AS_JSON);
        assert_eq!(text, serde_json::to_string_pretty(&doc).unwrap() + "\n");
    }

    #[test]
    fn an_empty_list_still_has_its_header() {
        assert_eq!(render(&json!([]), &["kid", "alg"]), "KID  ALG\n");
    }
}
