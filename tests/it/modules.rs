//! `require` of local modules and Node built-ins over HTTP (npm packages: `npm.rs`).

use serde_json::json;

use crate::support::*;

/// Every built-in claimsmith provides, called as a Node script would; the expected claim
/// below is what Node 20 prints for the same array.
const BUILTINS: &str = r#"
const path = require('path'), qs = require('querystring'), util = require('util'), assert = require('assert'), EventEmitter = require('events');
const url = require('url'), { Buffer: B } = require('buffer'), { StringDecoder } = require('string_decoder'), punycode = require('punycode'), Stream = require('node:stream');
exports.onExecutePostLogin = async (event, api) => {
  api.accessToken.setCustomClaim('https://t/builtins', [
    path.join('/a/b', '../c', 'd.txt'), path.parse('/home/u/f.txt').name,
    qs.stringify({ a: [1, 2], b: 'x y' }), qs.parse('a=1&a=2&b=%20x+y').a,
    util.format('%s=%d %j', 'n', 42.5, { a: [1] }), util.inspect({ a: { b: { c: { d: 1 } } } }),
    (() => { try { assert.deepStrictEqual({ a: 1 }, { a: 2 }); return 'equal'; } catch (e) { return [e.name, e.code]; } })(),
    (() => { const e = new EventEmitter(); let n = 0; e.on('x', (v) => { n += v; }); e.emit('x', 2); e.emit('x', 3); return n; })(),
    url.parse('https://App.Example.com:8443/cb?code=a%20b#x', true).query.code, url.resolve('https://a.example/x/y', '../z'),
    B.from('héllo').toString('base64'), new StringDecoder('utf8').write(B.from([0xe2, 0x82, 0xac])),
    punycode.toASCII('bücher.example'), typeof Stream.prototype.pipe,
  ]);
};
"#;

#[tokio::test]
async fn built_in_modules_answer_as_node_20_does_in_both_modes() {
    use claimsmith::script::Isolation;
    for mode in [Isolation::Warm, Isolation::Strict] {
        let s = TestServer::start_scripts(&[("actions/01-builtins.js", BUILTINS)], |c| {
            c.scripts.engine.isolation = mode;
        })
        .await;
        let c = s.claims().await;
        assert_eq!(
            c["https://t/builtins"],
            json!([
                "/a/c/d.txt",
                "f",
                "a=1&a=2&b=x%20y",
                ["1", "2"],
                "n=42.5 {\"a\":[1]}",
                "{ a: { b: { c: [Object] } } }",
                ["AssertionError", "ERR_ASSERTION"],
                5,
                "a b",
                "https://a.example/z",
                "aMOpbGxv",
                "€",
                "xn--bcher-kva.example",
                "function"
            ]),
            "{mode:?}"
        );
        s.stop().await;
    }
}

#[tokio::test]
async fn local_modules_resolve_as_in_node_and_host_modules_refuse_the_login() {
    let action = r#"const greet = require('./lib/greet'), conf = require('./lib/conf.json'), tools = require('./lib/tools');
exports.onExecutePostLogin = async (event, api) => {
  api.accessToken.setCustomClaim('https://t/local', [greet(event.user.email), conf.tier, tools.name]);
};"#;
    let s = TestServer::start_scripts(
        &[
            ("actions/01-local.js", action),
            (
                "actions/lib/greet.js",
                "module.exports = (who) => 'hi ' + who.split('@')[0];",
            ),
            ("actions/lib/conf.json", r#"{"tier": "gold"}"#),
            (
                "actions/lib/tools/index.js",
                "exports.name = require('path').basename(__dirname);",
            ),
        ],
        |_| {},
    )
    .await;
    let c = s.claims().await;
    assert_eq!(
        c["https://t/local"],
        json!([
            format!("hi {}", EMAIL.split('@').next().unwrap()),
            "gold",
            "tools"
        ])
    );
    s.stop().await;

    // A module that needs a Node module claimsmith does not give fails with that module's error.
    let s = TestServer::start_scripts(
        &[
            ("actions/01-uses-fs.js", "exports.onExecutePostLogin = async (e, api) => { require('./lib/disk').read(); };"),
            ("actions/lib/disk.js", "const fs = require('fs'); exports.read = () => fs.readFileSync('/etc/passwd', 'utf8');"),
        ],
        |_| {},
    )
    .await;
    let (status, body) = s.login(&[("audience", API)]).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["error_description"],
        "The Node.js module 'fs' is not available in claimsmith"
    );
    s.stop().await;
}
