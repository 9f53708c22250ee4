//! The Node globals of issue 11 over HTTP: a Rule in Auth0's old style (`new Buffer(…, 'base64')`)
//! and an async Action (Web Crypto HMAC and digest, `URL`, `TextEncoder`, timers, `Proxy`…)
//! put what they computed into the access token, checked against the server's JWKS, in both
//! isolation modes. The expected values are what Node 20 prints for the same expressions.

use serde_json::json;

use crate::support::*;

const RULE: &str = r#"function (user, context, callback) {
  const decoded = new Buffer('aGVsbG8gd29ybGQ=', 'base64').toString();
  context.accessToken['https://t/rule'] = [decoded, Buffer.from(user.email).toString('hex'),
    new URL('https://x.example/p?q=1').searchParams.get('q')];
  callback(null, user, context);
}"#;

const ACTION: &str = r#"exports.onExecutePostLogin = async (event, api) => {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', enc.encode('secret'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const sig = Buffer.from(await crypto.subtle.sign('HMAC', key, enc.encode(event.user.email))).toString('base64url');
  const digest = Buffer.from(await crypto.subtle.digest('SHA-256', enc.encode('abc'))).toString('hex');
  const u = new URL('/cb?x=1', 'https://app.example.com/login');
  u.searchParams.set('user', event.user.email);
  const ticks = [];
  process.nextTick(() => ticks.push('tick'));
  setTimeout((x) => ticks.push(x), 5, 'timeout');
  await new Promise((r) => setTimeout(r, 10));
  api.accessToken.setCustomClaim('https://t/node', {
    sig, digest, url: u.href, b64: btoa('hi'), euro: new TextDecoder().decode(new Uint8Array([0xe2, 0x82, 0xac])),
    clone: structuredClone({ n: new Map([[1, 2]]) }).n.get(1), ticks,
    uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(crypto.randomUUID()),
    platform: process.platform, env: Object.keys(process.env), view: new DataView(new ArrayBuffer(2)).getUint16(0),
    proxied: new Proxy({}, { get: (t, k) => k + '!' }).x, aborted: AbortSignal.abort().aborted,
  });
};"#;

#[tokio::test]
async fn rules_and_actions_put_values_computed_by_node_globals_into_the_token() {
    use claimsmith::script::Isolation;
    for isolation in [Isolation::Warm, Isolation::Strict] {
        let s = TestServer::start_scripts(
            &[("rules/01-buffer.js", RULE), ("actions/01-node.js", ACTION)],
            |c| c.scripts.engine.isolation = isolation,
        )
        .await;
        let c = s.claims().await;
        assert_eq!(
            c["https://t/rule"],
            json!(["hello world", "616e6e406578616d706c652e636f6d", "1"]),
            "{isolation:?}"
        );
        assert_eq!(
            c["https://t/node"],
            json!({
                "sig": "vqxXSP6IHyFOqLj3s13SRS9yjok5BFSZ-PvmWdqV9A8",
                "digest": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                "url": "https://app.example.com/cb?x=1&user=ann%40example.com",
                "b64": "aGk=",
                "euro": "€",
                "clone": 2,
                "ticks": ["tick", "timeout"],
                "uuid": true,
                "platform": "linux",
                "env": [],
                "view": 0,
                "proxied": "x!",
                "aborted": true,
            }),
            "{isolation:?}"
        );
        s.stop().await;
    }
}
