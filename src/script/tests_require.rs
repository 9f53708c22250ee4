//! `require`: local modules and packages resolved as Node does, one module cache per context,
//! failures that refuse the login. The resolution rules themselves are `resolve.rs`'s tests.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;

use serde_json::json;

use super::tests_support::*;
use super::*;

/// A scripts tree (paths relative to the folder holding `actions/`, `rules/`, `node_modules/`),
/// loaded as a set; the folder lives as long as the returned guard.
fn tree(files: &[(&str, &str)]) -> (tempfile::TempDir, Arc<ScriptSet>) {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let (a, r) = (dir.path().join("actions"), dir.path().join("rules"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&r).unwrap();
    let set = load_scripts(&a, &r, None, 1);
    // Broken modules are named in the set's errors; the tests that write them look there.
    assert!(
        set.errors
            .iter()
            .all(|e| e.path.to_string_lossy().contains("/lib/bad")),
        "{:?}",
        set.errors
    );
    (dir, Arc::new(set))
}

fn real(p: &Path) -> String {
    p.canonicalize().unwrap().display().to_string()
}

const COUNTER: &str = "let n = 0; exports.next = () => ++n;";

#[tokio::test]
async fn local_modules_json_and_folders_resolve_from_the_script() {
    let (dir, set) = tree(&[
        (
            "actions/lib/greet.js",
            "module.exports = (n) => 'hi ' + n + require('./suffix.json').s;",
        ),
        ("actions/lib/suffix.json", r#"{"s": "!"}"#),
        (
            "actions/lib/tools/index.js",
            "exports.where = [__filename, __dirname, module.id === __filename];",
        ),
        (
            "actions/a.js",
            "const greet = require('./lib/greet'); \
             exports.onExecutePostLogin = async (event, api) => { \
               api.accessToken.setCustomClaim('g', greet(event.user.name)); \
               api.accessToken.setCustomClaim('w', require('./lib/tools').where); \
               api.accessToken.setCustomClaim('me', [__filename, __dirname, require.resolve('./lib/greet')]); };",
        ),
    ]);
    let o = run(&set, Isolation::Warm).await.unwrap();
    let lib = real(&dir.path().join("actions/lib"));
    let actions = real(&dir.path().join("actions"));
    assert_eq!(claim(&o, "g").unwrap(), json!("hi Ada!"));
    assert_eq!(
        claim(&o, "w").unwrap(),
        json!([
            format!("{lib}/tools/index.js"),
            format!("{lib}/tools"),
            true
        ])
    );
    assert_eq!(
        claim(&o, "me").unwrap(),
        json!([
            format!("{actions}/a.js"),
            actions,
            format!("{lib}/greet.js")
        ])
    );
}

#[tokio::test]
async fn a_module_is_shared_within_a_login_and_follows_the_isolation_mode_between_logins() {
    let counted = "const c = require('./lib/counter'); exports.onExecutePostLogin = async (e, api) => { api.accessToken.setCustomClaim('NAME', c.next()); };";
    let (_dir, set) = tree(&[
        ("actions/lib/counter.js", COUNTER),
        ("actions/a.js", &counted.replace("NAME", "a")),
        ("actions/b.js", &counted.replace("NAME", "b")),
    ]);
    // One context: the second Action sees the first one's module instance.
    let engine = engine_with(Isolation::Warm);
    let mut seen = Vec::new();
    for _ in 0..2 {
        let o = engine.run_login(set.clone(), input()).await.unwrap();
        seen.push((claim(&o, "a").unwrap(), claim(&o, "b").unwrap()));
    }
    // for_test runs 2 workers: a login lands on either warm context, each keeping its count.
    assert_eq!(seen[0], (json!(1), json!(2)));
    assert!(
        seen[1] == (json!(3), json!(4)) || seen[1] == (json!(1), json!(2)),
        "{seen:?}"
    );
    let strict = engine_with(Isolation::Strict);
    for _ in 0..3 {
        let o = strict.run_login(set.clone(), input()).await.unwrap();
        assert_eq!(
            (claim(&o, "a").unwrap(), claim(&o, "b").unwrap()),
            (json!(1), json!(2))
        );
    }
}

#[tokio::test]
async fn rules_require_packages_by_version_and_fail_on_another_version() {
    let rule = |spec: &str| {
        format!(
            "function (user, context, callback) {{ context.idToken.v = require('{spec}').v; callback(null, user, context); }}"
        )
    };
    let pkg = [
        (
            "node_modules/tiny/package.json",
            r#"{"name": "tiny", "version": "1.2.3"}"#,
        ),
        ("node_modules/tiny/index.js", "exports.v = 'tiny';"),
    ];
    for (spec, want) in [
        ("tiny", Ok("tiny")),
        ("tiny@1.2.3", Ok("tiny")),
        ("tiny@1.2.4", Err("version 1.2.3, not 1.2.4")),
    ] {
        let r = rule(spec);
        let (_dir, set) = tree(&[pkg[0], pkg[1], ("rules/r.js", &r)]);
        let o = run(&set, Isolation::Warm).await;
        match want {
            Ok(v) => assert_eq!(id_claim(&o.unwrap(), "v").unwrap(), json!(v), "{spec}"),
            Err(text) => assert!(deny_text(&o).contains(text), "{spec}: {o:?}"),
        }
    }
}

#[tokio::test]
async fn cycles_see_partial_exports_as_in_node() {
    let (_dir, set) = tree(&[
        (
            "actions/lib/a.js",
            "exports.early = 1; const b = require('./b'); exports.fromB = b.sawA; exports.done = true;",
        ),
        (
            "actions/lib/b.js",
            "const a = require('./a'); exports.sawA = JSON.stringify(a);",
        ),
        (
            "actions/x.js",
            "const a = require('./lib/a'); exports.onExecutePostLogin = async (e, api) => { api.accessToken.setCustomClaim('c', [a.fromB, a.done]); };",
        ),
    ]);
    let o = run(&set, Isolation::Warm).await.unwrap();
    assert_eq!(claim(&o, "c").unwrap(), json!([r#"{"early":1}"#, true]));
}

#[tokio::test]
async fn a_module_that_fails_refuses_the_login_and_is_retried_next_time() {
    let files = |tail: &str| {
        [
            (
                "actions/lib/boom.js",
                "throw new Error('module boom');".to_string(),
            ),
            ("actions/lib/bad.js", "let x = ;".to_string()),
            ("actions/lib/bad.json", "{nope".to_string()),
            (
                "actions/a.js",
                format!(
                    "exports.onExecutePostLogin = async (e, api) => {{ \
                       const tries = []; \
                       for (const m of ['./lib/boom', './lib/boom', './lib/bad.js', './lib/bad.json', '../../outside']) {{ \
                         try {{ require(m); tries.push('loaded'); }} catch (err) {{ tries.push(err.name + ' ' + err.code); }} \
                       }} \
                       api.accessToken.setCustomClaim('t', tries); {tail} }};"
                ),
            ),
        ]
    };
    let caught = files("");
    let list: Vec<(&str, &str)> = caught.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let (_dir, set) = tree(&list);
    // Both broken files are load errors of the set, with where they failed.
    let mut broken: Vec<String> = set.errors.iter().map(|e| e.to_string()).collect();
    broken.sort();
    assert_eq!(broken.len(), 2, "{broken:?}");
    assert!(
        broken[0].contains("bad.js") && broken[0].contains(":1:"),
        "{broken:?}"
    );
    assert!(
        broken[1].contains("bad.json") && broken[1].contains("key must be a string"),
        "{broken:?}"
    );
    let o = run(&set, Isolation::Warm).await.unwrap();
    // A module that threw is not cached: the second require runs it again.
    assert_eq!(
        claim(&o, "t").unwrap(),
        json!([
            "Error undefined",
            "Error undefined",
            "SyntaxError undefined",
            "SyntaxError undefined",
            "Error MODULE_NOT_FOUND"
        ])
    );
    let uncaught = files("require('./lib/boom');");
    let list: Vec<(&str, &str)> = uncaught.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let (_dir, set) = tree(&list);
    assert_eq!(deny_text(&run(&set, Isolation::Warm).await), "module boom");
}

#[tokio::test]
async fn packages_with_exports_maps_and_a_top_level_require_load_with_the_set() {
    let (_dir, set) = tree(&[
        (
            "node_modules/dual/package.json",
            r#"{"exports": {".": {"import": "./esm.mjs", "require": "./cjs.js"}, "./lite": "./lite.js"}}"#,
        ),
        (
            "node_modules/dual/cjs.js",
            "exports.kind = 'cjs:' + require('./lite').kind;",
        ),
        ("node_modules/dual/lite.js", "exports.kind = 'lite';"),
        ("node_modules/dual/esm.mjs", "export const kind = 'esm';"),
        (
            "actions/a.js",
            "const dual = require('dual'); \
             exports.onExecutePostLogin = async (e, api) => { \
               let hidden; try { require('dual/cjs.js'); } catch (err) { hidden = err.code; } \
               api.accessToken.setCustomClaim('d', [dual.kind, require('dual/lite').kind, hidden]); };",
        ),
    ]);
    let o = run(&set, Isolation::Strict).await.unwrap();
    assert_eq!(
        claim(&o, "d").unwrap(),
        json!(["cjs:lite", "lite", "ERR_PACKAGE_PATH_NOT_EXPORTED"])
    );
}

#[test]
fn a_missing_module_at_the_top_level_is_a_load_error() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("actions");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::write(
        a.join("a.js"),
        "const x = require('./nope'); exports.onExecutePostLogin = async () => {};",
    )
    .unwrap();
    let set = load_scripts(&a, &dir.path().join("rules"), None, 1);
    assert_eq!(set.errors.len(), 1, "{:?}", set.errors);
    assert!(
        set.errors[0]
            .message
            .contains("Cannot find module './nope'"),
        "{:?}",
        set.errors
    );
    assert_eq!(set.not_loaded.len(), 1);
}

/// The same calls run by Node 20; its output is the expected value below.
const BUILTINS_ACTION: &str = r#"
const path = require('path'), qs = require('node:querystring'), util = require('util'), assert = require('assert'), EventEmitter = require('events');
exports.onExecutePostLogin = async (event, api) => {
const out = {};
out.path = [path.join('/a/b', '../c', 'd.txt'), path.basename('/x/y.tar.gz', '.gz'), path.extname('a/b.c.d'), path.normalize('a//b/../c/.'), path.relative('/a/b/c', '/a/d'), path.parse('/home/u/f.txt'), require('path/posix') === path, path.sep];
out.qs = [qs.stringify({ a: [1, 2], b: 'x y', c: 'é&=' }), qs.parse('a=1&a=2&b=%20x+y&c'), qs.escape('a b/c'), qs.unescape('%41%zz')];
out.util = [util.format('%s=%d %j %o', 'n', 42.5, { a: [1] }, 'x'), util.inspect({ a: { b: { c: { d: 1 } } } }), util.isDeepStrictEqual({ a: [1, new Date(0)] }, { a: [1, new Date(0)] }), util.types.isDate(new Date()), util.types.isRegExp(/x/)];
const e = new EventEmitter(); const seen = []; e.once('x', (v) => seen.push('once' + v)); e.on('x', (v) => seen.push('on' + v)); e.emit('x', 1); e.emit('x', 2);
out.events = [seen, e.listenerCount('x'), typeof EventEmitter.EventEmitter];
const tries = [];
for (const f of [() => assert.strictEqual(1, 2), () => assert.deepStrictEqual({ a: 1 }, { a: 1 }), () => assert.ok(''), () => assert.throws(() => { throw new TypeError('t'); }, TypeError), () => require('assert/strict').equal(1, '1')]) {
  try { f(); tries.push('ok'); } catch (err) { tries.push([err.name, err.code, err.message]); }
}
out.assert = tries;
function Dog() { EventEmitter.call(this); } util.inherits(Dog, EventEmitter); const d = new Dog(); let barked = 0; d.on('bark', () => barked++); d.emit('bark');
out.inherits = [barked, Dog.super_ === EventEmitter];
out.promisify = await util.promisify((a, cb) => cb(null, a * 2))(21);
api.accessToken.setCustomClaim('out', out);
};
"#;

#[tokio::test]
async fn built_in_modules_answer_as_node_does() {
    let (_dir, set) = tree(&[("actions/a.js", BUILTINS_ACTION)]);
    // Node 20's output, except `assert.ok('')`: Node quotes the call's source, which a sandbox
    // without the source text cannot; claimsmith gives Node's fallback text.
    let node = json!({"path":["/a/c/d.txt","y.tar",".d","a/c","../../d",{"root":"/","dir":"/home/u","base":"f.txt","ext":".txt","name":"f"},true,"/"],
        "qs":["a=1&a=2&b=x%20y&c=%C3%A9%26%3D",{"a":["1","2"],"b":" x y","c":""},"a%20b%2Fc","A%zz"],
        "util":["n=42.5 {\"a\":[1]} 'x'","{ a: { b: { c: [Object] } } }",true,true,true],
        "events":[["once1","on1","on2"],1,"function"],
        "assert":[["AssertionError","ERR_ASSERTION","Expected values to be strictly equal:\n\n1 !== 2\n"],"ok",
                  ["AssertionError","ERR_ASSERTION","'' == true"],"ok",
                  ["AssertionError","ERR_ASSERTION","Expected values to be strictly equal:\n\n1 !== '1'\n"]],
        "inherits":[1,true],"promisify":42});
    for iso in [Isolation::Warm, Isolation::Strict] {
        let o = run(&set, iso).await.unwrap();
        assert_eq!(claim(&o, "out").unwrap(), node, "{iso:?}");
    }
}

#[tokio::test]
async fn built_in_modules_are_cached_per_context_and_frozen_when_warm() {
    let a = "exports.onExecutePostLogin = async (e, api) => { \
        'use strict'; const events = require('events'); \
        let wrote; try { events.defaultMaxListeners = 99; wrote = 'wrote'; } catch (err) { wrote = err.name; } \
        let poked; try { require('path').join = () => 'hijacked'; poked = 'poked'; } catch (err) { poked = err.name; } \
        api.accessToken.setCustomClaim('b', [require('node:events') === events, wrote, poked, require('path').join('a', 'b'), \
          Object.isFrozen(require('util').types)]); };";
    let (_dir, set) = tree(&[("actions/a.js", a)]);
    let o = run(&set, Isolation::Warm).await.unwrap();
    assert_eq!(
        claim(&o, "b").unwrap(),
        json!([true, "TypeError", "TypeError", "a/b", true])
    );
    // Strict: a fresh context per login, so nothing a login changes can outlive it.
    let o = run(&set, Isolation::Strict).await.unwrap();
    assert_eq!(
        claim(&o, "b").unwrap(),
        json!([true, "wrote", "poked", "hijacked", false])
    );
}

#[tokio::test]
async fn url_buffer_and_string_decoder_modules_answer_as_node_does() {
    let a = r#"exports.onExecutePostLogin = async (e, api) => {
const url = require('url'), { Buffer: B } = require('buffer'), { StringDecoder } = require('string_decoder');
const u = url.parse('https://App.Example.com:8443/cb?code=a%20b&state=1#x', true);
const d = new StringDecoder('utf8'); const parts = [d.write(B.from([0xe2, 0x82])), d.write(B.from([0xac])), d.end()];
api.accessToken.setCustomClaim('u', [u.hostname, u.port, u.pathname, u.query.code, u.href,
  url.format({ protocol: 'https', hostname: 'a.example', pathname: '/cb', query: { code: 'x y' } }),
  url.resolve('https://a.example/x/y', '../z'), new url.URL('https://a.example/p?q=1').searchParams.get('q'),
  B.from('hi').toString('base64'), B === Buffer, parts]); };"#;
    let (_dir, set) = tree(&[("actions/a.js", a)]);
    // Node 20's output for the same calls.
    let node = json!([
        "app.example.com",
        "8443",
        "/cb",
        "a b",
        "https://app.example.com:8443/cb?code=a%20b&state=1#x",
        "https://a.example/cb?code=x%20y",
        "https://a.example/z",
        "1",
        "aGk=",
        true,
        ["", "€", ""]
    ]);
    for iso in [Isolation::Warm, Isolation::Strict] {
        let o = run(&set, iso).await.unwrap();
        assert_eq!(claim(&o, "u").unwrap(), node, "{iso:?}");
    }
}

#[tokio::test]
async fn stream_is_the_legacy_stream_that_jws_builds_on() {
    let a = r#"const Stream = require('stream'), util = require('util');
function Source() { Stream.call(this); this.readable = true; } util.inherits(Source, Stream);
function Sink() { Stream.call(this); this.writable = true; this.got = []; } util.inherits(Sink, Stream);
Sink.prototype.write = function (c) { this.got.push(c); return true; };
Sink.prototype.end = function () { this.emit('finish', this.got.join('')); };
exports.onExecutePostLogin = async (e, api) => {
  const src = new Source(), sink = new Sink(); let out;
  sink.on('finish', (s) => { out = s; });
  src.pipe(sink); src.emit('data', 'a'); src.emit('data', 'b'); src.emit('end');
  let readable; try { new Stream.Readable(); } catch (err) { readable = err.message; }
  api.accessToken.setCustomClaim('s', [out, src instanceof require('events'), readable]);
};"#;
    let (_dir, set) = tree(&[("actions/a.js", a)]);
    let o = run(&set, Isolation::Warm).await.unwrap();
    assert_eq!(
        claim(&o, "s").unwrap(),
        json!([
            "ab",
            true,
            "stream.Readable is not available in claimsmith (only the legacy Stream is)"
        ])
    );
}

#[tokio::test]
async fn timers_process_and_console_modules_are_the_globals() {
    let a = r#"exports.onExecutePostLogin = async (e, api) => {
  const t = require('timers'), tp = require('node:timers/promises');
  const waited = await tp.setTimeout(2, 'later');
  api.accessToken.setCustomClaim('m', [t.setTimeout === setTimeout, t.promises === tp, waited,
    await tp.setImmediate('now'), require('process') === process, require('console') === console]);
};"#;
    let (_dir, set) = tree(&[("actions/a.js", a)]);
    for iso in [Isolation::Warm, Isolation::Strict] {
        let o = run(&set, iso).await.unwrap();
        assert_eq!(
            claim(&o, "m").unwrap(),
            json!([true, true, "later", "now", true, true]),
            "{iso:?}"
        );
    }
}

#[tokio::test]
async fn an_installed_package_wins_over_claimsmiths_stand_in() {
    let a = "exports.onExecutePostLogin = async (e, api) => { \
        api.accessToken.setCustomClaim('s', [typeof require('axios'), typeof require('axios').get, typeof require('node-fetch')]); };";
    let (_dir, set) = tree(&[("actions/a.js", a)]);
    let o = run(&set, Isolation::Warm).await.unwrap();
    assert_eq!(
        claim(&o, "s").unwrap(),
        json!(["function", "function", "function"])
    );
    let (_dir, set) = tree(&[
        ("actions/a.js", a),
        ("node_modules/axios/index.js", "module.exports = 'mine';"),
    ]);
    let o = run(&set, Isolation::Warm).await.unwrap();
    assert_eq!(
        claim(&o, "s").unwrap(),
        json!(["string", "undefined", "function"])
    );
}
