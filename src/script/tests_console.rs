//! `console` in the sandbox: Node's `util.format` specifiers, inspect-style rendering, the other
//! members, and the per-script cap. Each test reads the exact lines `host.log` sent to tracing.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context as LayerCtx, SubscriberExt};
use tracing_subscriber::{Layer, Registry};

use super::*;
use crate::script::catalog;
use crate::script::tests_support::{scoped_subscriber, tests_env};

/// `(level, message)` of every `script` event.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<(String, String)>>>);

struct Message(String);
impl Visit for Message {
    fn record_debug(&mut self, f: &Field, v: &dyn std::fmt::Debug) {
        if f.name() == "message" {
            self.0 = format!("{v:?}");
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for Lines {
    fn on_event(&self, e: &tracing::Event<'_>, _: LayerCtx<'_, S>) {
        if e.metadata().target() != "script" {
            return;
        }
        let mut m = Message(String::new());
        e.record(&mut m);
        let level = e.metadata().level().to_string();
        self.0.lock().unwrap().push((level, m.0));
    }
}

fn action(name: &str, body: &str) -> Arc<Script> {
    let src = format!("exports.onExecutePostLogin = async (event, api) => {{ {body} }};");
    let bc = catalog::compile(ScriptKind::Action, name, &src).unwrap();
    Arc::new(Script::for_check(ScriptKind::Action, name, bc.into()))
}

/// Runs `logins` logins of the given Actions (warm, hardened) with `cap` bytes of console per
/// script; returns every script line as `(LEVEL, text)`.
fn run_all(actions: &[(&str, &str)], cap: usize, logins: usize) -> Vec<(String, String)> {
    let lines = Lines::default();
    let subscriber = Registry::default().with(lines.clone());
    let scripts: Vec<_> = actions.iter().map(|(n, b)| action(n, b)).collect();
    let _one = scoped_subscriber();
    tracing::subscriber::with_default(subscriber, || {
        tracing::callsite::rebuild_interest_cache();
        let mut env = tests_env();
        env.console_cap = cap;
        let deadline = Deadline::new();
        deadline.arm_at(Instant::now() + Duration::from_secs(10));
        let (mut sb, _) =
            Sandbox::build(&env, scripts.iter(), 1, &Arc::default(), true, &deadline).unwrap();
        for _ in 0..logins {
            let out = sb
                .run_login(
                    &["transaction".into(), "{}".into()],
                    None,
                    0,
                    Arc::default(),
                )
                .unwrap();
            assert_eq!(out.verdict, crate::script::Verdict::Allow);
        }
        deadline.disarm();
    });
    lines.0.lock().unwrap().clone()
}

/// The text of each line one Action logged (one login, cap 1 MiB).
fn texts(body: &str) -> Vec<String> {
    run_all(&[("a", body)], 1 << 20, 1)
        .into_iter()
        .map(|(_, t)| t)
        .collect()
}

#[test]
fn string_and_number_specifiers() {
    assert_eq!(
        texts(
            "console.log('%s|%s|%s|%s|%s', 'a', 42, -0, 5n, Symbol('q'));
             console.log('%s', {a: 1, b: {c: {}}, d: [1]});
             console.log('%s', {toString() { return 'T'; }});
             console.log('%d %d %d %d %d', '42', 1.5, 7n, {}, -0);
             console.log('%i %i %i %i', '42.9px', -3.7, 9n, 'x');
             console.log('%f %f %f', '1.5e3x', 'x', 2);"
        ),
        [
            "a|42|-0|5n|Symbol(q)",
            "{ a: 1, b: [Object], d: [Array] }",
            "T",
            "42 1.5 7n NaN -0",
            "42 -3 9n NaN",
            "1500 NaN 2",
        ]
    );
}

#[test]
fn json_inspect_css_and_percent_specifiers() {
    assert_eq!(
        texts(
            "const o = {a: [1, 'x']}; const c = {}; c.c = c;
             console.log('%j %j', o, c);
             console.log('%j', undefined);
             console.log('%O', {a: {b: {c: {d: 1}}}});
             console.log('%o', [1]);
             console.log('%cred%c!', 'color: red', '');
             console.log('100%% %s', 'sure');
             console.log('%s and %s', 'a');
             console.log('%x %s', 1);
             console.log('%s', 'a', 'b', {c: 1}, 2, [3]);"
        ),
        [
            "{\"a\":[1,\"x\"]} [Circular]",
            "undefined",
            "{ a: { b: { c: [Object] } } }",
            "[ 1, [length]: 1 ]",
            "red!",
            "100% sure",
            "a and %s",
            "%x 1",
            "a b { c: 1 } 2 [ 3 ]",
        ]
    );
}

#[test]
fn values_render_like_util_inspect() {
    assert_eq!(
        texts(
            "class P { constructor() { this.x = 1; } }
             function foo() {}
             async function af() {}
             const n = Object.create(null); n.x = 1;
             console.log(1, 'two', [3, 'four'], null, undefined, true, 5n, -0);
             console.log({a: 1, b: 'x', 'c-d': \"it's\", e: 'a\\nb', [Symbol('s')]: 2});
             console.log({a: {b: {c: {d: 1}}}}, [[[[1]]]]);
             console.log(foo, () => {}, af, class Bar {}, [foo]);
             console.log(new Map([['a', 1], [{k: 1}, [2]]]), new Set([1, 'x']), new Map());
             console.log(new Date(0), /a+/g, new Date(NaN));
             console.log(n, new P(), [], {}, [1, , 3], new String('s'), new Number(2));
             console.log(Array.from({length: 7}, (_, i) => i));
             console.log(Array.from({length: 102}, () => 0).length, Array(101).fill('a').slice(0, 101).length);
             console.log({alpha: 'x'.repeat(30), beta: 'y'.repeat(30)});"
        ),
        [
            "1 two [ 3, 'four' ] null undefined true 5n -0",
            "{ a: 1, b: 'x', 'c-d': \"it's\", e: 'a\\nb', [Symbol(s)]: 2 }",
            "{ a: { b: { c: [Object] } } } [ [ [ [Array] ] ] ]",
            "[Function: foo] [Function (anonymous)] [AsyncFunction: af] [class Bar] [ [Function: foo] ]",
            "Map(2) { 'a' => 1, { k: 1 } => [ 2 ] } Set(2) { 1, 'x' } Map(0) {}",
            "1970-01-01T00:00:00.000Z /a+/g Invalid Date",
            "[Object: null prototype] { x: 1 } P { x: 1 } [] {} [ 1, <1 empty item>, 3 ] [String: 's'] [Number: 2]",
            "[\n  0, 1, 2, 3,\n  4, 5, 6\n]",
            "102 101",
            &format!("{{\n  alpha: '{}',\n  beta: '{}'\n}}", "x".repeat(30), "y".repeat(30)),
        ]
    );
}

#[test]
fn long_arrays_are_cut_at_100_items() {
    let t = texts("console.log(Array(103).fill(1));");
    assert!(t[0].ends_with("\n  ... 3 more items\n]"), "{}", t[0]);
    assert_eq!(t[0].matches('1').count(), 100, "{}", t[0]);
}

#[test]
fn cycles_are_marked_and_terminate() {
    assert_eq!(
        texts(
            "const o = {name: 'o'}; o.self = o;
             const a = [1]; a.push(a);
             const m = new Map(); m.set('m', m);
             const x = {y: {}}; x.y.x = x;
             console.log(o); console.log(a); console.log(m); console.log(x);
             console.log('%s', o);"
        ),
        [
            "<ref *1> { name: 'o', self: [Circular *1] }",
            "<ref *1> [ 1, [Circular *1] ]",
            "<ref *1> Map(1) { 'm' => [Circular *1] }",
            "<ref *1> { y: { x: [Circular *1] } }",
            "<ref *1> { name: 'o', self: [Circular *1] }",
        ]
    );
}

#[test]
fn errors_show_name_message_and_stack() {
    let t = texts(
        "function thrower() { return new Error('boom'); }
         const e = thrower();
         console.log(e);
         console.error('failed:', e);
         class MyErr extends Error { constructor(m) { super(m); this.name = 'MyErr'; } }
         console.log(new MyErr('bad'));
         const c = new TypeError('typed'); c.code = 'E1';
         console.log(c);
         console.log({err: new RangeError('r')}.err.name, [new Error('in')].length);
         const s = new Error('nostack'); Object.defineProperty(s, 'stack', {value: ''});
         console.log(s);",
    );
    assert!(t[0].starts_with("Error: boom\n    at thrower"), "{}", t[0]);
    assert!(
        t[0].lines().skip(1).all(|l| l.starts_with("    at ")),
        "{}",
        t[0]
    );
    assert!(
        t[1].starts_with("failed: Error: boom\n    at thrower"),
        "{}",
        t[1]
    );
    assert!(t[2].starts_with("MyErr: bad\n    at "), "{}", t[2]);
    assert!(!t[2].contains("Error: bad"), "{}", t[2]);
    assert!(t[3].starts_with("TypeError: typed\n    at "), "{}", t[3]);
    assert!(t[3].ends_with(" {\n  code: 'E1'\n}"), "{}", t[3]);
    assert_eq!(t[4], "RangeError 1");
    assert_eq!(t[5], "[Error: nostack]");
}

#[test]
fn count_time_assert_group_dir_table_trace() {
    let all = run_all(
        &[(
            "a",
            "console.count(); console.count(); console.count('x'); console.countReset(); console.count();
             console.countReset('nope');
             console.time('t'); console.timeLog('t', 'mid', {n: 1}); console.timeEnd('t'); console.timeEnd('t');
             console.time(); console.time();
             console.assert(true, 'no'); console.assert(false, 'x %s', 'y'); console.assert(0); console.assert(false, {a: 1});
             console.log('a'); console.group('G %d', 1); console.log('b\\nc'); console.group(); console.info('d');
             console.groupEnd(); console.groupEnd(); console.groupEnd(); console.log('e');
             console.dir({a: {b: {c: {d: 1}}}}, {depth: 0}); console.dir('s');
             console.table([{a: 1}]);
             console.trace('here %d', 1);",
        )],
        1 << 20,
        1,
    );
    let text = |i: usize| all[i].1.as_str();
    let level = |i: usize| all[i].0.as_str();
    assert_eq!(
        (text(0), text(1), text(2), text(3)),
        ("default: 1", "default: 2", "x: 1", "default: 1")
    );
    assert_eq!(
        (text(4), level(4)),
        ("Count for 'nope' does not exist", "WARN")
    );
    let ms = regex_lite(text(5), "t: ", "ms mid { n: 1 }");
    assert!(ms, "{}", text(5));
    assert!(regex_lite(text(6), "t: ", "ms"), "{}", text(6));
    assert_eq!(text(7), "No such label 't' for console.timeEnd()");
    assert_eq!(text(8), "Label 'default' already exists for console.time()");
    assert_eq!(
        (text(9), text(10), text(11), level(9)),
        (
            "Assertion failed: x y",
            "Assertion failed",
            "Assertion failed { a: 1 }",
            "WARN"
        )
    );
    assert_eq!(
        [text(12), text(13), text(14), text(15), text(16)],
        ["a", "G 1", "  b\n  c", "    d", "e"]
    );
    assert_eq!((text(17), text(18)), ("{ a: [Object] }", "'s'"));
    assert_eq!(
        text(19),
        "┌─────────┬───┐\n│ (index) │ a │\n├─────────┼───┤\n│ 0       │ 1 │\n└─────────┴───┘"
    );
    assert!(
        text(20).starts_with("Trace: here 1\n    at "),
        "{}",
        text(20)
    );
    assert_eq!(level(20), "TRACE");
    assert_eq!(all.len(), 21, "{all:?}");
}

/// `console.table` as Node 20 prints it (each expected text is Node 20's own output).
#[test]
fn table_renders_like_node() {
    let t = texts(
        "console.table([{a: 1, b: 'Y'}, {a: 'Z', b: 2}]); console.table({x: {a: 1}, y: 5});
         console.table([[1, 2], [3, 4]], ['0']); console.table(new Map([['k', {v: 1}]]));
         console.table(new Set(['a'])); console.table(5, 'ignored');
         console.table([{a: {b: {c: 1}}, z: [1, 2, 3, 4, 5]}]);
         try { console.table([1], 'a'); } catch (e) { console.log(e.name); }",
    );
    let expected = [
        "┌─────────┬─────┬─────┐\n│ (index) │ a   │ b   │\n├─────────┼─────┼─────┤\n│ 0       │ 1   │ 'Y' │\n│ 1       │ 'Z' │ 2   │\n└─────────┴─────┴─────┘",
        "┌─────────┬───┬────────┐\n│ (index) │ a │ Values │\n├─────────┼───┼────────┤\n│ x       │ 1 │        │\n│ y       │   │ 5      │\n└─────────┴───┴────────┘",
        "┌─────────┬───┐\n│ (index) │ 0 │\n├─────────┼───┤\n│ 0       │ 1 │\n│ 1       │ 3 │\n└─────────┴───┘",
        "┌───────────────────┬─────┬──────────┐\n│ (iteration index) │ Key │ Values   │\n├───────────────────┼─────┼──────────┤\n│ 0                 │ 'k' │ { v: 1 } │\n└───────────────────┴─────┴──────────┘",
        "┌───────────────────┬────────┐\n│ (iteration index) │ Values │\n├───────────────────┼────────┤\n│ 0                 │ 'a'    │\n└───────────────────┴────────┘",
        "5",
        "┌─────────┬─────────────────┬───────────────────────────────┐\n│ (index) │ a               │ z                             │\n├─────────┼─────────────────┼───────────────────────────────┤\n│ 0       │ { b: [Object] } │ [ 1, 2, 3, ... 2 more items ] │\n└─────────┴─────────────────┴───────────────────────────────┘",
        "TypeError",
    ];
    assert_eq!(t, expected);
}

/// `<prefix><digits>.<3 digits><suffix>`
fn regex_lite(s: &str, prefix: &str, suffix: &str) -> bool {
    let Some(mid) = s.strip_prefix(prefix).and_then(|r| r.strip_suffix(suffix)) else {
        return false;
    };
    let Some((int, frac)) = mid.split_once('.') else {
        return false;
    };
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.len() == 3
        && frac.bytes().all(|b| b.is_ascii_digit())
}

#[test]
fn levels_and_state_are_per_script_per_login() {
    let body = "console.count(); console.group(); console.warn('w'); console.error('e'); console.debug('d'); console.info('i');";
    let all = run_all(&[("a", body), ("b", body)], 1 << 20, 2);
    let one: Vec<(String, String)> = [
        ("INFO", "default: 1"),
        ("WARN", "  w"),
        ("ERROR", "  e"),
        ("DEBUG", "  d"),
        ("INFO", "  i"),
    ]
    .iter()
    .map(|(l, t)| (l.to_string(), t.to_string()))
    .collect();
    let want: Vec<_> = (0..4).flat_map(|_| one.clone()).collect();
    assert_eq!(all, want);
}

#[test]
fn the_cap_counts_formatted_bytes_per_script_per_login() {
    // Cap 64: "g" (1 byte) and "  " + 30 bytes fit (33), the next 32 bytes do not.
    let body = "console.group('g'); console.log('z'.repeat(30)); console.log('w'.repeat(30)); console.log('v');";
    let all = run_all(&[("a", body), ("b", body)], 64, 2);
    let texts: Vec<&str> = all.iter().map(|(_, t)| t.as_str()).collect();
    let z = format!("  {}", "z".repeat(30));
    let one = [
        "g",
        z.as_str(),
        "console output over 64 bytes for this login; the rest is dropped",
    ];
    let want: Vec<&str> = (0..4).flat_map(|_| one).collect();
    assert_eq!(texts, want);
}

#[test]
fn console_members_are_frozen_and_formatting_errors_do_not_escape() {
    assert_eq!(
        texts(
            "console.log(Object.isFrozen(console), Object.keys(console).every((k) => Object.isFrozen(console[k])));
             console.log(Object.keys(console).join());
             const bad = {get x() { throw new Error('no'); }, toString: 1};
             console.log(bad);
             console.log('%j', {toJSON() { throw new Error('json'); }});"
        ),
        [
            "true true",
            "log,info,warn,error,debug,trace,dir,table,assert,count,countReset,time,timeLog,timeEnd,group,groupCollapsed,groupEnd",
            "{ x: [Getter], toString: 1 }",
            "[unprintable: json]",
        ]
    );
}

#[test]
fn the_event_shows_its_lazy_sections_and_percent_o_shows_hidden_keys() {
    assert_eq!(
        texts(
            "console.log(event);
             console.log('%o', function f() {});"
        ),
        [
            "{ transaction: { metadata: {} } }",
            "<ref *1> [Function: f] {\n  [length]: 0,\n  [name]: 'f',\n  [prototype]: { [constructor]: [Circular *1] }\n}",
        ]
    );
}

/// Typed arrays, `Buffer` and `ArrayBuffer` (issue 11) as Node 20 prints them.
#[test]
fn typed_arrays_buffers_and_array_buffers_render_like_node() {
    let t = texts(
        "console.log(new Uint8Array(8)); console.log({a: {b: {c: new Uint8Array(2)}}});\n\
         console.log([new Float64Array([1.5])], new BigInt64Array(1), Buffer.alloc(0), new ArrayBuffer(0));\n\
         console.log(Buffer.alloc(60)); console.log(Buffer.from('hi'), new ArrayBuffer(3));",
    );
    assert_eq!(
        t,
        [
            "Uint8Array(8) [\n  0, 0, 0, 0,\n  0, 0, 0, 0\n]",
            "{ a: { b: { c: [Uint8Array] } } }",
            "[ Float64Array(1) [ 1.5 ] ] BigInt64Array(1) [ 0n ] <Buffer > ArrayBuffer { [Uint8Contents]: <>, byteLength: 0 }",
            &format!("<Buffer {} ... 10 more bytes>", ["00"; 50].join(" ")),
            "<Buffer 68 69> ArrayBuffer { [Uint8Contents]: <00 00 00>, byteLength: 3 }",
        ]
    );
}

/// `util.inspect.custom` as Node calls it (depth, options, inspect), and the URL and
/// URLSearchParams it gives, as Node 20 prints them.
#[test]
fn custom_inspect_urls_and_search_params_render_like_node() {
    let t = texts(
        "console.log(new URL('http://u:p@x.example:8/p?a=1#h'));\n\
         console.log(new URLSearchParams('a=1&b=%C3%A9'), new URLSearchParams());\n\
         console.log({ u: new URL('http://x/') });\n\
         class C { [Symbol.for('nodejs.util.inspect.custom')](depth, opts, inspect) { return 'C<' + depth + ',' + typeof inspect + '>'; } }\n\
         console.log(new C(), [new C()], { a: { b: { c: new C() } } });\n\
         class D { [Symbol.for('nodejs.util.inspect.custom')]() { return { x: 1 }; } }\n\
         console.log(new D());\n\
         let got; console.log({ [Symbol.for('nodejs.util.inspect.custom')](d, o, i) { got = i; return 'e'; } });\n\
         console.log(Object.isFrozen(got));",
    );
    let url = "URL {\n  href: 'http://u:p@x.example:8/p?a=1#h',\n  origin: 'http://x.example:8',\n  protocol: 'http:',\n  username: 'u',\n  password: 'p',\n  host: 'x.example:8',\n  hostname: 'x.example',\n  port: '8',\n  pathname: '/p',\n  search: '?a=1',\n  searchParams: URLSearchParams { 'a' => '1' },\n  hash: '#h'\n}";
    let nested = "{\n  u: URL {\n    href: 'http://x/',\n    origin: 'http://x',\n    protocol: 'http:',\n    username: '',\n    password: '',\n    host: 'x',\n    hostname: 'x',\n    port: '',\n    pathname: '/',\n    search: '',\n    searchParams: URLSearchParams {},\n    hash: ''\n  }\n}";
    assert_eq!(
        t,
        [
            url,
            "URLSearchParams { 'a' => '1', 'b' => 'é' } URLSearchParams {}",
            nested,
            "C<2,function> [ C<1,function> ] { a: { b: { c: C<-1,function> } } }",
            "{ x: 1 }",
            "e",
            "true",
        ]
    );
}
