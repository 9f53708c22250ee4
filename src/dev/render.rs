//! `claimsmith test`'s report as text, the snapshot `--expect` compares (the report without what
//! changes from run to run: times, `iat`, `exp`), the difference of two documents, and the
//! subset match of a `*.test.json` case's `expect`.

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// The report for a person: each script with what it did and printed, then the tokens, the
/// claims' provenance and the verdict.
pub fn report(doc: &Value) -> String {
    let mut out = String::new();
    for s in doc["scripts"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "{} ({}) {} ms",
            text(&s["name"]),
            text(&s["kind"]),
            s["ms"]
        );
        for c in s["calls"].as_array().into_iter().flatten() {
            let line = if let Some(claim) = c["claim"].as_str() {
                format!("claim {} {claim} = {}", text(&c["token"]), c["value"])
            } else if let Some(op) = c["scope"].as_str() {
                format!("scope {op} {}", c["value"])
            } else if let Some(object) = c["metadata"].as_str() {
                format!("{object}.{} = {}", text(&c["key"]), c["value"])
            } else {
                format!("refused {}", c["refused"])
            };
            let _ = writeln!(out, "  {line}");
        }
        for line in s["console"].as_array().into_iter().flatten() {
            let _ = writeln!(out, "  console: {}", text(line));
        }
    }
    for (title, key) in [("access token", "access_token"), ("ID token", "id_token")] {
        if doc[key].is_object() {
            let _ = writeln!(out, "{title}: {}", pretty(&doc[key]));
        }
    }
    let prov = doc["provenance"].as_array().into_iter().flatten();
    for (i, p) in prov.enumerate() {
        if i == 0 {
            out.push_str("provenance:\n");
        }
        let how = match (p["replaced"].as_str(), p["reason"].as_str()) {
            (Some(before), _) => format!("overwritten by {} (was {before}'s)", text(&p["script"])),
            (_, Some(why)) => format!("dropped from {}: {why}", text(&p["script"])),
            _ => format!("set by {}", text(&p["script"])),
        };
        let _ = writeln!(out, "  {} {}: {how}", text(&p["token"]), text(&p["claim"]));
    }
    let v = &doc["verdict"];
    let verdict = match v["result"].as_str() {
        Some("allowed") => "allowed".to_owned(),
        Some("refused") => format!("refused: {} {}", v["status"], v["body"]),
        _ => format!(
            "error: {}",
            v["failure"]["error"]
                .as_str()
                .map_or_else(|| v.to_string(), str::to_owned)
        ),
    };
    let _ = writeln!(out, "verdict: {verdict}");
    out
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// The report without what changes between two runs of the same scripts on the same event.
pub fn snapshot(doc: &Value) -> Value {
    let mut s = doc.clone();
    for script in s["scripts"].as_array_mut().into_iter().flatten() {
        if let Some(m) = script.as_object_mut() {
            m.remove("ms");
        }
    }
    for token in ["access_token", "id_token"] {
        if let Some(m) = s.get_mut(token).and_then(Value::as_object_mut) {
            m.remove("iat");
            m.remove("exp");
        }
    }
    s
}

/// A line diff of the two documents, pretty-printed (`-` expected, `+` actual).
pub fn diff(expected: &Value, actual: &Value) -> String {
    let (a, b) = (pretty(expected) + "\n", pretty(actual) + "\n");
    similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(3)
        .to_string()
}

/// Whether everything `expected` names is so in `actual`: objects by their members (recursively),
/// anything else equal.
pub fn contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| contains(av, v))),
        (a, e) => a == e,
    }
}

/// `actual` cut down to the members `expected` names, so that a failed case's diff shows only
/// what the case is about.
pub fn restricted(actual: &Value, expected: &Value) -> Value {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => Value::Object(
            e.iter()
                .filter_map(|(k, v)| a.get(k).map(|av| (k.clone(), restricted(av, v))))
                .collect::<Map<String, Value>>(),
        ),
        (a, _) => a.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_case_matches_what_it_names() {
        let doc = json!({"verdict": {"result": "allowed"}, "access_token": {"a": 1, "b": [1]}});
        assert!(contains(&doc, &json!({"access_token": {"a": 1}})));
        assert!(!contains(&doc, &json!({"access_token": {"a": 2}})));
        assert!(!contains(&doc, &json!({"access_token": {"c": 1}})));
        assert!(!contains(&doc, &json!({"access_token": {"b": [1, 2]}})));
        assert_eq!(
            restricted(&doc, &json!({"access_token": {"a": 2}})),
            json!({"access_token": {"a": 1}})
        );
    }

    #[test]
    fn the_snapshot_leaves_out_times() {
        let doc = json!({"scripts": [{"name": "a", "ms": 1.5}], "access_token": {"iat": 1, "exp": 2, "sub": "x"}});
        assert_eq!(
            snapshot(&doc),
            json!({"scripts": [{"name": "a"}], "access_token": {"sub": "x"}})
        );
        assert!(diff(&json!({"a": 1}), &json!({"a": 2})).contains("-  \"a\": 1\n+  \"a\": 2"));
    }
}
