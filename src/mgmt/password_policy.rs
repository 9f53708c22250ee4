//! Auth0's five password strength levels for database connections (Auth0's "Password Strength";
//! the presets of its `password-sheriff`), read from the connection's `options.passwordPolicy`
//! (`none` when unset, Auth0's default) and `options.password_complexity_options.min_length`.

use serde_json::{Map, Value};

/// Whether `password` satisfies the policy of a connection with `options`.
pub fn allows(options: &Map<String, Value>, password: &str) -> bool {
    let policy = options
        .get("passwordPolicy")
        .and_then(Value::as_str)
        .unwrap_or("none");
    let chars: Vec<char> = password.chars().collect();
    let min_length = options
        .get("password_complexity_options")
        .and_then(|o| o.get("min_length"))
        .and_then(Value::as_u64)
        .unwrap_or(0) as usize;
    if chars.len() < min_length.max(1) {
        return false;
    }
    let lower = chars.iter().any(|c| c.is_lowercase());
    let upper = chars.iter().any(|c| c.is_uppercase());
    let digit = chars.iter().any(|c| c.is_ascii_digit());
    let special = chars
        .iter()
        .any(|c| !c.is_alphanumeric() && !c.is_whitespace());
    let groups = [lower, upper, digit, special]
        .iter()
        .filter(|g| **g)
        .count();
    let repeats = chars.windows(3).any(|w| w[0] == w[1] && w[1] == w[2]);
    match policy {
        "low" => chars.len() >= 6,
        "fair" => chars.len() >= 8 && lower && upper && digit,
        "good" => chars.len() >= 8 && groups >= 3,
        "excellent" => chars.len() >= 10 && groups >= 3 && !repeats,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with(policy: &str) -> Map<String, Value> {
        json!({ "passwordPolicy": policy })
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn each_level_as_auth0_describes_it() {
        assert!(allows(&Map::new(), "x"));
        assert!(!allows(&Map::new(), ""));
        assert!(!allows(&with("low"), "abcde") && allows(&with("low"), "abcdef"));
        assert!(!allows(&with("fair"), "abcdefg1") && allows(&with("fair"), "Abcdefg1"));
        assert!(!allows(&with("good"), "abcdefgh1") && allows(&with("good"), "abcdefg1!"));
        assert!(
            !allows(&with("excellent"), "Abcdefg1!") && allows(&with("excellent"), "Abcdefgh1!")
        );
        assert!(
            !allows(&with("excellent"), "Aaaa1234!x"),
            "no character thrice in a row"
        );
        let min = json!({"password_complexity_options": {"min_length": 12}});
        assert!(!allows(
            min.as_object().unwrap(),
            "short-enough"[..11].as_ref()
        ));
    }
}
