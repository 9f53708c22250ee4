//! `require` over HTTP: real npm packages (installed once per test run from
//! `tests/npm/package-lock.json` with the machine's npm, into the build's temp folder; nothing
//! third-party is committed), Rules' versioned form, and local modules with hot reload.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::json;

use crate::support::*;

/// The installed `node_modules`, reinstalled when the lockfile changes.
pub(crate) fn node_modules() -> PathBuf {
    static INSTALLED: OnceLock<PathBuf> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/npm");
            let dest = Path::new(env!("CARGO_TARGET_TMPDIR")).join("npm");
            let lock = std::fs::read(src.join("package-lock.json")).expect("lockfile");
            let marker = dest.join("installed-from.json");
            if std::fs::read(&marker).ok().as_ref() != Some(&lock) {
                let _ = std::fs::remove_dir_all(&dest);
                std::fs::create_dir_all(&dest).expect("npm folder");
                for f in ["package.json", "package-lock.json"] {
                    std::fs::copy(src.join(f), dest.join(f)).expect("copy npm manifest");
                }
                let out = std::process::Command::new("npm")
                    .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
                    .current_dir(&dest)
                    .output()
                    .expect("npm is on the machine (README, Development)");
                assert!(
                    out.status.success(),
                    "npm ci failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                std::fs::write(&marker, &lock).expect("marker");
            }
            dest.join("node_modules")
        })
        .clone()
}

/// A server whose folder holds `files` and a `node_modules` link to the installed packages.
async fn server_with_packages(files: &[(&str, &str)]) -> TestServer {
    let dir = tempfile::tempdir().expect("temp dir");
    for sub in ["actions", "rules"] {
        std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
    }
    for (path, source) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, source).expect("write script");
    }
    #[cfg(unix)]
    std::os::unix::fs::symlink(node_modules(), dir.path().join("node_modules"))
        .expect("link node_modules");
    TestServer::start_in(dir, |_| {}, None).await
}

const PACKAGES_ACTION: &str = r#"
const _ = require('lodash');
const ipaddr = require('ipaddr.js');
const moment = require('moment');
const { dequal } = require('dequal');
const { dequal: lite } = require('dequal/lite');
exports.onExecutePostLogin = async (event, api) => {
  let outside;
  try { require('../../../../../../../etc/passwd'); } catch (e) { outside = e.code; }
  api.accessToken.setCustomClaim('https://t/pkgs', {
    chunk: _.chunk(['a', 'b', 'c', 'd', 'e'], 2),
    pick: _.pick({ a: 1, b: 2, c: 3 }, ['a', 'c']),
    camel: _.camelCase('hello world-again'),
    ip: ipaddr.parse('2001:db8::1').toNormalizedString(),
    inRange: ipaddr.parse('10.1.2.3').match(ipaddr.parseCIDR('10.0.0.0/8')),
    date: moment.utc(86400000 * 365).add(1, 'month').format('YYYY-MM-DD dddd'),
    eq: [dequal({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), lite([1], [2])],
    outside,
  });
};
"#;

const VERSIONED_RULE: &str = r#"function (user, context, callback) {
  const _ = require('lodash@VERSION');
  context.accessToken['https://t/rule'] = _.kebabCase('Hello World');
  callback(null, user, context);
}"#;

#[tokio::test]
async fn npm_packages_run_in_actions_and_rules_as_in_node() {
    let rule = VERSIONED_RULE.replace("VERSION", "4.17.21");
    let s = server_with_packages(&[
        ("actions/01-packages.js", PACKAGES_ACTION),
        ("rules/01-versioned.js", &rule),
    ])
    .await;
    let c = s.claims().await;
    // What Node 20 prints for the same calls (tests/npm's packages, same versions).
    assert_eq!(
        c["https://t/pkgs"],
        json!({"chunk": [["a", "b"], ["c", "d"], ["e"]], "pick": {"a": 1, "c": 3}, "camel": "helloWorldAgain",
               "ip": "2001:db8:0:0:0:0:0:1", "inRange": true, "date": "1971-02-01 Monday", "eq": [true, false],
               "outside": "MODULE_NOT_FOUND"})
    );
    assert_eq!(c["https://t/rule"], "hello-world");
    s.stop().await;
}

#[tokio::test]
async fn a_rule_asking_for_another_version_refuses_the_login_naming_both() {
    let rule = VERSIONED_RULE.replace("VERSION", "4.17.20");
    let s = server_with_packages(&[("rules/01-versioned.js", &rule)]).await;
    let (status, body) = s.login(&[("audience", API)]).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "access_denied");
    assert_eq!(
        body["error_description"],
        "Cannot find module 'lodash@4.17.20': the installed lodash is version 4.17.21, not 4.17.20"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_change_to_a_shared_local_module_republishes_the_scripts_that_use_it() {
    let uses = |claim: &str| {
        format!(
            "const shared = require('./lib/shared'); exports.onExecutePostLogin = async (e, api) => {{ api.accessToken.setCustomClaim('https://t/{claim}', shared.v); }};"
        )
    };
    let (a, b) = (uses("a"), uses("b"));
    let s = server_with_packages(&[
        ("actions/lib/shared.js", "exports.v = 'one';"),
        ("actions/01-a.js", &a),
        ("actions/02-b.js", &b),
    ])
    .await;
    let c = s.claims().await;
    assert_eq!(
        (&c["https://t/a"], &c["https://t/b"]),
        (&json!("one"), &json!("one"))
    );
    // Only the module changes: the set is republished, and both scripts see the new version.
    s.put_script("actions/lib/shared.js", "exports.v = 'two';")
        .await;
    let c = s.claims().await;
    assert_eq!(
        (&c["https://t/a"], &c["https://t/b"]),
        (&json!("two"), &json!("two"))
    );
    // A typo in the module keeps its last good version, as a script's does, and says so.
    let h = s.put_script("actions/lib/shared.js", "exports.v = ;").await;
    let errors = h["scripts"]["errors"].to_string();
    assert!(errors.contains("shared.js"), "{h}");
    let c = s.claims().await;
    assert_eq!(
        (&c["https://t/a"], &c["https://t/b"]),
        (&json!("two"), &json!("two"))
    );
    s.stop().await;
}

/// An Action that signs and verifies HS256, RS256, ES256 and PS256 tokens with npm `jsonwebtoken` (through `jws`/`jwa` onto
/// `require('crypto')`) and makes uuids with npm `uuid` (its `exports` map, `crypto.randomUUID`
/// and `createHash`). `KEYS` is put before it: the test-only keys of src/script/tests_node/keys.
const JWT_ACTION: &str = r#"
const jwt = require('jsonwebtoken');
const uuid = require('uuid');
exports.onExecutePostLogin = async (event, api) => {
  const payload = { sub: 'auth0|ada', n: 1 };
  const hs = jwt.sign(payload, 'hs-secret', { algorithm: 'HS256', noTimestamp: true });
  const rs = jwt.sign(payload, KEYS.rsa, { algorithm: 'RS256', noTimestamp: true, keyid: 'k1' });
  const es = jwt.sign(payload, KEYS.ec, { algorithm: 'ES256', noTimestamp: true });
  const ps = jwt.sign(payload, KEYS.rsa, { algorithm: 'PS256', noTimestamp: true });
  const bad = (f) => { try { f(); return 'verified'; } catch (e) { return e.name + ': ' + e.message; } };
  const v4 = uuid.v4();
  api.accessToken.setCustomClaim('https://t/jwt', {
    hs, rs, es, ps,
    verified: [jwt.verify(hs, 'hs-secret'), jwt.verify(rs, KEYS.rsaPub, { algorithms: ['RS256'] }),
      jwt.verify(es, KEYS.ecPub), jwt.verify(ps, KEYS.rsaPub), jwt.decode(rs, { complete: true }).header],
    refused: [bad(() => jwt.verify(hs, 'other-secret')), bad(() => jwt.verify(rs.slice(0, -4) + 'AAAA', KEYS.rsaPub)),
      bad(() => jwt.verify(rs, KEYS.rsaPub, { algorithms: ['HS256'] })), bad(() => jwt.sign(payload, KEYS.rsaPub, { algorithm: 'RS256' }))],
    uuid: [uuid.validate(v4), uuid.version(v4), v4 === uuid.v4(), uuid.v5('claimsmith', uuid.v5.URL), uuid.v3('claimsmith', uuid.v3.DNS)],
  });
};
"#;

#[tokio::test]
async fn npm_jsonwebtoken_signs_and_verifies_hs256_rs256_ps256_and_es256_and_uuid_makes_ids() {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};

    const RSA_PUB: &str = include_str!("../../src/script/tests_node/keys/rsa.pub.pem");
    const EC_PUB: &str = include_str!("../../src/script/tests_node/keys/ec.pub.pem");
    let keys = json!({
        "rsa": include_str!("../../src/script/tests_node/keys/rsa.pem"),
        "rsaPub": RSA_PUB,
        "ec": include_str!("../../src/script/tests_node/keys/ec.pem"),
        "ecPub": EC_PUB,
    });
    let action = format!("const KEYS = {keys};\n{JWT_ACTION}");
    let s = server_with_packages(&[("actions/01-jwt.js", &action)]).await;
    let c = s.claims().await;
    let out = &c["https://t/jwt"];
    let payload = json!({ "sub": "auth0|ada", "n": 1 });
    assert_eq!(
        out["verified"],
        json!([payload, payload, payload, payload, { "alg": "RS256", "typ": "JWT", "kid": "k1" }]),
        "{out}"
    );
    assert_eq!(
        out["refused"],
        json!([
            "JsonWebTokenError: invalid signature",
            "JsonWebTokenError: invalid signature",
            "JsonWebTokenError: invalid algorithm",
            "Error: secretOrPrivateKey must be an asymmetric key when using RS256"
        ])
    );
    // The tokens are real: the Rust jsonwebtoken crate verifies them with the public keys.
    let check = |token: &serde_json::Value, alg: Algorithm, key: DecodingKey| {
        let mut v = Validation::new(alg);
        v.required_spec_claims.clear();
        v.validate_exp = false;
        decode::<serde_json::Value>(token.as_str().expect("a token"), &key, &v)
            .expect("a valid token")
            .claims
    };
    let hs = check(
        &out["hs"],
        Algorithm::HS256,
        DecodingKey::from_secret(b"hs-secret"),
    );
    // The same public keys as JWKs, as Node 20 exports them (this crate is built without PEM).
    let rsa = DecodingKey::from_rsa_components(
        "xH-uIvejJLnbhfr2tvfBK--hmg7-x1x7GHEVnDFfyNeEMtlrE4FSUZ7zEroCUiFJ7reUOvRnXkR0PAjxT4Ho92a2j13-wGIYZRATSDKYa8NnvapzmHRUX5yaWn-foD2m4F0KdBgs1ShoO0dffik5v-xgAde5Ww0jKP5ElSSE_HjFoMhQ-PcofqVkTul15p9YQc0U7uFDpAfU2okzGdalZPkV8nDWqTHZKHQyzP9CWgSKkfNTdNDYTU4Rkpvd5AtIVqmPdpprspgIGKE6FgwQEsvP6rnmbBMzDXef8CIgJgObUSa51-CEh91x4fQAZvVIdCqAhjgMRIqkK7EwX80KJQ",
        "AQAB",
    )
    .expect("rsa key");
    let ec = DecodingKey::from_ec_components(
        "27n6_y7PNB8_B2VMpkacNlXQoFea1-SXG2zVTJeGjhQ",
        "zIG0HXK1529f6TshkbEoP7Sx5FwtzD-N2npFhB-mU9s",
    )
    .expect("ec key");
    assert_eq!(hs, payload);
    assert_eq!(check(&out["rs"], Algorithm::RS256, rsa.clone()), payload);
    assert_eq!(check(&out["ps"], Algorithm::PS256, rsa), payload);
    assert_eq!(check(&out["es"], Algorithm::ES256, ec), payload);
    // What Node 20 prints for the deterministic uuids (uuid 9.0.1).
    assert_eq!(
        out["uuid"],
        json!([
            true,
            4,
            false,
            "b66b096c-ce71-547f-ae72-9abf61b657d5",
            "be071e06-5b8c-32fa-b598-703fb50d6b0e"
        ])
    );
    s.stop().await;
}

/// Runs `tests/<script>` with Node (the installed packages on `NODE_PATH`, `env` besides) and
/// returns the one JSON document it prints; fails the test, naming `what`, when it fails.
pub(crate) async fn run_node(
    what: &str,
    script: &str,
    args: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
) -> serde_json::Value {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(script);
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(script)
        .args(args)
        .env("NODE_PATH", node_modules())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    // A guard against a hung child, not a timing.
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), cmd.output())
        .await
        .expect("node finished")
        .expect("node is on the machine (README, Development)");
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}
