//! Auth0's five password strength levels for database connections (`none`, `low`, `fair`,
//! `good`, `excellent`: the presets of Auth0's `password-sheriff`, rule for rule), read from the
//! connection's `options.passwordPolicy` (`none` when unset, Auth0's default) and
//! `options.password_complexity_options.min_length` (which replaces the level's length). Besides
//! the check, the two texts signup's `invalid_password` answer carries: which rules a password
//! misses, and the policy as a list.

use serde_json::{Map, Value, json};

/// OWASP's special characters, as password-sheriff lists them (the space among them).
const SPECIAL: &str = " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// The four character classes, in password-sheriff's order, with its texts.
const CLASSES: [(&str, &str); 4] = [
    ("lowerCase", "lower case letters (a-z)"),
    ("upperCase", "upper case letters (A-Z)"),
    ("numbers", "numbers (i.e. 0-9)"),
    ("specialCharacters", "special characters (e.g. !@#$%^&*)"),
];

/// One connection's policy.
#[derive(Debug)]
pub struct Policy {
    min_length: usize,
    /// `fair`: lower, upper and numbers all required (`shouldContain`).
    contains_all_three: bool,
    /// `good`, `excellent`: three of the four classes (`containsAtLeast`).
    three_of_four: bool,
    /// `excellent`: no character more than twice in a row (`identicalChars`).
    no_triples: bool,
}

impl Policy {
    /// The policy of a connection with `options`.
    pub fn of(options: &Map<String, Value>) -> Policy {
        let level = options
            .get("passwordPolicy")
            .and_then(Value::as_str)
            .unwrap_or("none");
        let length = match level {
            "low" => 6,
            "fair" | "good" => 8,
            "excellent" => 10,
            _ => 1,
        };
        let min_length = options
            .get("password_complexity_options")
            .and_then(|o| o.get("min_length"))
            .and_then(Value::as_u64)
            .map_or(length, |n| n.max(1) as usize);
        Policy {
            min_length,
            contains_all_three: level == "fair",
            three_of_four: matches!(level, "good" | "excellent"),
            no_triples: level == "excellent",
        }
    }

    /// Whether `password` satisfies the policy.
    pub fn allows(&self, password: &str) -> bool {
        self.missing(password)["verified"] == true
    }

    /// password-sheriff's `missing(password)`: every rule, each with `verified`.
    pub fn missing(&self, password: &str) -> Value {
        let rules = self.rules(Some(password));
        let verified = rules.iter().all(|r| r["verified"] == true);
        json!({ "rules": rules, "verified": verified })
    }

    /// password-sheriff's `toString()`: the rules as a Markdown list.
    pub fn explain(&self) -> String {
        let mut lines = Vec::new();
        for rule in self.rules(None) {
            lines.push(format!("* {}", text(&rule)));
            for item in rule["items"].as_array().into_iter().flatten() {
                lines.push(format!(" * {}", text(item)));
            }
        }
        lines.join("\n")
    }

    /// The level's rules in password-sheriff's order; with `verified` when a password is given.
    fn rules(&self, password: Option<&str>) -> Vec<Value> {
        // JavaScript counts UTF-16 units.
        let length = password.map(|p| p.encode_utf16().count());
        let has = |class: usize, p: &str| match class {
            0 => p.chars().any(|c| c.is_ascii_lowercase()),
            1 => p.chars().any(|c| c.is_ascii_uppercase()),
            2 => p.chars().any(|c| c.is_ascii_digit()),
            _ => p.chars().any(|c| SPECIAL.contains(c)),
        };
        let verify = |mut rule: Value, ok: &dyn Fn(&str) -> bool| {
            if let Some(p) = password {
                rule["verified"] = ok(p).into();
            }
            rule
        };
        let items = |n: usize| -> Vec<Value> {
            (0..n)
                .map(|i| {
                    let (code, message) = CLASSES[i];
                    verify(json!({"message": message, "code": code}), &|p| has(i, p))
                })
                .collect()
        };
        let mut rules = vec![if self.min_length == 1 {
            json!({"message": "Non-empty password required", "code": "nonEmpty"})
        } else {
            json!({"message": "At least %d characters in length", "format": [self.min_length], "code": "lengthAtLeast"})
        }];
        rules[0] = verify(rules[0].take(), &|_| {
            length.is_some_and(|n| n >= self.min_length)
        });
        if self.contains_all_three {
            let items = items(3);
            let all = items.iter().all(|i| i["verified"] == true);
            let mut rule =
                json!({"message": "Should contain:", "code": "shouldContain", "items": items});
            if password.is_some() {
                rule["verified"] = all.into();
            }
            rules.push(rule);
        }
        if self.three_of_four {
            let items = items(4);
            let count = items.iter().filter(|i| i["verified"] == true).count();
            let mut rule = json!({
                "message": "Contain at least %d of the following %d types of characters:",
                "code": "containsAtLeast",
                "format": [3, 4],
                "items": items,
            });
            if password.is_some() {
                rule["verified"] = (count >= 3).into();
            }
            rules.push(rule);
        }
        if self.no_triples {
            let rule = json!({
                "message": "No more than %d identical characters in a row (e.g., \"%s\" not allowed)",
                "code": "identicalChars",
                "format": [2, "aaa"],
            });
            rules.push(verify(rule, &|p| {
                let units: Vec<u16> = p.encode_utf16().collect();
                !units.windows(3).any(|w| w[0] == w[1] && w[1] == w[2])
            }));
        }
        rules
    }
}

/// A rule's message with its `%d` / `%s` filled from `format`, as password-sheriff's `format`.
fn text(rule: &Value) -> String {
    let mut out = rule["message"].as_str().unwrap_or_default().to_owned();
    for arg in rule["format"].as_array().into_iter().flatten() {
        let arg = match arg {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if let Some(at) = out.find(['%']) {
            out.replace_range(at..at + 2, &arg);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(policy: &str) -> Policy {
        Policy::of(json!({ "passwordPolicy": policy }).as_object().unwrap())
    }

    #[test]
    fn each_level_as_password_sheriff_defines_it() {
        let none = Policy::of(&Map::new());
        assert!(none.allows("x") && !none.allows(""));
        assert!(!with("low").allows("abcde") && with("low").allows("abcdef"));
        assert!(!with("fair").allows("abcdefg1") && with("fair").allows("Abcdefg1"));
        assert!(!with("good").allows("abcdefgh1") && with("good").allows("abcdefg1!"));
        assert!(
            with("good").allows("abcdefg1 "),
            "the space is a special character"
        );
        assert!(
            !with("good").allows("abcdéfg1É"),
            "é and É are not a-z / A-Z"
        );
        assert!(!with("excellent").allows("Abcdefg1!") && with("excellent").allows("Abcdefgh1!"));
        assert!(
            !with("excellent").allows("Aaaa1234!x"),
            "no character thrice in a row"
        );
        let min =
            json!({"passwordPolicy": "low", "password_complexity_options": {"min_length": 12}});
        let min = Policy::of(min.as_object().unwrap());
        assert!(!min.allows("elevenchars") && min.allows("twelve chars"));
    }

    #[test]
    fn missing_and_explain_read_as_password_sheriff_writes_them() {
        let good = with("good");
        assert_eq!(
            good.missing("abc"),
            json!({"rules": [
                {"message": "At least %d characters in length", "format": [8], "code": "lengthAtLeast", "verified": false},
                {"message": "Contain at least %d of the following %d types of characters:", "code": "containsAtLeast",
                 "format": [3, 4], "verified": false, "items": [
                    {"message": "lower case letters (a-z)", "code": "lowerCase", "verified": true},
                    {"message": "upper case letters (A-Z)", "code": "upperCase", "verified": false},
                    {"message": "numbers (i.e. 0-9)", "code": "numbers", "verified": false},
                    {"message": "special characters (e.g. !@#$%^&*)", "code": "specialCharacters", "verified": false}]}
            ], "verified": false})
        );
        assert_eq!(
            good.explain(),
            "* At least 8 characters in length\n* Contain at least 3 of the following 4 types of characters:\n \
             * lower case letters (a-z)\n * upper case letters (A-Z)\n * numbers (i.e. 0-9)\n \
             * special characters (e.g. !@#$%^&*)"
        );
        assert_eq!(
            with("excellent").explain().lines().last(),
            Some("* No more than 2 identical characters in a row (e.g., \"aaa\" not allowed)")
        );
        assert_eq!(
            Policy::of(&Map::new()).explain(),
            "* Non-empty password required"
        );
    }
}
