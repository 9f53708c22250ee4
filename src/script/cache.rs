//! `api.cache`: one process-wide store shared by every worker, surviving across logins, with
//! Auth0's limits (spec §1.4): lifetime ≤ 24 h (default 15 min), ≤ 20 entries, key ≤ 64 bytes,
//! value ≤ 4 KB, keys + values ≤ 8 KB. Time is the login's `now_ms`, never a clock read here.
//! Results are JSON texts in Auth0's shapes, parsed by the shim.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::json;

const DEFAULT_TTL_MS: f64 = 15.0 * 60.0 * 1000.0;
const MAX_TTL_MS: f64 = 24.0 * 60.0 * 60.0 * 1000.0;
const MAX_ENTRIES: usize = 20;
const MAX_KEY: usize = 64;
const MAX_VALUE: usize = 4096;
const MAX_TOTAL: usize = 8192;

/// The store. Entries are `(value, expires_at_ms)`.
#[derive(Default)]
pub(crate) struct Cache {
    entries: Mutex<HashMap<String, (String, i64)>>,
}

fn error(code: &str) -> String {
    json!({"type": "error", "code": code}).to_string()
}

fn success(value: &str, expires_at: i64) -> String {
    json!({"type": "success", "record": {"value": value, "expires_at": expires_at}}).to_string()
}

impl Cache {
    fn with<R>(&self, f: impl FnOnce(&mut HashMap<String, (String, i64)>) -> R) -> R {
        let mut guard = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    /// `{value, expires_at}` as JSON, or `None` (the shim answers `undefined`).
    pub(crate) fn get(&self, key: &str, now_ms: i64) -> Option<String> {
        self.with(|m| {
            m.retain(|_, (_, exp)| *exp > now_ms);
            m.get(key)
                .map(|(v, exp)| json!({"value": v, "expires_at": exp}).to_string())
        })
    }

    /// `ttl` and `expires_at` are NaN when absent; if both are given the earlier wins.
    pub(crate) fn set(
        &self,
        key: &str,
        value: &str,
        ttl: f64,
        expires_at: f64,
        now_ms: i64,
    ) -> String {
        if key.len() > MAX_KEY {
            return error("CacheKeySizeExceeded");
        }
        if value.len() > MAX_VALUE {
            return error("CacheValueSizeExceeded");
        }
        let now = now_ms as f64;
        let ttl = if ttl.is_nan() { None } else { Some(ttl) };
        let at = if expires_at.is_nan() {
            None
        } else {
            Some(expires_at)
        };
        if ttl.is_some_and(|t| !t.is_finite() || t <= 0.0) || at.is_some_and(|a| !a.is_finite()) {
            return error("InvalidExpiry");
        }
        let mut exp = match (ttl, at) {
            (None, None) => now + DEFAULT_TTL_MS,
            (Some(t), None) => now + t,
            (None, Some(a)) => a,
            (Some(t), Some(a)) => (now + t).min(a),
        };
        if exp <= now {
            return error("ItemAlreadyExpired");
        }
        exp = exp.min(now + MAX_TTL_MS);
        let exp = exp as i64;
        self.with(|m| {
            m.retain(|_, (_, e)| *e > now_ms);
            let others: usize = m
                .iter()
                .filter(|(k, _)| k.as_str() != key)
                .map(|(k, (v, _))| k.len() + v.len())
                .sum();
            let count = m.len() + usize::from(!m.contains_key(key));
            if count > MAX_ENTRIES || others + key.len() + value.len() > MAX_TOTAL {
                return error("CacheSizeExceeded");
            }
            m.insert(key.to_owned(), (value.to_owned(), exp));
            success(value, exp)
        })
    }

    pub(crate) fn delete(&self, key: &str, now_ms: i64) -> String {
        self.with(|m| {
            m.retain(|_, (_, e)| *e > now_ms);
            match m.remove(key) {
                Some((v, exp)) => success(&v, exp),
                None => error("CacheKeyDoesNotExist"),
            }
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn set_get_delete_and_expiry() {
        let c = Cache::default();
        assert_eq!(c.get("k", 0), None);
        let r: serde_json::Value =
            serde_json::from_str(&c.set("k", "v", f64::NAN, f64::NAN, 1000)).unwrap();
        assert_eq!(
            r,
            json!({"type":"success","record":{"value":"v","expires_at": 1000 + 900_000}})
        );
        assert_eq!(
            c.get("k", 2000).unwrap(),
            r#"{"expires_at":901000,"value":"v"}"#
        );
        assert_eq!(c.get("k", 901_000), None, "expired");
        c.set("k", "v", 10.0, 5.0 + 1000.0, 1000);
        assert!(
            c.get("k", 1004).is_some() && c.get("k", 1005).is_none(),
            "earlier of ttl and expires_at"
        );
        c.set("k", "v", 1e12, f64::NAN, 0);
        assert!(
            c.get("k", 0).unwrap().contains("86400000"),
            "clamped to 24 h"
        );
        assert!(c.delete("k", 0).contains("success"));
        assert!(c.delete("k", 0).contains("CacheKeyDoesNotExist"));
    }

    #[test]
    fn limits() {
        let c = Cache::default();
        assert!(
            c.set(&"k".repeat(65), "v", f64::NAN, f64::NAN, 0)
                .contains("CacheKeySizeExceeded")
        );
        assert!(
            c.set("k", &"v".repeat(4097), f64::NAN, f64::NAN, 0)
                .contains("CacheValueSizeExceeded")
        );
        assert!(c.set("k", "v", -1.0, f64::NAN, 0).contains("InvalidExpiry"));
        assert!(
            c.set("k", "v", f64::NAN, 10.0, 100)
                .contains("ItemAlreadyExpired")
        );
        for i in 0..20 {
            assert!(
                c.set(&format!("k{i}"), "v", f64::NAN, f64::NAN, 0)
                    .contains("success")
            );
        }
        assert!(
            c.set("k20", "v", f64::NAN, f64::NAN, 0)
                .contains("CacheSizeExceeded")
        );
        assert!(
            c.set("k0", "w", f64::NAN, f64::NAN, 0).contains("success"),
            "overwrite within count"
        );
        let c = Cache::default();
        assert!(
            c.set("a", &"v".repeat(4000), f64::NAN, f64::NAN, 0)
                .contains("success")
        );
        assert!(
            c.set("b", &"v".repeat(4000), f64::NAN, f64::NAN, 0)
                .contains("success")
        );
        assert!(
            c.set("c", &"v".repeat(400), f64::NAN, f64::NAN, 0)
                .contains("CacheSizeExceeded")
        );
    }
}
