//! JSON Web Keys for the `crypto` module: RSA and EC (P-256, P-384) keys to and from the PKCS#8
//! and SPKI DER that `node_crypto.rs` keeps, through aws-lc-rs' key components.

use aws_lc_rs::encoding::{AsBigEndian, AsDer};
use aws_lc_rs::rsa;
use aws_lc_rs::signature::{EcdsaKeyPair, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde_json::{Map, Value as Json, json};

use super::der::{self, Imported};

fn jwk_field(jwk: &Map<String, Json>, name: &str) -> Result<Vec<u8>, &'static str> {
    let s = jwk
        .get(name)
        .and_then(Json::as_str)
        .ok_or("Invalid JWK: a member is missing")?;
    B64URL
        .decode(s.trim_end_matches('='))
        .map_err(|_| "Invalid JWK: a member is not base64url")
}

/// A JWK (its JSON text): RSA, or EC on P-256 or P-384; private when it has `d`.
pub(super) fn import(data: &[u8]) -> Result<Imported, &'static str> {
    let jwk: Map<String, Json> = serde_json::from_slice(data).map_err(|_| "Invalid JWK")?;
    match jwk.get("kty").and_then(Json::as_str) {
        Some("RSA") => rsa_key(&jwk),
        Some("EC") => ec_key(&jwk),
        _ => Err("Unsupported JWK key type"),
    }
}

fn rsa_key(jwk: &Map<String, Json>) -> Result<Imported, &'static str> {
    const BAD: &str = "Invalid JWK RSA key";
    let f = |n| jwk_field(jwk, n);
    let public = rsa::PublicKeyComponents {
        n: strip(f("n")?),
        e: strip(f("e")?),
    };
    if !jwk.contains_key("d") {
        let spki = public.as_der().map_err(|_| BAD)?;
        return der::import(spki.as_ref(), "spki", false).map_err(|_| BAD);
    }
    let parts = rsa::KeyPairComponents {
        public_key: public,
        d: f("d")?,
        p: f("p")?,
        q: f("q")?,
        dP: f("dp")?,
        dQ: f("dq")?,
        qInv: f("qi")?,
    };
    let kp = RsaKeyPair::from_components(&parts).map_err(|_| BAD)?;
    let pkcs8 = kp.as_der().map_err(|_| BAD)?;
    der::import(pkcs8.as_ref(), "pkcs8", true).map_err(|_| BAD)
}

fn ec_key(jwk: &Map<String, Json>) -> Result<Imported, &'static str> {
    const BAD: &str = "Invalid JWK EC key";
    let curve = match jwk.get("crv").and_then(Json::as_str) {
        Some("P-256") => der::Curve::P256,
        Some("P-384") => der::Curve::P384,
        _ => return Err("Unsupported JWK EC curve"),
    };
    let mut point = vec![4u8];
    for c in ["x", "y"] {
        let v = jwk_field(jwk, c)?;
        if v.len() != curve.size() {
            return Err(BAD);
        }
        point.extend(v);
    }
    if !jwk.contains_key("d") {
        return der::import(&der::ec_spki(curve, &point), "spki", false).map_err(|_| BAD);
    }
    let d = jwk_field(jwk, "d")?;
    let kp = EcdsaKeyPair::from_private_key_and_public_key(curve.signing(false), &d, &point)
        .map_err(|_| BAD)?;
    let pkcs8 = kp.to_pkcs8v1().map_err(|_| BAD)?;
    der::import(pkcs8.as_ref(), "pkcs8", true).map_err(|_| BAD)
}

/// A big-endian integer without its leading zero bytes (as `PublicKeyComponents` wants).
fn strip(mut v: Vec<u8>) -> Vec<u8> {
    let zeros = v.iter().take_while(|b| **b == 0).count();
    v.drain(..zeros.min(v.len().saturating_sub(1)));
    v
}

/// The JWK of a PKCS#8 (`private`) or SPKI key.
pub(super) fn export(kind: &der::Kind, key: &[u8], private: bool) -> Option<Json> {
    let b = |v: &[u8]| B64URL.encode(v);
    match kind {
        der::Kind::Rsa => {
            let spki = if private {
                der::public_of(kind, key)?
            } else {
                key.to_vec()
            };
            let pk = rsa::PublicKey::from_der(&spki).ok()?;
            let mut j = json!({
                "kty": "RSA",
                "n": b(pk.modulus().big_endian_without_leading_zero()),
                "e": b(pk.exponent().big_endian_without_leading_zero()),
            });
            if private {
                let (_, pkcs1) = der::identify(key, true)?;
                let ints = der::rsa_private_ints(pkcs1)?;
                for (name, v) in ["d", "p", "q", "dp", "dq", "qi"].iter().zip(ints) {
                    j[*name] = json!(b(v));
                }
            }
            Some(j)
        }
        der::Kind::Ec(c) => {
            let spki = if private {
                der::public_of(kind, key)?
            } else {
                key.to_vec()
            };
            let (_, point) = der::identify(&spki, false)?;
            let xy = point.get(1..)?;
            let (x, y) = xy.split_at_checked(c.size())?;
            let mut j = json!({ "kty": "EC", "crv": c.jwk_name(), "x": b(x), "y": b(y) });
            if private {
                let kp = EcdsaKeyPair::from_pkcs8(c.signing(false), key).ok()?;
                let d = kp.private_key().as_be_bytes().ok()?;
                j["d"] = json!(b(d.as_ref()));
            }
            Some(j)
        }
    }
}
