//! Signing keys, compact JWTs and the JWKS document. The only module that names jsonwebtoken (for
//! the JOSE header and JWK types) and that holds private keys.
//!
//! Signing goes straight to aws-lc-rs with the key pair parsed once at start-up:
//! `jsonwebtoken::encode` re-parses an RSA key on every call (~860 µs here) where a cached
//! aws-lc-rs key signs in ~340 µs, and jsonwebtoken's pluggable `CryptoProvider` only ever sees key
//! bytes, so it cannot keep a parsed key either. The header of each key is serialised once too.
//!
//! Verification (the bearer tokens `/userinfo` accepts) goes through jsonwebtoken, with a decoding
//! key built once per published key from its own public JWK, so it accepts exactly what the JWKS
//! tells everyone else to accept.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256,
    RsaKeyPair,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters,
    EllipticCurveKeyType, Jwk, JwkSet, KeyAlgorithm, OctetKeyPairParameters, OctetKeyPairType,
    PublicKeyUse, RSAKeyParameters, RSAKeyType,
};
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use serde::Serialize;
use serde_json::{Map, Value};

/// The signing algorithms an API may choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    RS256,
    ES256,
    EdDSA,
}

impl Alg {
    /// Every algorithm, in the order keys are generated on first start.
    pub const ALL: [Alg; 3] = [Alg::RS256, Alg::ES256, Alg::EdDSA];

    /// The JOSE name.
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::ES256 => "ES256",
            Alg::EdDSA => "EdDSA",
        }
    }

    /// Parses a JOSE name.
    pub fn parse(s: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|a| a.as_str() == s)
    }

    fn jose(self) -> Algorithm {
        match self {
            Alg::RS256 => Algorithm::RS256,
            Alg::ES256 => Algorithm::ES256,
            Alg::EdDSA => Algorithm::EdDSA,
        }
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Failures of key handling and signing: always internal.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("no active signing key for {0}")]
    NoKey(Alg),
    #[error("stored key {kid} is unusable: {reason}")]
    BadKey { kid: String, reason: String },
    #[error("key generation failed")]
    Generate,
    #[error("signing failed")]
    Sign,
    #[error("claims could not be serialised: {0}")]
    Claims(#[from] serde_json::Error),
    /// The blocking task that signed panicked or was cancelled.
    #[error("the signing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// A freshly generated private key, PKCS#8 DER, ready to be stored.
pub struct NewKey {
    pub kid: String,
    pub alg: Alg,
    pub pkcs8: Vec<u8>,
}

impl fmt::Debug for NewKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print private key material.
        write!(f, "NewKey({}, {})", self.kid, self.alg)
    }
}

/// Generates a key: RSA 2048 for RS256, P-256 for ES256, Ed25519 for EdDSA.
pub fn generate(alg: Alg, kid: String) -> Result<NewKey, SignError> {
    let rng = SystemRandom::new();
    let pkcs8 = match alg {
        Alg::RS256 => RsaKeyPair::generate(KeySize::Rsa2048)
            .and_then(|k| k.as_der())
            .map(|d| d.as_ref().to_vec()),
        Alg::ES256 => EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map(|d| d.as_ref().to_vec()),
        Alg::EdDSA => Ed25519KeyPair::generate_pkcs8(&rng).map(|d| d.as_ref().to_vec()),
    }
    .map_err(|_| SignError::Generate)?;
    Ok(NewKey { kid, alg, pkcs8 })
}

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// One parsed private key with its cached, base64url-encoded JOSE header.
struct SigningKey {
    pair: Pair,
    header_b64: String,
}

/// Every usable key: the newest active key of each algorithm signs; the JWKS lists every key
/// that is not retired, so tokens signed before a rotation keep verifying.
pub struct KeyRing {
    signers: HashMap<Alg, Arc<SigningKey>>,
    /// Every published key by `kid`, with the one algorithm it may verify.
    verifiers: HashMap<String, (Alg, DecodingKey)>,
    /// Serialised once: serving it is a reference-count increment.
    jwks: bytes::Bytes,
    rng: SystemRandom,
}

/// A stored key as the key ring reads it.
pub struct StoredKey<'a> {
    pub kid: &'a str,
    pub alg: &'a str,
    pub pkcs8: &'a [u8],
    /// Still listed in the JWKS (not retired).
    pub published: bool,
    /// May sign new tokens (the newest published key of its algorithm).
    pub signing: bool,
}

impl KeyRing {
    /// Parses stored keys once.
    pub fn load<'a>(keys: impl IntoIterator<Item = StoredKey<'a>>) -> Result<Self, SignError> {
        let mut signers = HashMap::new();
        let mut verifiers = HashMap::new();
        let mut jwks = JwkSet { keys: Vec::new() };
        for k in keys.into_iter().filter(|k| k.published) {
            let bad = |reason: &str| SignError::BadKey {
                kid: k.kid.to_owned(),
                reason: reason.to_owned(),
            };
            let alg = Alg::parse(k.alg).ok_or_else(|| bad("unknown algorithm"))?;
            let pair =
                parse(alg, k.pkcs8).ok_or_else(|| bad("not a PKCS#8 key of its algorithm"))?;
            let jwk = public_jwk(k.kid, alg, &pair);
            let decoding = DecodingKey::from_jwk(&jwk).map_err(|_| bad("no usable public key"))?;
            verifiers.insert(k.kid.to_owned(), (alg, decoding));
            jwks.keys.push(jwk);
            if k.signing {
                let mut header = Header::new(alg.jose());
                header.kid = Some(k.kid.to_owned());
                let header_b64 = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?);
                signers.insert(alg, Arc::new(SigningKey { pair, header_b64 }));
            }
        }
        let jwks = serde_json::to_vec(&jwks)?.into();
        Ok(Self {
            signers,
            verifiers,
            jwks,
            rng: SystemRandom::new(),
        })
    }

    /// The JWKS document (public parts only), as served.
    pub fn jwks_json(&self) -> bytes::Bytes {
        self.jwks.clone()
    }

    /// Whether a key of `alg` can sign.
    pub fn can_sign(&self, alg: Alg) -> bool {
        self.signers.contains_key(&alg)
    }

    /// Signs `claims` as a compact JWS with the active key of `alg`.
    pub fn sign(&self, alg: Alg, claims: &impl Serialize) -> Result<String, SignError> {
        let key = self.signers.get(&alg).ok_or(SignError::NoKey(alg))?;
        let payload = serde_json::to_vec(claims)?;
        let mut jwt = String::with_capacity(key.header_b64.len() + payload.len() * 4 / 3 + 360);
        jwt.push_str(&key.header_b64);
        jwt.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut jwt);
        let signature = match &key.pair {
            Pair::Rsa(k) => {
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, &self.rng, jwt.as_bytes(), &mut sig)
                    .map_err(|_| SignError::Sign)?;
                sig
            }
            Pair::Ec(k) => k
                .sign(&self.rng, jwt.as_bytes())
                .map_err(|_| SignError::Sign)?
                .as_ref()
                .to_vec(),
            Pair::Ed(k) => k.sign(jwt.as_bytes()).as_ref().to_vec(),
        };
        jwt.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut jwt);
        Ok(jwt)
    }
}

impl KeyRing {
    /// Signs an access token and, when asked, an ID token, in one trip off the async workers (RSA
    /// takes ~300 µs a token): this module owns its hop, as the store and the hash pool own theirs,
    /// so a caller only awaits. Without RSA (ES256 and EdDSA sign in 9–16 µs, less than the hop
    /// and its wake-ups cost) it signs on the calling task.
    pub async fn sign_off_workers<T>(
        self: &Arc<Self>,
        access: (Alg, T),
        id: Option<(Alg, T)>,
    ) -> Result<(String, Option<String>), SignError>
    where
        T: Serialize + Send + 'static,
    {
        if access.0 != Alg::RS256 && id.as_ref().is_none_or(|(alg, _)| *alg != Alg::RS256) {
            let access = self.sign(access.0, &access.1)?;
            let id = id.map(|(alg, c)| self.sign(alg, &c)).transpose()?;
            return Ok((access, id));
        }
        let keys = self.clone();
        tokio::task::spawn_blocking(move || {
            let access = keys.sign(access.0, &access.1)?;
            let id = id.map(|(alg, c)| keys.sign(alg, &c)).transpose()?;
            Ok((access, id))
        })
        .await?
    }
}

impl KeyRing {
    /// The length of the token [`KeyRing::sign`] makes of `claims`, found without signing (so an
    /// oversized token costs no signature) and without building the payload: the base64url
    /// lengths of the cached header, the JSON payload and the algorithm's fixed-size signature.
    pub fn signed_len(&self, alg: Alg, claims: &impl Serialize) -> Result<usize, SignError> {
        let key = self.signers.get(&alg).ok_or(SignError::NoKey(alg))?;
        let mut payload = Count(0);
        serde_json::to_writer(&mut payload, claims)?;
        let signature = match &key.pair {
            Pair::Rsa(k) => k.public_modulus_len(),
            // ES256 signatures are r || s (RFC 7518 §3.4); Ed25519's are 64 bytes (RFC 8037 §3.1).
            Pair::Ec(_) | Pair::Ed(_) => 64,
        };
        let b64 = |n: usize| (n * 4).div_ceil(3);
        Ok(key.header_b64.len() + 1 + b64(payload.0) + 1 + b64(signature))
    }
}

/// Why a bearer token was refused. Each text is safe to send back (RFC 6750 §3
/// `error_description`): it names what failed, never a key or the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("The access token is malformed.")]
    Malformed,
    #[error("The access token was not signed by a key of this server.")]
    UnknownKey,
    #[error("The access token signature is invalid.")]
    Signature,
    #[error("The access token was issued by another issuer.")]
    Issuer,
    #[error("The access token is not valid for this audience.")]
    Audience,
    #[error("The access token expired.")]
    Expired,
    #[error("The access token is not valid yet.")]
    NotYetValid,
}

/// What a bearer token must show to be accepted.
pub struct Expected<'a> {
    pub issuer: &'a str,
    /// One of the token's `aud` values (a string or an array) must be this.
    pub audience: &'a str,
    /// The server's clock, not the wall clock jsonwebtoken would read.
    pub now_secs: i64,
    /// Clock skew forgiven on `exp` and `nbf`.
    pub leeway_s: i64,
}

impl KeyRing {
    /// Verifies a compact JWS signed by one of this server's published keys (by `kid`, with that
    /// key's own algorithm, so a token cannot choose a weaker one), then its issuer, audience,
    /// expiry and not-before; returns its claims.
    pub fn verify(
        &self,
        jwt: &str,
        expected: &Expected<'_>,
    ) -> Result<Map<String, Value>, VerifyError> {
        let header = jsonwebtoken::decode_header(jwt).map_err(|_| VerifyError::Malformed)?;
        let kid = header.kid.as_deref().ok_or(VerifyError::UnknownKey)?;
        let (alg, key) = self.verifiers.get(kid).ok_or(VerifyError::UnknownKey)?;
        if header.alg != alg.jose() {
            return Err(VerifyError::Signature);
        }
        let mut v = Validation::new(alg.jose());
        // Time is checked below against the server's clock.
        v.validate_exp = false;
        v.validate_nbf = false;
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.set_issuer(&[expected.issuer]);
        v.set_audience(&[expected.audience]);
        let claims = jsonwebtoken::decode::<Map<String, Value>>(jwt, key, &v)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind as K;
                match e.kind() {
                    K::InvalidSignature => VerifyError::Signature,
                    K::InvalidIssuer => VerifyError::Issuer,
                    K::InvalidAudience => VerifyError::Audience,
                    _ => VerifyError::Malformed,
                }
            })?
            .claims;
        let time = |name: &str| {
            claims
                .get(name)
                .map(|v| v.as_i64().ok_or(VerifyError::Malformed))
        };
        let exp = time("exp").ok_or(VerifyError::Malformed)??;
        // RFC 7519 §4.1.4: not accepted on or after `exp`.
        if expected.now_secs >= exp.saturating_add(expected.leeway_s) {
            return Err(VerifyError::Expired);
        }
        if let Some(nbf) = time("nbf").transpose()?
            && expected.now_secs.saturating_add(expected.leeway_s) < nbf
        {
            return Err(VerifyError::NotYetValid);
        }
        if !claims.get("sub").is_some_and(Value::is_string) {
            return Err(VerifyError::Malformed);
        }
        Ok(claims)
    }
}

/// A writer that only counts.
struct Count(usize);

impl std::io::Write for Count {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn parse(alg: Alg, der: &[u8]) -> Option<Pair> {
    match alg {
        Alg::RS256 => RsaKeyPair::from_pkcs8(der).ok().map(Pair::Rsa),
        Alg::ES256 => EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
            .ok()
            .map(Pair::Ec),
        Alg::EdDSA => Ed25519KeyPair::from_pkcs8(der).ok().map(Pair::Ed),
    }
}

fn public_jwk(kid: &str, alg: Alg, pair: &Pair) -> Jwk {
    let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    let algorithm = match pair {
        Pair::Rsa(k) => AlgorithmParameters::RSA(RSAKeyParameters {
            key_type: RSAKeyType::RSA,
            n: b64(k.public_key().modulus().big_endian_without_leading_zero()),
            e: b64(k.public_key().exponent().big_endian_without_leading_zero()),
        }),
        Pair::Ec(k) => {
            // An uncompressed P-256 point: 0x04 || x (32 bytes) || y (32 bytes).
            let point = k.public_key().as_ref();
            AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                key_type: EllipticCurveKeyType::EC,
                curve: EllipticCurve::P256,
                x: b64(point.get(1..33).unwrap_or_default()),
                y: b64(point.get(33..65).unwrap_or_default()),
            })
        }
        Pair::Ed(k) => AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
            key_type: OctetKeyPairType::OctetKeyPair,
            curve: EllipticCurve::Ed25519,
            x: b64(k.public_key().as_ref()),
        }),
    };
    Jwk {
        common: CommonParameters {
            public_key_use: Some(PublicKeyUse::Signature),
            key_algorithm: Some(match alg {
                Alg::RS256 => KeyAlgorithm::RS256,
                Alg::ES256 => KeyAlgorithm::ES256,
                Alg::EdDSA => KeyAlgorithm::EdDSA,
            }),
            key_id: Some(kid.to_owned()),
            ..Default::default()
        },
        algorithm,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation, decode};

    #[test]
    fn every_algorithm_signs_and_verifies_against_its_jwk() {
        let keys: Vec<NewKey> = Alg::ALL
            .iter()
            .map(|a| generate(*a, format!("k-{a}")).unwrap())
            .collect();
        let ring = KeyRing::load(keys.iter().map(|k| StoredKey {
            kid: &k.kid,
            alg: k.alg.as_str(),
            pkcs8: &k.pkcs8,
            published: true,
            signing: true,
        }))
        .unwrap();
        let jwks: JwkSet = serde_json::from_slice(&ring.jwks_json()).unwrap();
        assert_eq!(jwks.keys.len(), 3);
        assert!(
            !String::from_utf8_lossy(&ring.jwks_json()).contains("\"d\""),
            "no private parts"
        );
        for alg in Alg::ALL {
            let claims =
                serde_json::json!({"sub": "auth0|1", "aud": "api", "exp": 4_000_000_000u64});
            let jwt = ring.sign(alg, &claims).unwrap();
            assert_eq!(ring.signed_len(alg, &claims).unwrap(), jwt.len(), "{alg}");
            let header = jsonwebtoken::decode_header(&jwt).unwrap();
            let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
            let mut v = Validation::new(alg.jose());
            v.set_audience(&["api"]);
            let got = decode::<serde_json::Value>(&jwt, &DecodingKey::from_jwk(jwk).unwrap(), &v)
                .unwrap();
            assert_eq!(got.claims["sub"], "auth0|1", "{alg}");
        }
    }

    #[tokio::test]
    async fn signing_off_the_workers_signs_each_token_with_its_algorithm() {
        let keys: Vec<NewKey> = [Alg::ES256, Alg::EdDSA]
            .iter()
            .map(|a| generate(*a, format!("k-{a}")).unwrap())
            .collect();
        let ring = Arc::new(
            KeyRing::load(keys.iter().map(|k| StoredKey {
                kid: &k.kid,
                alg: k.alg.as_str(),
                pkcs8: &k.pkcs8,
                published: true,
                signing: true,
            }))
            .unwrap(),
        );
        let claims = serde_json::json!({"sub": "auth0|1"});
        let (access, id) = ring
            .sign_off_workers(
                (Alg::ES256, claims.clone()),
                Some((Alg::EdDSA, claims.clone())),
            )
            .await
            .unwrap();
        let kid = |jwt: &str| jsonwebtoken::decode_header(jwt).unwrap().kid.unwrap();
        assert_eq!(kid(&access), "k-ES256");
        assert_eq!(kid(&id.unwrap()), "k-EdDSA");
        let (_, none) = ring
            .sign_off_workers((Alg::EdDSA, claims.clone()), None)
            .await
            .unwrap();
        assert_eq!(none, None);
        let missing = ring.sign_off_workers((Alg::RS256, claims), None).await;
        assert!(matches!(missing, Err(SignError::NoKey(Alg::RS256))));
    }

    fn ring_of(kid: &str, alg: Alg) -> KeyRing {
        let k = generate(alg, kid.into()).unwrap();
        KeyRing::load([StoredKey {
            kid: &k.kid,
            alg: k.alg.as_str(),
            pkcs8: &k.pkcs8,
            published: true,
            signing: true,
        }])
        .unwrap()
    }

    #[test]
    fn verify_checks_key_signature_issuer_audience_and_time() {
        let expected = Expected {
            issuer: "https://t/",
            audience: "https://t/userinfo",
            now_secs: 1000,
            leeway_s: 0,
        };
        for alg in Alg::ALL {
            let ring = ring_of("k1", alg);
            let sign = |c: serde_json::Value| ring.sign(alg, &c).unwrap();
            let good = serde_json::json!({"iss": "https://t/", "sub": "auth0|1",
                "aud": ["https://api", "https://t/userinfo"], "exp": 1001});
            assert_eq!(
                ring.verify(&sign(good.clone()), &expected).unwrap()["sub"],
                "auth0|1"
            );
            let with = |k: &str, v: serde_json::Value| {
                let mut c = good.clone();
                c[k] = v;
                sign(c)
            };
            let refused = |jwt: &str| ring.verify(jwt, &expected).unwrap_err();
            assert_eq!(
                refused(&with("exp", 1000.into())),
                VerifyError::Expired,
                "{alg}"
            );
            assert_eq!(refused(&with("nbf", 1001.into())), VerifyError::NotYetValid);
            assert_eq!(
                refused(&with("aud", "https://api".into())),
                VerifyError::Audience
            );
            assert_eq!(
                refused(&with("iss", "https://x/".into())),
                VerifyError::Issuer
            );
            assert_eq!(refused(&with("sub", 1.into())), VerifyError::Malformed);
            assert_eq!(refused("not.a.jwt"), VerifyError::Malformed);
            // The same kid with another key (a forged key id), and an unknown kid.
            let forged = ring_of("k1", alg).sign(alg, &good).unwrap();
            assert_eq!(refused(&forged), VerifyError::Signature, "{alg}");
            let foreign = ring_of("k2", alg).sign(alg, &good).unwrap();
            assert_eq!(refused(&foreign), VerifyError::UnknownKey);
            // A changed payload under the original signature.
            let jwt = sign(good.clone());
            let parts: Vec<&str> = jwt.split('.').collect();
            let other = URL_SAFE_NO_PAD.encode(
                with("sub", "auth0|2".into())
                    .split('.')
                    .nth(1)
                    .map(|p| URL_SAFE_NO_PAD.decode(p).unwrap())
                    .unwrap(),
            );
            let tampered = format!("{}.{other}.{}", parts[0], parts[2]);
            assert_eq!(refused(&tampered), VerifyError::Signature, "{alg}");
        }
    }

    #[test]
    fn retired_keys_leave_the_jwks_and_bad_keys_are_refused() {
        let k = generate(Alg::ES256, "old".into()).unwrap();
        let ring = KeyRing::load([StoredKey {
            kid: "old",
            alg: "ES256",
            pkcs8: &k.pkcs8,
            published: false,
            signing: false,
        }])
        .unwrap();
        assert!(!ring.can_sign(Alg::ES256));
        assert!(!String::from_utf8_lossy(&ring.jwks_json()).contains("old"));
        let bad = KeyRing::load([StoredKey {
            kid: "x",
            alg: "RS256",
            pkcs8: b"junk",
            published: true,
            signing: true,
        }]);
        assert!(matches!(bad, Err(SignError::BadKey { .. })));
        // No run of the private key's bytes appears in its Debug text, in any rendering; the
        // check itself sees a key printed the naive way (positive control).
        assert!(!shows(&format!("{k:?}"), &k.pkcs8), "{k:?}");
        assert!(shows(&format!("{:?}", k.pkcs8), &k.pkcs8));
        assert!(shows(&format!("{:02x?}", k.pkcs8), &k.pkcs8));
    }

    /// Whether `text` shows any 4-byte run of `secret` as Debug (decimal or hex) or as hex text
    /// would print it.
    fn shows(text: &str, secret: &[u8]) -> bool {
        let text = text.to_ascii_lowercase();
        secret.windows(4).any(|w| {
            let dec: Vec<String> = w.iter().map(|b| b.to_string()).collect();
            let hex_list: Vec<String> = w.iter().map(|b| format!("{b:02x}")).collect();
            text.contains(&dec.join(", "))
                || text.contains(&hex_list.join(", "))
                || text.contains(&hex_list.concat())
        })
    }
}
