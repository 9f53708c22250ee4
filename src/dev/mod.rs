//! `claimsmith test`: the script author's runner. It loads the scripts folders as the server
//! does, runs the real pipeline (or one script) on an Auth0-shaped event without a server or a
//! database, and reports per script what it did; `--expect` compares the report with a snapshot
//! (`--update` writes it), and with no event it runs every `*.test.json` case beside the
//! scripts. Exit codes: 0 allowed (or every case passed, or the snapshot matches), 1 refused (or
//! a case failed, or the snapshot differs), 2 a script or load error.

mod event;
mod render;
mod run;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use serde_json::{Map, Value, json};

use crate::config::Config;
use crate::reload::Folders;
use crate::script::{EngineConfig, ScriptSet};
pub use event::{TEST_USER_ID, login_input};
pub use run::Verdict;

/// `claimsmith test`'s arguments.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// An Auth0 post-login event (JSON file); what it leaves out is filled in. Without an event
    /// or a user, every `*.test.json` case under the scripts folders runs.
    #[arg(long, conflicts_with_all = ["user", "user_json"])]
    pub event: Option<PathBuf>,
    /// The event's user, from a JSON file (the rest of the event is filled in).
    #[arg(long, conflicts_with = "user_json")]
    pub user: Option<PathBuf>,
    /// The event's user as inline JSON.
    #[arg(long)]
    pub user_json: Option<String>,
    /// Run only the script with this name (its file stem).
    #[arg(long)]
    pub only: Option<String>,
    /// Actions' `event.secrets`: a JSON object file (replaces the configured ones).
    #[arg(long)]
    pub secrets: Option<PathBuf>,
    /// Rules' `configuration`: a JSON object file (replaces the configured one).
    #[arg(long)]
    pub configuration: Option<PathBuf>,
    /// Compare the result with this snapshot and print the difference.
    #[arg(long)]
    pub expect: Option<PathBuf>,
    /// With `--expect`: write the result there instead of comparing.
    #[arg(long, requires = "expect")]
    pub update: bool,
    /// The Actions folder [default: the configuration's, else ./actions].
    #[arg(long)]
    pub actions: Option<PathBuf>,
    /// The Rules folder [default: the configuration's, else ./rules].
    #[arg(long)]
    pub rules: Option<PathBuf>,
}

/// Runs the command; the process's exit code.
pub fn test(config: &Config, args: &TestArgs, json_out: bool) -> anyhow::Result<i32> {
    let folders = Folders {
        actions: config.actions_dir.clone(),
        rules: config.rules_dir.clone(),
    };
    let set = folders.load(None, 1);
    if !set.errors.is_empty() {
        let errors: Vec<String> = set.errors.iter().map(ToString::to_string).collect();
        say(
            json_out,
            &json!({"verdict": {"result": "error", "load_errors": errors}}),
            || format!("scripts failed to load:\n  {}\n", errors.join("\n  ")),
        );
        return Ok(2);
    }
    let set = Arc::new(match &args.only {
        Some(name) => set
            .only(name)
            .with_context(|| format!("no script called {name} in the scripts folders"))?,
        None => set,
    });
    let single = args.event.is_some() || args.user.is_some() || args.user_json.is_some();
    if !single {
        return cases(config, &folders, &set, args, json_out);
    }
    let event = match (&args.event, &args.user, &args.user_json) {
        (Some(path), ..) => read_json(path)?,
        (_, Some(path), _) => json!({ "user": read_json(path)? }),
        (.., Some(text)) => {
            json!({ "user": serde_json::from_str::<Value>(text).context("--user-json is not JSON")? })
        }
        _ => unreachable!("single"),
    };
    let secrets = args.secrets.as_deref().map(read_object).transpose()?;
    let configuration = args.configuration.as_deref().map(read_object).transpose()?;
    let (doc, verdict) = run_case(config, &set, &event, secrets, configuration)?;
    let Some(expect) = &args.expect else {
        say(json_out, &doc, || render::report(&doc));
        return Ok(exit_code(verdict));
    };
    let snapshot = render::snapshot(&doc);
    if args.update {
        std::fs::write(expect, pretty(&snapshot) + "\n")
            .with_context(|| format!("cannot write {}", expect.display()))?;
        say(json_out, &json!({"updated": expect}), || {
            format!("updated {}\n", expect.display())
        });
        return Ok(if verdict == Verdict::Failed { 2 } else { 0 });
    }
    let expected = read_json(expect)?;
    if expected == snapshot {
        say(json_out, &json!({"matches": expect}), || {
            format!("{} matches\n", expect.display())
        });
        return Ok(if verdict == Verdict::Failed { 2 } else { 0 });
    }
    let diff = render::diff(&expected, &snapshot);
    say(
        json_out,
        &json!({"differs": expect, "diff": diff, "result": doc}),
        || {
            format!(
                "{} differs (- expected, + actual):\n{diff}",
                expect.display()
            )
        },
    );
    Ok(if verdict == Verdict::Failed { 2 } else { 1 })
}

/// One run of `set` on `event`, with the configured secrets and configuration unless replaced.
fn run_case(
    config: &Config,
    set: &Arc<ScriptSet>,
    event: &Value,
    secrets: Option<Map<String, Value>>,
    configuration: Option<Map<String, Value>>,
) -> anyhow::Result<(Value, Verdict)> {
    let now_ms = event
        .pointer("/authentication/methods/0/timestamp")
        .and_then(Value::as_str)
        .and_then(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
        })
        .map_or_else(now_ms, |t| (t.unix_timestamp_nanos() / 1_000_000) as i64);
    let input = login_input(event, now_ms).map_err(anyhow::Error::msg)?;
    // The secrets given, else an event's own non-empty `secrets` (a hand-written case), else
    // the configured ones.
    let own = event
        .get("secrets")
        .and_then(Value::as_object)
        .filter(|s| !s.is_empty())
        .cloned();
    let base = &config.scripts.engine;
    let engine = EngineConfig {
        domain: crate::pipeline::domain_of(&config.issuer),
        shared_secrets: secrets
            .or(own)
            .unwrap_or_else(|| base.shared_secrets.clone()),
        configuration: configuration.unwrap_or_else(|| base.configuration.clone()),
        ..base.clone()
    };
    run::run(config, engine, set.clone(), input)
}

/// Every `*.test.json` under the scripts folders: `{"event": {...}, "expect": {...}}` (or `"user"`
/// for the event's user; optional `"only"`, `"secrets"`, `"configuration"`). `expect` is matched
/// as a subset of the report: what it names must be so.
fn cases(
    config: &Config,
    folders: &Folders,
    set: &Arc<ScriptSet>,
    args: &TestArgs,
    json_out: bool,
) -> anyhow::Result<i32> {
    let mut files = Vec::new();
    for dir in [&folders.actions, &folders.rules] {
        find_cases(dir, &mut files);
    }
    files.sort();
    let (mut passed, mut failed, mut results) = (0, 0, Vec::new());
    let mut text = String::new();
    for file in &files {
        let case = read_json(file)?;
        let event = match (case.get("event"), case.get("user")) {
            (Some(e), _) => e.clone(),
            (None, Some(u)) => json!({ "user": u }),
            (None, None) => json!({}),
        };
        let only = case
            .get("only")
            .and_then(Value::as_str)
            .or(args.only.as_deref());
        let set = match only {
            Some(name) => Arc::new(
                set.only(name)
                    .with_context(|| format!("{}: no script called {name}", file.display()))?,
            ),
            None => set.clone(),
        };
        let object = |k: &str| case.get(k).and_then(Value::as_object).cloned();
        let (doc, _) = run_case(
            config,
            &set,
            &event,
            object("secrets"),
            object("configuration"),
        )?;
        let expect = case.get("expect").cloned().unwrap_or(json!({}));
        let ok = render::contains(&doc, &expect);
        let name = file.display().to_string();
        if ok {
            passed += 1;
            text.push_str(&format!("ok     {name}\n"));
        } else {
            failed += 1;
            let diff = render::diff(&expect, &render::restricted(&doc, &expect));
            text.push_str(&format!("FAILED {name} (- expected, + actual):\n{diff}"));
        }
        results.push(json!({"case": name, "passed": ok, "result": doc}));
    }
    text.push_str(&format!("{passed} passed, {failed} failed\n"));
    say(
        json_out,
        &json!({"passed": passed, "failed": failed, "cases": results}),
        || text,
    );
    Ok(if failed == 0 { 0 } else { 1 })
}

fn find_cases(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            find_cases(&path, out);
        } else if path.to_string_lossy().ends_with(".test.json") {
            out.push(path);
        }
    }
}

fn exit_code(v: Verdict) -> i32 {
    match v {
        Verdict::Allowed => 0,
        Verdict::Refused => 1,
        Verdict::Failed => 2,
    }
}

fn now_ms() -> i64 {
    crate::clock::Clock::system().now_ms()
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

fn read_object(path: &Path) -> anyhow::Result<Map<String, Value>> {
    match read_json(path)? {
        Value::Object(m) => Ok(m),
        _ => anyhow::bail!("{} must hold a JSON object", path.display()),
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// Prints the document (`--json`) or the text; a closed stdout (`| head`) is not an error.
fn say(json_out: bool, doc: &Value, text: impl FnOnce() -> String) {
    use std::io::Write as _;
    let out = if json_out { pretty(doc) + "\n" } else { text() };
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
}
