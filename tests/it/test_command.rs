//! `claimsmith test`, run as the real binary on folders of scripts: the report per script, the
//! exit codes (0 allowed, 1 refused, 2 a script or load error), `--only`, `--json`, a snapshot
//! that fails with a readable diff and passes after `--update`, the `*.test.json` cases, and
//! each claim's provenance.

use std::path::Path;

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::*;

/// A folder with `actions/` and `rules/` holding `files`.
fn folder(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["actions", "rules"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    for (path, text) in files {
        std::fs::write(dir.path().join(path), text).unwrap();
    }
    dir
}

/// `claimsmith test` on `dir`'s scripts with `args`: (exit code, stdout).
async fn test_in(dir: &Path, args: &[&str]) -> (i32, String) {
    let (a, r) = (dir.join("actions"), dir.join("rules"));
    let base = [
        "test",
        "--actions",
        a.to_str().unwrap(),
        "--rules",
        r.to_str().unwrap(),
    ];
    let (global, rest): (Vec<&str>, Vec<&str>) = args.iter().partition(|a| **a == "--json");
    let out = run_cli(&[global.as_slice(), &base, rest.as_slice()].concat()).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let code = out.status.code().unwrap_or(-1);
    (code, stdout)
}

async fn test_json(dir: &Path, args: &[&str]) -> (i32, Value) {
    let (code, out) = test_in(dir, &[&["--json"], args].concat()).await;
    let doc = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    (code, doc)
}

const ROLE_RULE: &str = r#"function (user, context, callback) {
  context.accessToken['https://x/role'] = user.app_metadata && user.app_metadata.role;
  console.log('rule saw', user.email);
  callback(null, user, context);
}"#;

const OVERWRITE: &str = r#"exports.onExecutePostLogin = async (event, api) => {
  api.accessToken.setCustomClaim('https://x/role', 'overwritten');
  api.accessToken.setCustomClaim('sub', 'nobody');
  api.accessToken.addScope('read:things');
  api.user.setAppMetadata('seen', true);
};"#;

const DENY_BOB: &str = r#"exports.onExecutePostLogin = async (event, api) => {
  if (event.user.email === 'bob@example.com') api.access.deny('bob is not welcome');
};"#;

#[tokio::test]
async fn a_run_reports_each_script_the_tokens_and_the_provenance() {
    let dir = folder(&[
        ("rules/01-role.js", ROLE_RULE),
        ("actions/01-overwrite.js", OVERWRITE),
        ("actions/02-deny-bob.js", DENY_BOB),
    ]);
    let user = r#"{"email": "ann@example.com", "app_metadata": {"role": "admin"}}"#;
    let (code, doc) = test_json(dir.path(), &["--user-json", user]).await;
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["verdict"], json!({"result": "allowed"}));
    let scripts = doc["scripts"].as_array().unwrap();
    let names: Vec<&str> = scripts
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["01-role", "01-overwrite", "02-deny-bob"]);
    assert_eq!(
        scripts[0]["calls"],
        json!([{"claim": "https://x/role", "token": "access", "value": "admin"}])
    );
    assert_eq!(scripts[0]["console"], json!(["rule saw ann@example.com"]));
    assert_eq!(
        scripts[1]["calls"],
        json!([
            {"claim": "https://x/role", "token": "access", "value": "overwritten"},
            {"claim": "sub", "token": "access", "value": "nobody"},
            {"scope": "add", "value": "read:things"},
            {"metadata": "app_metadata", "key": "seen", "value": true},
        ])
    );
    assert!(scripts.iter().all(|s| s["ms"].as_f64().is_some()));
    assert_eq!(doc["access_token"]["https://x/role"], "overwritten");
    assert_eq!(doc["access_token"]["sub"], "auth0|test-user");
    assert_eq!(
        doc["access_token"]["scope"],
        "openid profile email read:things"
    );
    assert_eq!(doc["id_token"]["email"], "ann@example.com");
    assert_eq!(
        doc["provenance"],
        json!([
            {"token": "access_token", "claim": "https://x/role", "script": "01-role", "fate": "set"},
            {"token": "access_token", "claim": "https://x/role", "script": "01-overwrite", "fate": "overwrote", "replaced": "01-role"},
            {"token": "access_token", "claim": "sub", "script": "01-overwrite", "fate": "dropped", "reason": "reserved claim name"},
        ])
    );
    assert_eq!(
        doc["metadata"]["actions"]["app_metadata"],
        json!({"seen": true})
    );
    // The same as text for a person.
    let (code, text) = test_in(dir.path(), &["--user-json", user]).await;
    assert_eq!(code, 0);
    for line in [
        "01-role (rule)",
        "  claim access https://x/role = \"admin\"",
        "  console: rule saw ann@example.com",
        "  access_token https://x/role: overwritten by 01-overwrite (was 01-role's)",
        "  access_token sub: dropped from 01-overwrite: reserved claim name",
        "verdict: allowed",
    ] {
        assert!(text.contains(line), "{line:?} not in:\n{text}");
    }
}

#[tokio::test]
async fn exit_codes_say_allowed_refused_or_failed_and_only_runs_one_script() {
    let dir = folder(&[
        ("rules/01-role.js", ROLE_RULE),
        ("actions/02-deny-bob.js", DENY_BOB),
    ]);
    let event = dir.path().join("bob.json");
    std::fs::write(&event, r#"{"user": {"email": "bob@example.com"}}"#).unwrap();
    let (code, doc) = test_json(dir.path(), &["--event", event.to_str().unwrap()]).await;
    assert_eq!(code, 1, "denied: {doc}");
    assert_eq!(
        doc["verdict"],
        json!({"result": "refused", "status": 403,
               "body": {"error": "access_denied", "error_description": "bob is not welcome"}})
    );
    assert_eq!(
        doc["scripts"][1]["calls"],
        json!([{"refused": {"error": "access_denied", "error_description": "bob is not welcome"}}])
    );
    // Only the Rule: Bob is let through.
    let (code, doc) = test_json(
        dir.path(),
        &["--event", event.to_str().unwrap(), "--only", "01-role"],
    )
    .await;
    assert_eq!((code, doc["scripts"].as_array().unwrap().len()), (0, 1));
    // A script that cannot load: 2, naming the file.
    std::fs::write(
        dir.path().join("actions/03-broken.js"),
        "exports.onExecutePostLogin = (",
    )
    .unwrap();
    let (code, doc) = test_json(dir.path(), &["--event", event.to_str().unwrap()]).await;
    assert_eq!(code, 2, "{doc}");
    assert!(
        doc["verdict"]["load_errors"][0]
            .as_str()
            .unwrap()
            .contains("03-broken.js")
    );
    // A script that runs out of time (after the Rule and an Action that lets Cy through): 2.
    std::fs::write(
        dir.path().join("actions/03-broken.js"),
        "exports.onExecutePostLogin = async () => { for (;;) {} };",
    )
    .unwrap();
    let config = dir.path().join("claimsmith.toml");
    std::fs::write(&config, "[scripts]\ntimeout_ms = 300\n").unwrap();
    let (code, doc) = test_json(
        dir.path(),
        &[
            "--config",
            config.to_str().unwrap(),
            "--user-json",
            r#"{"email": "cy@example.com"}"#,
        ],
    )
    .await;
    assert_eq!(code, 2, "{doc}");
    assert_eq!(doc["verdict"]["result"], "error");
    assert!(
        doc["verdict"]["failure"]["error"]
            .as_str()
            .unwrap()
            .contains("timeout")
    );
}

#[tokio::test]
async fn a_snapshot_fails_with_a_readable_diff_and_passes_after_update() {
    let dir = folder(&[("rules/01-role.js", ROLE_RULE)]);
    let snap = dir.path().join("expected.json");
    let user = r#"{"email": "ann@example.com", "app_metadata": {"role": "admin"}}"#;
    let args = ["--user-json", user, "--expect", snap.to_str().unwrap()];
    let (code, _) = test_in(dir.path(), &[&args[..], &["--update"]].concat()).await;
    assert_eq!(code, 0);
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&snap).unwrap()).unwrap();
    assert_eq!(written["access_token"]["https://x/role"], "admin");
    assert!(
        written["access_token"].get("iat").is_none(),
        "no times in a snapshot"
    );
    assert_eq!(
        test_in(dir.path(), &args).await.0,
        0,
        "unchanged scripts match"
    );
    std::fs::write(
        dir.path().join("rules/01-role.js"),
        ROLE_RULE.replace("user.app_metadata.role", "'guest'"),
    )
    .unwrap();
    let (code, text) = test_in(dir.path(), &args).await;
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("differs"), "{text}");
    assert!(
        text.contains("-    \"https://x/role\": \"admin\","),
        "{text}"
    );
    assert!(
        text.contains("+    \"https://x/role\": \"guest\","),
        "{text}"
    );
    assert_eq!(
        test_in(dir.path(), &[&args[..], &["--update"]].concat())
            .await
            .0,
        0
    );
    assert_eq!(
        test_in(dir.path(), &args).await.0,
        0,
        "passes after --update"
    );
}

#[tokio::test]
async fn test_files_beside_the_scripts_run_as_cases() {
    let dir = folder(&[
        ("rules/01-role.js", ROLE_RULE),
        ("actions/02-deny-bob.js", DENY_BOB),
        (
            "actions/admin.test.json",
            r#"{"user": {"email": "ann@example.com", "app_metadata": {"role": "admin"}},
                "expect": {"verdict": {"result": "allowed"}, "access_token": {"https://x/role": "admin"}}}"#,
        ),
        (
            "actions/bob.test.json",
            r#"{"event": {"user": {"email": "bob@example.com"}},
                "expect": {"verdict": {"result": "refused", "status": 403}}}"#,
        ),
        (
            "rules/wrong.test.json",
            r#"{"user": {"email": "cy@example.com", "app_metadata": {"role": "user"}},
                "expect": {"access_token": {"https://x/role": "admin"}}}"#,
        ),
    ]);
    let (code, text) = test_in(dir.path(), &[]).await;
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("2 passed, 1 failed"), "{text}");
    assert!(text.contains("FAILED"), "{text}");
    assert!(text.contains("wrong.test.json"), "{text}");
    assert!(text.contains("+    \"https://x/role\": \"user\""), "{text}");
    std::fs::remove_file(dir.path().join("rules/wrong.test.json")).unwrap();
    let (code, doc) = test_json(dir.path(), &[]).await;
    assert_eq!(
        (code, &doc["passed"], &doc["failed"]),
        (0, &json!(2), &json!(0))
    );
}

/// The README's "Developing scripts" block, run as written (`claimsmith` on the PATH) in an empty
/// folder: five commands to a tested Action.
#[tokio::test]
async fn the_readme_walkthrough_runs_as_written() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme.split("## Developing scripts").nth(1).unwrap();
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_claimsmith"))
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = tokio::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", block])
        .current_dir(dir.path())
        .env("PATH", path)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), out)
        .await
        .expect("the walkthrough finished")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("claim access https://example.com/role = \"admin\""),
        "{stdout}"
    );
    assert!(
        stdout.trim_end().ends_with("1 passed, 0 failed"),
        "{stdout}"
    );
}

/// MFA and redirects are asked for before the run ends: the report names the script that asked.
#[tokio::test]
async fn mfa_is_reported_in_the_action_that_asked_for_it() {
    let mfa =
        "exports.onExecutePostLogin = async (event, api) => { api.multifactor.enable('any'); };";
    let after = "exports.onExecutePostLogin = async (event, api) => {};";
    let dir = folder(&[("actions/01-mfa.js", mfa), ("actions/02-after.js", after)]);
    let (code, doc) = test_json(dir.path(), &["--user-json", "{}"]).await;
    assert_eq!(code, 1, "{doc}");
    assert_eq!(doc["verdict"]["body"]["error"], "mfa_required");
    let refused = json!([{"refused": doc["verdict"]["body"]}]);
    assert_eq!(doc["scripts"][0]["calls"], refused, "{doc}");
    assert_eq!(doc["scripts"][1]["calls"], json!([]), "{doc}");
}
