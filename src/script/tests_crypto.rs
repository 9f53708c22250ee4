//! The `crypto` built-in module (`node/crypto.js`, `node_crypto.rs`, `der.rs`): known-answer
//! vectors printed by Node 20 for the same script (`tests_node/crypto.js` → `crypto.node.json`),
//! in both isolation modes, with test-only keys (`tests_node/keys/`, made with `openssl genpkey`
//! and `openssl req -x509` for this test and used nowhere else).
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use serde_json::{Value, json};

use super::tests_support::*;
use super::*;

const KEYS: [(&str, &str); 4] = [
    ("rsa", include_str!("tests_node/keys/rsa.pem")),
    ("ec", include_str!("tests_node/keys/ec.pem")),
    ("ec384", include_str!("tests_node/keys/ec384.pem")),
    ("cert", include_str!("tests_node/keys/rsa-cert.pem")),
];

/// `const KEYS = {...}` with the test keys' PEM text, put before a script.
fn keys_prelude() -> String {
    let keys: serde_json::Map<String, Value> = KEYS
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    format!("const KEYS = {};\n", Value::Object(keys))
}

/// Runs `body` (after [`keys_prelude`]) as an Action in both modes; it sets the access claim
/// `out`, which must be the same in both and is returned.
async fn out_of(body: &str) -> Value {
    let set = set_of(&[], &[("a", &act(&format!("{}{body}", keys_prelude())))]);
    let mut seen = Vec::new();
    for iso in [Isolation::Warm, Isolation::Strict] {
        // A larger deadline and heap than the tests' default: this script hashes megabytes and
        // signs dozens of times, in a debug build.
        let config = EngineConfig {
            isolation: iso,
            login_timeout: std::time::Duration::from_secs(20),
            memory_limit_bytes: 64 << 20,
            ..EngineConfig::for_test()
        };
        let engine = ScriptEngine::start(config, Arc::new(TestHost::default())).unwrap();
        let started = std::time::Instant::now();
        let o = engine.run_login(set.clone(), input()).await;
        eprintln!("{iso:?}: {:?}", started.elapsed());
        let o = match o {
            Ok(o) => o,
            Err(e) => panic!("{iso:?}: {e:?}"),
        };
        assert_eq!(o.verdict, Verdict::Allow, "{iso:?}: {o:?}");
        seen.push(claim(&o, "out").unwrap());
    }
    assert_eq!(seen[0], seen[1], "warm and strict differ");
    seen.remove(0)
}

/// Compares section by section, so a failure names every part that differs.
fn assert_sections(out: &Value, node: &Value) {
    let (o, n) = (out.as_object().unwrap(), node.as_object().unwrap());
    let mut differ = Vec::new();
    for (k, want) in n {
        match (o.get(k), want) {
            (Some(Value::Object(got)), Value::Object(w)) if got.len() == w.len() => {
                for (kk, ww) in w {
                    if got.get(kk) != Some(ww) {
                        differ.push(format!("{k}.{kk}:\n  got  {:?}\n  node {ww}", got.get(kk)));
                    }
                }
            }
            (got, _) if got != Some(want) => {
                differ.push(format!("{k}:\n  got  {got:?}\n  node {want}"));
            }
            _ => {}
        }
    }
    assert_eq!(o.len(), n.len());
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

#[tokio::test]
async fn crypto_matches_node() {
    let out = out_of(include_str!("tests_node/crypto.js")).await;
    let node: Value = serde_json::from_str(include_str!("tests_node/crypto.node.json")).unwrap();
    assert_sections(&out, &node);
}

/// Hostile and broken input: only `crypto.js` can get the host functions, and anything a script
/// passes (truncated DER, random bytes, wrong types) is a JS error, never a panic.
#[tokio::test]
async fn bad_input_is_an_error_and_the_host_stays_out_of_reach() {
    let out = out_of(
        "const c = require('crypto'); const out = {};
         const msg = (f) => { try { f(); return 'no error'; } catch (e) { return e instanceof Error ? 'Error' : typeof e; } };
         out.internal = [msg(() => require('claimsmith:crypto-host')), msg(() => require('node:claimsmith:crypto-host'))];
         const der = c.createPrivateKey(KEYS.rsa).export({ format: 'der', type: 'pkcs8' });
         const results = new Set();
         for (let n = 0; n < der.length; n += 7) {
           for (const type of ['pkcs8', 'pkcs1', 'sec1', 'spki']) {
             results.add(msg(() => c.createPrivateKey({ key: der.subarray(0, n), format: 'der', type })));
             results.add(msg(() => c.createPublicKey({ key: der.subarray(n + 1), format: 'der', type })));
           }
         }
         for (let i = 0; i < 200; i++) {
           const r = c.randomBytes(i);
           results.add(msg(() => c.createPublicKey({ key: r, format: 'der', type: 'spki' })));
           results.add(msg(() => c.createPrivateKey('-----BEGIN PRIVATE KEY-----\\n' + r.toString('base64') + '\\n-----END PRIVATE KEY-----')));
           results.add(String(c.verify('sha256', r, KEYS.ec, r)));
         }
         out.results = [...results].sort();
         out.jwk = [{ kty: 'EC', crv: 'P-521', x: 'AA', y: 'AA' }, { kty: 'RSA', n: '', e: '' }, { kty: 'oct', k: 'AA' }, { kty: 'EC', crv: 'P-256', x: '!!', y: 'AA' },
             { kty: 'EC', crv: 'P-256', x: 'AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE', y: 'AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE' }]
           .map((key) => msg(() => c.createPublicKey({ key, format: 'jwk' })));
         out.unsupported = [msg(() => c.createSign('md5').update('x').sign(KEYS.rsa)), msg(() => c.createSign('sha384').update('x').sign(KEYS.ec)),
           msg(() => c.createPrivateKey({ key: KEYS.rsa, passphrase: 'x' })), msg(() => c.createPrivateKey('-----BEGIN ENCRYPTED PRIVATE KEY-----\\nAAAA\\n-----END ENCRYPTED PRIVATE KEY-----'))];
         api.accessToken.setCustomClaim('out', out);",
    )
    .await;
    assert_eq!(
        out,
        json!({
            "internal": ["Error", "Error"],
            "results": ["Error", "false"],
            "jwk": ["Error", "Error", "Error", "Error", "Error"],
            "unsupported": ["Error", "Error", "Error", "Error"],
        })
    );
}
