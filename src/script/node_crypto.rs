//! The host side of the `crypto` built-in module (`node/crypto.js`): digests, HMAC, random bytes,
//! key import/export and signatures, done by aws-lc-rs (the library the project signs tokens
//! with), plus MD5 from RustCrypto's `md-5` (aws-lc-rs has none).
//!
//! [`crypto_host`] builds a plain object of these functions; the shim hands it only to built-in
//! modules (`require('claimsmith:crypto-host')`), and `crypto.js` keeps it in its closure, so no
//! script can reach a raw host function. Bytes come in as binary strings (one char per byte,
//! as `node_host.rs` takes them: no view of script memory is ever taken) and go out as a new
//! `Uint8Array`.
//! None of these may panic: bad input is a JS `TypeError` or `Error`. Keys are never logged.
//!
//! Keys cross as DER: a private key as PKCS#8, a public key as SPKI. What `crypto.js` keeps in a
//! `KeyObject` is that DER and the details [`import_key`] returns.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{self, EcdsaKeyPair, RsaKeyPair};
use aws_lc_rs::{digest, hmac, rand, rsa};
use md5::Digest as _;
use rquickjs::{Ctx, Exception, Function, IntoJs, Object, TypedArray, Value};

use super::der::{self, Imported};
use super::jwk;

/// The host functions `crypto.js` uses, on a fresh plain object.
pub(super) fn crypto_host<'js>(ctx: Ctx<'js>) -> rquickjs::Result<Object<'js>> {
    let host = Object::new(ctx.clone())?;
    host.set("digest", Function::new(ctx.clone(), digest_of)?)?;
    host.set("hmac", Function::new(ctx.clone(), hmac_of)?)?;
    host.set("random", Function::new(ctx.clone(), random)?)?;
    host.set("importKey", Function::new(ctx.clone(), import_key)?)?;
    host.set("exportKey", Function::new(ctx.clone(), export_key)?)?;
    host.set("sign", Function::new(ctx.clone(), sign)?)?;
    host.set("verify", Function::new(ctx.clone(), verify)?)?;
    Ok(host)
}

fn type_error<T>(ctx: &Ctx<'_>, message: &str) -> rquickjs::Result<T> {
    Err(Exception::throw_type(ctx, message))
}

fn error<T>(ctx: &Ctx<'_>, message: &str) -> rquickjs::Result<T> {
    Err(Exception::throw_message(ctx, message))
}

/// The bytes of a binary string (each char one byte); a char above U+00FF is a `TypeError`.
fn bytes(ctx: &Ctx<'_>, s: &str) -> rquickjs::Result<Vec<u8>> {
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| Exception::throw_type(ctx, "expected a binary string"))
}

fn out<'js>(ctx: &Ctx<'js>, b: &[u8]) -> rquickjs::Result<TypedArray<'js, u8>> {
    TypedArray::new_copy(ctx.clone(), b)
}

/// A digest by `crypto.js`'s canonical name (it maps Node's aliases first).
fn sha(name: &str) -> Option<&'static digest::Algorithm> {
    Some(match name {
        "sha1" => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        "sha224" => &digest::SHA224,
        "sha256" => &digest::SHA256,
        "sha384" => &digest::SHA384,
        "sha512" => &digest::SHA512,
        "sha512-256" => &digest::SHA512_256,
        _ => return None,
    })
}

fn hash(name: &str, data: &[u8]) -> Option<Vec<u8>> {
    if name == "md5" {
        return Some(md5::Md5::digest(data).to_vec());
    }
    Some(digest::digest(sha(name)?, data).as_ref().to_vec())
}

fn digest_of<'js>(
    ctx: Ctx<'js>,
    alg: String,
    data: String,
) -> rquickjs::Result<TypedArray<'js, u8>> {
    match hash(&alg, &bytes(&ctx, &data)?) {
        Some(d) => out(&ctx, &d),
        None => error(&ctx, "Digest method not supported"),
    }
}

/// HMAC-MD5 (RFC 2104 over `md-5`; aws-lc-rs has no MD5).
fn hmac_md5(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..16].copy_from_slice(&md5::Md5::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |x: u8| k.iter().map(|b| b ^ x).collect::<Vec<u8>>();
    let inner = md5::Md5::new()
        .chain_update(pad(0x36))
        .chain_update(data)
        .finalize();
    md5::Md5::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

fn hmac_of<'js>(
    ctx: Ctx<'js>,
    alg: String,
    key: String,
    data: String,
) -> rquickjs::Result<TypedArray<'js, u8>> {
    let (key, data) = (bytes(&ctx, &key)?, bytes(&ctx, &data)?);
    let alg = match alg.as_str() {
        "md5" => return out(&ctx, &hmac_md5(&key, &data)),
        "sha1" => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        "sha224" => hmac::HMAC_SHA224,
        "sha256" => hmac::HMAC_SHA256,
        "sha384" => hmac::HMAC_SHA384,
        "sha512" => hmac::HMAC_SHA512,
        _ => return error(&ctx, &format!("Invalid digest: {alg}")),
    };
    out(&ctx, hmac::sign(&hmac::Key::new(alg, &key), &data).as_ref())
}

/// `n` bytes from the OS random source, at most 65536 per call (`crypto.js` loops for more, so
/// every byte lives in script memory, under the sandbox's memory limit).
fn random<'js>(ctx: Ctx<'js>, n: u32) -> rquickjs::Result<TypedArray<'js, u8>> {
    if n > 65536 {
        return Err(Exception::throw_range(&ctx, "at most 65536 random bytes"));
    }
    let mut b = vec![0u8; n as usize];
    match rand::fill(&mut b) {
        Ok(()) => out(&ctx, &b),
        Err(_) => error(&ctx, "the random source failed"),
    }
}

/// `importKey(want, format, type, data)`: `want` is `private` or `public` (a private input then
/// gives its public half), `format` `pem`, `der` or `jwk` (then `data` is the JSON text), `type`
/// the DER's (`pkcs8`, `pkcs1`, `sec1`, `spki`). Answers `[type, asymmetricKeyType, der,
/// modulusLength, publicExponent (hex), namedCurve]`.
fn import_key<'js>(
    ctx: Ctx<'js>,
    want: String,
    format: String,
    kind: String,
    data: String,
) -> rquickjs::Result<Vec<Value<'js>>> {
    let data = bytes(&ctx, &data)?;
    let key = match format.as_str() {
        "pem" => from_pem(&data),
        "der" => der::import(&data, &kind, want == "private"),
        "jwk" => jwk::import(&data),
        _ => Err("Invalid key format"),
    };
    let mut key = match key {
        Ok(k) => k,
        Err(why) => return error(&ctx, why),
    };
    if want == "private" && !key.private {
        return type_error(&ctx, "Invalid key object type public, expected private.");
    }
    if want == "public" && key.private {
        key = match der::public_of(&key.kind, &key.der) {
            Some(spki) => Imported {
                private: false,
                kind: key.kind,
                der: spki,
            },
            None => return error(&ctx, "Invalid private key"),
        };
    }
    describe(&ctx, &key)
}

fn describe<'js>(ctx: &Ctx<'js>, key: &Imported) -> rquickjs::Result<Vec<Value<'js>>> {
    let ty = if key.private { "private" } else { "public" };
    let (asym, bits, exp, curve) = match &key.kind {
        der::Kind::Rsa => {
            let spki = match key.private {
                true => der::public_of(&key.kind, &key.der).unwrap_or_default(),
                false => key.der.clone(),
            };
            let Ok(pk) = rsa::PublicKey::from_der(&spki) else {
                return error(ctx, "Invalid RSA key");
            };
            let n = pk.modulus();
            let n = n.big_endian_without_leading_zero();
            let bits = n.len() * 8 - n.first().map_or(0, |b| b.leading_zeros() as usize);
            let e = pk.exponent();
            let hex: String = e
                .big_endian_without_leading_zero()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            ("rsa", bits.into_js(ctx)?, hex.into_js(ctx)?, None)
        }
        der::Kind::Ec(c) => (
            "ec",
            Value::new_undefined(ctx.clone()),
            Value::new_undefined(ctx.clone()),
            Some(c.name()),
        ),
    };
    Ok(vec![
        ty.into_js(ctx)?,
        asym.into_js(ctx)?,
        out(ctx, &key.der)?.into_value(),
        bits,
        exp,
        curve.into_js(ctx)?,
    ])
}

fn from_pem(data: &[u8]) -> Result<Imported, &'static str> {
    let text = std::str::from_utf8(data).map_err(|_| "Invalid PEM")?;
    // The first block that holds a key (`openssl ecparam -genkey` writes EC PARAMETERS first).
    let blocks = pem::parse_many(text).map_err(|_| "Invalid PEM")?;
    let p = blocks
        .iter()
        .find(|p| p.tag() != "EC PARAMETERS")
        .ok_or("Invalid PEM: no key found")?;
    let kind = match p.tag() {
        "PRIVATE KEY" => "pkcs8",
        "RSA PRIVATE KEY" => "pkcs1",
        "EC PRIVATE KEY" => "sec1",
        "PUBLIC KEY" => "spki",
        "RSA PUBLIC KEY" => "pkcs1-public",
        "CERTIFICATE" => "certificate",
        "ENCRYPTED PRIVATE KEY" => return Err("Encrypted private keys are not supported"),
        _ => return Err("Unsupported PEM key type"),
    };
    if p.headers().iter().next().is_some() {
        return Err("Encrypted private keys are not supported");
    }
    der::import(p.contents(), kind, true)
}

/// `exportKey(private, der, format, type)`: DER bytes for `der`/`pem` (`crypto.js` wraps the
/// PEM), the JSON text for `jwk`.
fn export_key<'js>(
    ctx: Ctx<'js>,
    private: bool,
    key: String,
    format: String,
    kind: String,
) -> rquickjs::Result<Value<'js>> {
    let key = bytes(&ctx, &key)?;
    let Some((k, _)) = der::identify(&key, private) else {
        return error(&ctx, "Invalid key");
    };
    if format == "jwk" {
        return match jwk::export(&k, &key, private) {
            Some(j) => j.to_string().into_js(&ctx),
            None => error(&ctx, "Invalid key"),
        };
    }
    let der = match (private, kind.as_str(), &k) {
        (true, "pkcs8", _) | (false, "spki", _) => Some(key),
        (true, "pkcs1", der::Kind::Rsa) | (false, "pkcs1", der::Kind::Rsa) => {
            der::identify(&key, private).map(|(_, inner)| inner.to_vec())
        }
        (true, "sec1", der::Kind::Ec(c)) => EcdsaKeyPair::from_pkcs8(c.signing(false), &key)
            .ok()
            .and_then(|kp| kp.private_key().as_der().ok())
            .map(|d| d.as_ref().to_vec()),
        _ => {
            return type_error(
                &ctx,
                &format!("The key type \"{kind}\" cannot be exported in this form"),
            );
        }
    };
    match der {
        Some(d) => Ok(out(&ctx, &d)?.into_value()),
        None => error(&ctx, "Invalid key"),
    }
}

/// `sign(hash, pkcs8, data, p1363, pss)`: RSA PKCS#1 v1.5 (or PSS) or ECDSA (DER, or r‖s).
fn sign<'js>(
    ctx: Ctx<'js>,
    alg: String,
    key: String,
    data: String,
    p1363: bool,
    pss: bool,
) -> rquickjs::Result<TypedArray<'js, u8>> {
    let (key, data) = (bytes(&ctx, &key)?, bytes(&ctx, &data)?);
    let Some((kind, _)) = der::identify(&key, true) else {
        return error(&ctx, "Invalid private key");
    };
    let unsupported = || format!("Signing with {alg} and this key is not supported in claimsmith");
    match kind {
        der::Kind::Rsa => {
            let padding: &'static dyn signature::RsaEncoding = match (alg.as_str(), pss) {
                ("sha256", false) => &signature::RSA_PKCS1_SHA256,
                ("sha384", false) => &signature::RSA_PKCS1_SHA384,
                ("sha512", false) => &signature::RSA_PKCS1_SHA512,
                ("sha256", true) => &signature::RSA_PSS_SHA256,
                ("sha384", true) => &signature::RSA_PSS_SHA384,
                ("sha512", true) => &signature::RSA_PSS_SHA512,
                _ => return error(&ctx, &unsupported()),
            };
            let Ok(kp) = RsaKeyPair::from_pkcs8(&key) else {
                return error(&ctx, "Invalid RSA private key");
            };
            let mut sig = vec![0u8; kp.public_modulus_len()];
            match kp.sign(padding, &rand::SystemRandom::new(), &data, &mut sig) {
                Ok(()) => out(&ctx, &sig),
                Err(_) => error(&ctx, "RSA signing failed"),
            }
        }
        der::Kind::Ec(c) => {
            if alg != c.hash() {
                return error(&ctx, &unsupported());
            }
            let Ok(kp) = EcdsaKeyPair::from_pkcs8(c.signing(p1363), &key) else {
                return error(&ctx, "Invalid EC private key");
            };
            match kp.sign(&rand::SystemRandom::new(), &data) {
                Ok(sig) => out(&ctx, sig.as_ref()),
                Err(_) => error(&ctx, "ECDSA signing failed"),
            }
        }
    }
}

/// `verify(hash, spki, data, signature, p1363, pss)`: false for a signature that does not match.
fn verify<'js>(
    ctx: Ctx<'js>,
    alg: String,
    key: String,
    data: String,
    sig: String,
    p1363: bool,
    pss: bool,
) -> rquickjs::Result<bool> {
    let (key, data, sig) = (bytes(&ctx, &key)?, bytes(&ctx, &data)?, bytes(&ctx, &sig)?);
    let Some((kind, public)) = der::identify(&key, false) else {
        return error(&ctx, "Invalid public key");
    };
    let params: &'static dyn signature::VerificationAlgorithm = match (kind, alg.as_str()) {
        (der::Kind::Rsa, "sha256") if pss => &signature::RSA_PSS_2048_8192_SHA256,
        (der::Kind::Rsa, "sha384") if pss => &signature::RSA_PSS_2048_8192_SHA384,
        (der::Kind::Rsa, "sha512") if pss => &signature::RSA_PSS_2048_8192_SHA512,
        (der::Kind::Rsa, "sha256") => &signature::RSA_PKCS1_2048_8192_SHA256,
        (der::Kind::Rsa, "sha384") => &signature::RSA_PKCS1_2048_8192_SHA384,
        (der::Kind::Rsa, "sha512") => &signature::RSA_PKCS1_2048_8192_SHA512,
        (der::Kind::Ec(der::Curve::P256), "sha256") if p1363 => &signature::ECDSA_P256_SHA256_FIXED,
        (der::Kind::Ec(der::Curve::P384), "sha384") if p1363 => &signature::ECDSA_P384_SHA384_FIXED,
        (der::Kind::Ec(der::Curve::P256), "sha256") => &signature::ECDSA_P256_SHA256_ASN1,
        (der::Kind::Ec(der::Curve::P256), "sha384") => &signature::ECDSA_P256_SHA384_ASN1,
        (der::Kind::Ec(der::Curve::P256), "sha512") => &signature::ECDSA_P256_SHA512_ASN1,
        (der::Kind::Ec(der::Curve::P384), "sha256") => &signature::ECDSA_P384_SHA256_ASN1,
        (der::Kind::Ec(der::Curve::P384), "sha384") => &signature::ECDSA_P384_SHA384_ASN1,
        (der::Kind::Ec(der::Curve::P384), "sha512") => &signature::ECDSA_P384_SHA512_ASN1,
        _ => {
            return error(
                &ctx,
                &format!("Verifying with {alg} and this key is not supported in claimsmith"),
            );
        }
    };
    Ok(signature::UnparsedPublicKey::new(params, public)
        .verify(&data, &sig)
        .is_ok())
}
