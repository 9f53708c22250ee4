//! In-process measurements of the sandbox, ignored by default and run by hand (README,
//! "Development"): `cargo test --release --lib script::sandbox::profile -- --ignored --nocapture`,
//! or one of them under `valgrind --tool=callgrind` for instruction counts. They print timings;
//! their asserts only check that each login ran. A child of `sandbox` (declared there with
//! `#[path]`) because they build a [`Sandbox`] directly and time a bare context with the sandbox's
//! private intrinsic list.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use super::*;
use crate::script::tests_support::tests_env;

pub(crate) const RULES: &[(&str, &str)] = &[
    (
        "01-email-verified",
        include_str!("../../benches/fixtures/rules/01-email-verified.js"),
    ),
    (
        "02-roles",
        include_str!("../../benches/fixtures/rules/02-roles.js"),
    ),
];
pub(crate) const ACTIONS: &[(&str, &str)] = &[
    (
        "01-plan",
        include_str!("../../benches/fixtures/actions/01-plan.js"),
    ),
    (
        "02-admin-scope",
        include_str!("../../benches/fixtures/actions/02-admin-scope.js"),
    ),
    (
        "03-tenant",
        include_str!("../../benches/fixtures/actions/03-tenant.js"),
    ),
];

pub(crate) fn bench_scripts() -> Vec<Arc<Script>> {
    let mut v = Vec::new();
    for (kind, list) in [(ScriptKind::Rule, RULES), (ScriptKind::Action, ACTIONS)] {
        for (name, src) in list {
            let bc = catalog::compile(kind, name, src).unwrap();
            v.push(Arc::new(Script::for_check(kind, name, bc.into())));
        }
    }
    v
}

fn n() -> usize {
    std::env::var("PROFILE_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5000)
}

/// The bench's 2 Rules + 3 Actions in process, warm: `PROFILE_N=2000 valgrind --tool=callgrind
/// <test binary> --ignored --exact script::sandbox::profile::warm`.
#[test]
#[ignore]
fn warm() {
    let env = tests_env();
    // PROFILE_SET=none|rules|actions: a subset.
    let set = std::env::var("PROFILE_SET").unwrap_or_default();
    let scripts: Vec<_> = bench_scripts()
        .into_iter()
        .filter(|s| match set.as_str() {
            "none" => false,
            "rules" => s.kind == ScriptKind::Rule,
            "actions" => s.kind == ScriptKind::Action,
            _ => true,
        })
        .collect();
    let deadline = Deadline::new();
    deadline.arm_at(Instant::now() + Duration::from_secs(600));
    let input = crate::script::tests_support::input();
    let (mut sb, _) = Sandbox::build(&env, scripts.iter(), 1, true, &deadline).unwrap();
    let n = n();
    let t = Instant::now();
    for _ in 0..n {
        let parts = crate::script::shape::event_parts(&input);
        let rj = crate::script::shape::rules_json(&input);
        let o = sb
            .run_login(&parts, Some(&rj), input.now_ms, Arc::default())
            .unwrap();
        assert!(matches!(
            o.verdict,
            crate::script::Verdict::Allow | crate::script::Verdict::Deny(_)
        ));
    }
    println!(
        "warm 2 rules + 3 actions: {:.1} µs per login",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
}

/// Strict: build + run + drop per login.
#[test]
#[ignore]
fn strict() {
    let env = tests_env();
    let scripts = bench_scripts();
    let deadline = Deadline::new();
    deadline.arm_at(Instant::now() + Duration::from_secs(600));
    let input = crate::script::tests_support::input();
    let n = n() / 5;
    let (mut tb, mut tr, mut td) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for _ in 0..n {
        let t = Instant::now();
        let (mut sb, _) = Sandbox::build(&env, scripts.iter(), 1, false, &deadline).unwrap();
        let t1 = Instant::now();
        let parts = crate::script::shape::event_parts(&input);
        let rj = crate::script::shape::rules_json(&input);
        let o = sb
            .run_login(&parts, Some(&rj), input.now_ms, Arc::default())
            .unwrap();
        assert_eq!(o.verdict, crate::script::Verdict::Allow);
        let t2 = Instant::now();
        drop(sb);
        let t3 = Instant::now();
        tb += t1 - t;
        tr += t2 - t1;
        td += t3 - t2;
    }
    let us = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    println!(
        "strict 2 rules + 3 actions: build {:.1} µs, run {:.1} µs, drop {:.1} µs",
        us(tb),
        us(tr),
        us(td)
    );
}

/// `cargo test --release --lib script::sandbox::profile::warm_login_in_process -- --ignored
/// --nocapture`: the JS side of one warm login, without the thread hand-off, and the cost of each
/// part (shaping the event, building a strict or warm sandbox, a bare runtime + context).
#[test]
#[ignore]
fn warm_login_in_process() {
    let env = tests_env();
    let src =
        |body: &str| format!("exports.onExecutePostLogin = async (event, api) => {{ {body} }};");
    let scripts: Vec<Arc<Script>> = [
        "api.accessToken.setCustomClaim('https://x/plan', event.user.app_metadata.plan || 'free');",
        "if ((event.authorization.roles || []).includes('admin')) api.accessToken.addScope('admin');",
        "api.accessToken.setCustomClaim('https://x/tenant', event.tenant.id);",
    ]
    .iter()
    .enumerate()
    .map(|(i, b)| {
        let name = format!("a{i}");
        let bc = catalog::compile(ScriptKind::Action, &name, &src(b)).unwrap();
        Arc::new(Script::for_check(ScriptKind::Action, &name, bc.into()))
    })
    .collect();
    let deadline = Deadline::new();
    deadline.arm_at(Instant::now() + Duration::from_secs(60));
    let input = crate::script::tests_support::input();
    for n in [0usize, 1, 3] {
        let (mut sb, _) = Sandbox::build(&env, scripts[..n].iter(), 1, true, &deadline).unwrap();
        let t = Instant::now();
        for _ in 0..5000 {
            let parts = crate::script::shape::event_parts(&input);
            sb.run_login(&parts, None, 0, Arc::default()).unwrap();
        }
        println!(
            "{n} actions: {:.1} µs per login",
            t.elapsed().as_secs_f64() * 1e6 / 5000.0
        );
    }
    let rule = |name: &str, body: &str| {
        let src = format!("function (user, context, callback) {{ {body} }}");
        let bc = catalog::compile(ScriptKind::Rule, name, &src).unwrap();
        Arc::new(Script::for_check(ScriptKind::Rule, name, bc.into()))
    };
    let rules = [
        rule(
            "r1",
            "context.accessToken['https://x/email'] = user.email; callback(null, user, context);",
        ),
        rule(
            "r2",
            "context.idToken['https://x/roles'] = context.authorization.roles; callback(null, user, context);",
        ),
    ];
    for n in [1usize, 2] {
        let (mut sb, _) = Sandbox::build(&env, rules[..n].iter(), 1, true, &deadline).unwrap();
        let t = Instant::now();
        for _ in 0..5000 {
            let rj = crate::script::shape::rules_json(&input);
            sb.run_login(&[], Some(&rj), 0, Arc::default()).unwrap();
        }
        println!(
            "{n} rules: {:.1} µs per login",
            t.elapsed().as_secs_f64() * 1e6 / 5000.0
        );
    }
    let t = Instant::now();
    for _ in 0..5000 {
        let _ = crate::script::shape::event_parts(&input);
    }
    println!(
        "event_parts alone: {:.1} µs",
        t.elapsed().as_secs_f64() * 1e6 / 5000.0
    );
    let t = Instant::now();
    for _ in 0..500 {
        let _ = Sandbox::build(&env, scripts.iter(), 1, false, &deadline).unwrap();
    }
    println!(
        "strict build (3 actions): {:.1} µs",
        t.elapsed().as_secs_f64() * 1e6 / 500.0
    );
    let t = Instant::now();
    for _ in 0..500 {
        let _ = Sandbox::build(&env, scripts[..0].iter(), 1, false, &deadline).unwrap();
    }
    println!(
        "strict build (no script): {:.1} µs",
        t.elapsed().as_secs_f64() * 1e6 / 500.0
    );
    let t = Instant::now();
    for _ in 0..500 {
        let rt = Runtime::new().unwrap();
        let _ctx = Context::custom::<SandboxIntrinsics>(&rt).unwrap();
    }
    println!(
        "runtime + context: {:.1} µs",
        t.elapsed().as_secs_f64() * 1e6 / 500.0
    );
    let t = Instant::now();
    for _ in 0..200 {
        let _ = Sandbox::build(&env, scripts.iter(), 1, true, &deadline).unwrap();
    }
    println!(
        "warm build (3 actions, hardened): {:.1} µs",
        t.elapsed().as_secs_f64() * 1e6 / 200.0
    );
}
