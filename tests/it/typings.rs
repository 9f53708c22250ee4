//! `claimsmith typings`: the real binary's declarations type-check the repository's sample
//! scripts and the README's script examples with TypeScript (`tsc`, installed from
//! `tests/npm/package-lock.json`), set up as the README's "Typings" section says (its
//! `tsconfig.json` and its shell loop, run as written), and a misspelt member fails the check
//! with tsc naming it.

use std::path::Path;
use std::process::Command;

use crate::support::*;

/// The README's "Typings" section.
fn typings_section(readme: &str) -> &str {
    let start = readme
        .find("### Typings (`claimsmith typings`)")
        .expect("README has a Typings section");
    let end = start + readme[start..].find("\n## ").expect("a section follows");
    &readme[start..end]
}

/// The code blocks of `text` fenced as ```` ```lang ````.
fn blocks<'a>(text: &'a str, lang: &str) -> Vec<&'a str> {
    let fence = format!("```{lang}\n");
    text.split(&fence)
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .collect()
}

/// A folder set up as the README says: `claimsmith.d.ts` from the binary, its `tsconfig.json`,
/// copies of `actions/` and `rules/`, the README's whole Actions (in `actions/`, and as they are
/// in `annotated/`, which `include` adds) and Rules, then `extra` files, then the README's loop.
/// Returns tsc's success and its output.
async fn type_check(extra: &[(&str, &str)]) -> (bool, String) {
    let out = run_cli(&["typings"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("claimsmith.d.ts"), &out.stdout).expect("write d.ts");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_dir(&root.join("actions"), &d.join("actions"));
    copy_dir(&root.join("rules"), &d.join("rules"));
    std::fs::create_dir_all(d.join("annotated")).expect("mkdir");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    let (mut rules, mut actions) = (0, 0);
    for (i, block) in blocks(&readme, "js").into_iter().enumerate() {
        // Whole scripts only: a Rule is a function expression, an Action assigns a handler.
        if block.trim_start().starts_with("function") {
            std::fs::write(d.join(format!("rules/readme-{i}.js")), block).expect("write");
            rules += 1;
        } else if block.contains("exports.onExecute") {
            std::fs::write(d.join(format!("actions/readme-{i}.js")), block).expect("write");
            std::fs::write(d.join(format!("annotated/readme-{i}.js")), block).expect("write");
            actions += 1;
        }
    }
    assert!(
        rules >= 1 && actions >= 3,
        "README scripts: {rules} Rules, {actions} Actions"
    );
    for (path, text) in extra {
        std::fs::write(d.join(path), text).expect("write extra");
    }
    let section = typings_section(&readme);
    let tsconfig = blocks(section, "json")
        .into_iter()
        .next()
        .expect("the section's tsconfig.json");
    let tsconfig = tsconfig.replace(
        r#""typecheck/**/*.js""#,
        r#""typecheck/**/*.js", "annotated/*.js""#,
    );
    assert!(tsconfig.contains("annotated/"), "{tsconfig}");
    std::fs::write(d.join("tsconfig.json"), tsconfig).expect("write tsconfig");
    let script = blocks(section, "sh")
        .into_iter()
        .find(|b| b.contains("typecheck/rules"))
        .expect("the section's loop");
    // tsc is run below, from the installed package, instead of npx.
    let script = script.replace("npx tsc -p .\n", "");
    let sh = Command::new("sh")
        .args(["-e", "-c", &script])
        .current_dir(d)
        .output()
        .expect("sh");
    assert!(
        sh.status.success(),
        "{}",
        String::from_utf8_lossy(&sh.stderr)
    );
    let tsc = crate::npm::node_modules().join("typescript/bin/tsc");
    let out = Command::new("node")
        .arg(tsc)
        .args(["-p", "."])
        .current_dir(d)
        .output()
        .expect("node runs tsc");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A Rule in the usual Auth0 ways: `async`, a named function, `global`, `configuration`,
/// `auth0`, `UnauthorizedError`, `require`, `fetch`, `Buffer`, `context.multifactor`.
const IDIOMS_RULE: &str = r#"async function idioms(user, context, callback) {
  global.seen = global.seen || {};
  const crypto = require('crypto');
  const h = crypto.createHash('sha256').update(user.email || '').digest('hex');
  if (user.role === 'banned') return callback(new UnauthorizedError('banned'));
  const r = await fetch(configuration.API_URL + '/x', { headers: { authorization: 'Bearer ' + auth0.accessToken } });
  await auth0.users.updateAppMetadata(user.user_id, { seen: h, ok: r.ok });
  auth0.users.updateUserMetadata(user.user_id, { a: 1 }, function (err) { if (err) console.error(err); });
  user.app_metadata = user.app_metadata || {};
  context.idToken['https://t/b64'] = Buffer.from(user.user_id).toString('base64');
  context.accessToken.scope = ['openid'];
  context.multifactor = { provider: 'any', allowRememberBrowser: false };
  callback(null, user, context);
};
"#;

/// An Action exporting two handlers through `module.exports`, with globals and chained calls.
const IDIOMS_ACTION: &str = r#"const { URL } = require('node:url');
module.exports = {
  onExecutePostLogin: async (event, api) => {
    const u = new URL('https://x.example/a?b=1');
    if (!api.cache.get('k')) api.cache.set('k', 'v', { ttl: 1000 });
    setTimeout(() => {}, 10);
    api.transaction.setMetadata('k', 1).accessToken.addScope('read');
    if (api.rules.wasExecuted('01-x')) api.multifactor.enable('any');
    api.user.setAppMetadata('id', crypto.randomUUID() + u.searchParams.get('b') + event.secrets.KEY);
  },
  onExecutePostUserRegistration: async (event, api) => {
    console.log(event.user.user_id, api.cache.get('x')?.value);
  },
};
"#;

#[tokio::test]
async fn typings_type_check_the_sample_scripts_and_the_readme_examples() {
    let (ok, out) = type_check(&[
        ("rules/02-idioms.js", IDIOMS_RULE),
        ("actions/02-idioms.js", IDIOMS_ACTION),
    ])
    .await;
    assert!(ok, "tsc failed:\n{out}");
}

#[tokio::test]
async fn typings_need_no_configuration_or_database() {
    let out = run_cli(&["--config", "/nonexistent/claimsmith.toml", "typings"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for name in [
        "interface Event {",
        "interface PostLoginAPI {",
        "type Rule =",
    ] {
        assert!(text.contains(name), "{name}");
    }
    // Positive control: another command does read the configuration file.
    let out = run_cli(&["--config", "/nonexistent/claimsmith.toml", "keys", "list"]).await;
    assert!(!out.status.success());
}

const TYPO_ACTION: &str = "exports.onExecutePostLogin = async (event, api) => {\n  api.accessToken.setCustomClam('x', 1);\n};\n";
const TYPO_ANNOTATED: &str = "/**\n * @param {Event} event\n * @param {PostLoginAPI} api\n */\nexports.onExecutePostLogin = async (event, api) => {\n  api.idToken.setCustomClaim('https://t/x', event.user.app_metadta);\n};\n";
const TYPO_RULE: &str = "function (user, context, callback) {\n  context.idToken['https://t/c'] = context.clientId;\n  callback(null, user, context);\n}\n";

#[tokio::test]
async fn typings_make_tsc_name_a_misspelt_member() {
    let (ok, out) = type_check(&[
        ("actions/zz-typo.js", TYPO_ACTION),
        ("annotated/zz-typo.js", TYPO_ANNOTATED),
        ("rules/zz-typo.js", TYPO_RULE),
    ])
    .await;
    assert!(!ok, "tsc passed a misspelt member:\n{out}");
    // Each error on the script's own line, naming the member and what was meant.
    for expected in [
        "typecheck/actions/zz-typo.js(2,19): error TS2551: Property 'setCustomClam' does not exist",
        "Did you mean 'setCustomClaim'?",
        "Did you mean 'app_metadata'?",
        "annotated/zz-typo.js(6,56): error TS2551: Property 'app_metadta' does not exist",
        "typecheck/rules/zz-typo.js(2,44): error TS2551: Property 'clientId' does not exist on type 'Context'. Did you mean 'clientID'?",
    ] {
        assert!(out.contains(expected), "expected {expected:?} in:\n{out}");
    }
    assert_eq!(out.matches("error TS").count(), 3, "only the typos:\n{out}");
}
