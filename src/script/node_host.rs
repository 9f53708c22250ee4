//! The Node globals' library (`node_globals.js`, `node_buffer.js`, `node_web.js`,
//! `node_timers.js`: `Buffer`, `URL`, `TextEncoder`, `crypto`, timers…) and the few host
//! functions it needs: the WHATWG URL parser (the `url` crate), SHA digests and HMAC (aws-lc-rs,
//! the crypto library the project already signs tokens with) and the OS random source.
//!
//! Nothing here runs when a login never touches those globals: the shim calls
//! [`node_globals`] (as `host.nodeGlobals`) on a context's first access to one of them, and only
//! then is the library read from its bytecode and are these host functions created. They are
//! handed to the library's factory and stay in its closure: no script can reach them. None may
//! panic: a bad argument is a JS `TypeError`. Bytes cross as "binary strings" (one char per byte,
//! as `atob` returns) one way and as a new `Uint8Array` the other, so no unsafe view of a script's
//! buffer is ever taken.

use std::sync::OnceLock;

use aws_lc_rs::{digest, hmac};
use rquickjs::function::Opt;
use rquickjs::{Ctx, Exception, Function, Object, TypedArray, Value};
use url::{Url, quirks};

static LIBRARY: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();

#[cfg(test)]
thread_local! {
    /// How many times this thread built the library (tests_node_globals: nothing is built for a
    /// login that never reads a Node global).
    pub(super) static BUILDS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Runs `node_globals.js` in `ctx` with the host functions below and returns the object holding
/// every global it defines (the shim installs them, and freezes them in warm isolation).
pub(super) fn node_globals<'js>(
    ctx: Ctx<'js>,
    fetch_start: Function<'js>,
    fetch_take: Function<'js>,
) -> rquickjs::Result<Value<'js>> {
    #[cfg(test)]
    BUILDS.with(|b| b.set(b.get() + 1));
    let factory: Function = super::modules::run_library(&ctx, &LIBRARY, "claimsmith:node", || {
        concat!(
            include_str!("node_globals.js"),
            include_str!("node_buffer.js"),
            include_str!("node_web.js"),
            include_str!("node_timers.js"),
            include_str!("node_fetch.js")
        )
        .to_owned()
    })?
    .get()?;
    let host = Object::new(ctx.clone())?;
    host.set("urlParse", Function::new(ctx.clone(), url_parse)?)?;
    host.set("urlSet", Function::new(ctx.clone(), url_set)?)?;
    host.set("digest", Function::new(ctx.clone(), digest_of)?)?;
    host.set("hmac", Function::new(ctx.clone(), hmac_sign)?)?;
    host.set("hmacVerify", Function::new(ctx.clone(), hmac_verify)?)?;
    host.set("random", Function::new(ctx.clone(), random)?)?;
    // `fetch`'s two host functions need the sandbox's state: the shim hands them over.
    host.set("fetchStart", fetch_start)?;
    host.set("fetchTake", fetch_take)?;
    factory.call((host,))
}

/// A URL's parts in the order `node_globals.js` reads them, as the WHATWG getters return them.
fn parts(u: &Url) -> Vec<String> {
    [
        quirks::href(u),
        quirks::protocol(u),
        quirks::username(u),
        quirks::password(u),
        quirks::host(u),
        quirks::hostname(u),
        quirks::port(u),
        quirks::pathname(u),
        quirks::search(u),
        quirks::hash(u),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain(std::iter::once(quirks::origin(u)))
    .collect()
}

/// WHATWG "URL parser" of `input` against an optional `base`: the parts, or `None` on failure.
fn url_parse(input: String, base: Opt<String>) -> Option<Vec<String>> {
    let url = match base.0 {
        Some(b) => Url::parse(&b).ok()?.join(&input).ok()?,
        None => Url::parse(&input).ok()?,
    };
    Some(parts(&url))
}

/// Applies one WHATWG setter to the URL `href` and returns the new parts. A value the setter
/// refuses leaves the URL unchanged, as the standard says; only `href` throws (in JS).
fn url_set(href: String, prop: String, value: String) -> Option<Vec<String>> {
    let mut u = Url::parse(&href).ok()?;
    // Each setter reports its refusal, which the standard ignores: the URL is then unchanged.
    let _ = match prop.as_str() {
        "href" => quirks::set_href(&mut u, &value).map_err(|_| ()),
        "protocol" => quirks::set_protocol(&mut u, &value),
        "username" => quirks::set_username(&mut u, &value),
        "password" => quirks::set_password(&mut u, &value),
        "host" => quirks::set_host(&mut u, &value),
        "hostname" => quirks::set_hostname(&mut u, &value),
        "port" => quirks::set_port(&mut u, &value),
        "pathname" => {
            quirks::set_pathname(&mut u, &value);
            Ok(())
        }
        "search" => {
            quirks::set_search(&mut u, &value);
            Ok(())
        }
        "hash" => {
            quirks::set_hash(&mut u, &value);
            Ok(())
        }
        _ => return None,
    };
    Some(parts(&u))
}

/// The bytes of a binary string (each char one byte); a char above U+00FF is a `TypeError`.
fn bytes_of(ctx: &Ctx<'_>, s: &str) -> rquickjs::Result<Vec<u8>> {
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| Exception::throw_type(ctx, "expected a binary string"))
}

fn digest_algorithm(ctx: &Ctx<'_>, name: &str) -> rquickjs::Result<&'static digest::Algorithm> {
    Ok(match name {
        "SHA-1" => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        "SHA-256" => &digest::SHA256,
        "SHA-384" => &digest::SHA384,
        "SHA-512" => &digest::SHA512,
        _ => return Err(Exception::throw_type(ctx, "unsupported digest algorithm")),
    })
}

fn hmac_algorithm(ctx: &Ctx<'_>, name: &str) -> rquickjs::Result<hmac::Algorithm> {
    Ok(match name {
        "SHA-1" => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        "SHA-256" => hmac::HMAC_SHA256,
        "SHA-384" => hmac::HMAC_SHA384,
        "SHA-512" => hmac::HMAC_SHA512,
        _ => return Err(Exception::throw_type(ctx, "unsupported HMAC hash")),
    })
}

fn digest_of<'js>(
    ctx: Ctx<'js>,
    alg: String,
    data: String,
) -> rquickjs::Result<TypedArray<'js, u8>> {
    let alg = digest_algorithm(&ctx, &alg)?;
    let d = digest::digest(alg, &bytes_of(&ctx, &data)?);
    TypedArray::new_copy(ctx, d.as_ref())
}

fn hmac_sign<'js>(
    ctx: Ctx<'js>,
    alg: String,
    key: String,
    data: String,
) -> rquickjs::Result<TypedArray<'js, u8>> {
    let key = hmac::Key::new(hmac_algorithm(&ctx, &alg)?, &bytes_of(&ctx, &key)?);
    let tag = hmac::sign(&key, &bytes_of(&ctx, &data)?);
    TypedArray::new_copy(ctx, tag.as_ref())
}

fn hmac_verify(
    ctx: Ctx<'_>,
    alg: String,
    key: String,
    data: String,
    signature: String,
) -> rquickjs::Result<bool> {
    let key = hmac::Key::new(hmac_algorithm(&ctx, &alg)?, &bytes_of(&ctx, &key)?);
    let (data, signature) = (bytes_of(&ctx, &data)?, bytes_of(&ctx, &signature)?);
    Ok(hmac::verify(&key, &data, &signature).is_ok())
}

/// `n` bytes from the OS random source (at most 65536, Web Crypto's `getRandomValues` limit).
fn random<'js>(ctx: Ctx<'js>, n: u32) -> rquickjs::Result<TypedArray<'js, u8>> {
    if n > 65536 {
        return Err(Exception::throw_range(&ctx, "at most 65536 random bytes"));
    }
    let mut b = vec![0u8; n as usize];
    aws_lc_rs::rand::fill(&mut b)
        .map_err(|_| Exception::throw_internal(&ctx, "the random source failed"))?;
    TypedArray::new(ctx, b)
}
