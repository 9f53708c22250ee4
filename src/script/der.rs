//! The little DER the `crypto` module needs around aws-lc-rs: telling an RSA key from a P-256 or
//! P-384 one inside PKCS#8, SPKI and SEC1, taking the SPKI out of an X.509 certificate, and
//! normalising every accepted input to PKCS#8 (private) or SPKI (public) DER. aws-lc-rs checks
//! every key itself before it is accepted; this only reads lengths and tags, with checked slices.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa;
use aws_lc_rs::signature::{self, EcdsaKeyPair, EcdsaSigningAlgorithm, KeyPair, RsaKeyPair};

const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const PRIME256V1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const SECP384R1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Curve {
    P256,
    P384,
}

impl Curve {
    /// Node's `namedCurve`.
    pub(super) fn name(self) -> &'static str {
        match self {
            Curve::P256 => "prime256v1",
            Curve::P384 => "secp384r1",
        }
    }
    pub(super) fn jwk_name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
        }
    }
    /// The size of a coordinate (and of the private scalar), in bytes.
    pub(super) fn size(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
        }
    }
    /// The one hash aws-lc-rs signs with on this curve.
    pub(super) fn hash(self) -> &'static str {
        match self {
            Curve::P256 => "sha256",
            Curve::P384 => "sha384",
        }
    }
    pub(super) fn signing(self, p1363: bool) -> &'static EcdsaSigningAlgorithm {
        match (self, p1363) {
            (Curve::P256, false) => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            (Curve::P256, true) => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            (Curve::P384, false) => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            (Curve::P384, true) => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
        }
    }
    fn verification(self) -> &'static signature::EcdsaVerificationAlgorithm {
        match self {
            Curve::P256 => &signature::ECDSA_P256_SHA256_ASN1,
            Curve::P384 => &signature::ECDSA_P384_SHA384_ASN1,
        }
    }
    fn of_oid(oid: &[u8]) -> Option<Curve> {
        match oid {
            PRIME256V1 => Some(Curve::P256),
            SECP384R1 => Some(Curve::P384),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kind {
    Rsa,
    Ec(Curve),
}

/// An accepted asymmetric key: PKCS#8 DER when private, SPKI DER when public.
pub(super) struct Imported {
    pub(super) private: bool,
    pub(super) kind: Kind,
    pub(super) der: Vec<u8>,
}

/// One DER element at the start of `b`: its tag, its contents and what follows it.
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, b) = b.split_first()?;
    let (&first, b) = b.split_first()?;
    let (len, b) = if first < 0x80 {
        (usize::from(first), b)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let (len, rest) = b.split_at_checked(n)?;
        (
            len.iter().fold(0usize, |a, x| (a << 8) | usize::from(*x)),
            rest,
        )
    };
    let (contents, rest) = b.split_at_checked(len)?;
    Some((tag, contents, rest))
}

/// The contents of an element that must have tag `want`, and what follows it.
fn expect(b: &[u8], want: u8) -> Option<(&[u8], &[u8])> {
    match tlv(b)? {
        (tag, c, rest) if tag == want => Some((c, rest)),
        _ => None,
    }
}

/// An AlgorithmIdentifier's contents: RSA, or EC with its curve.
fn algorithm(alg: &[u8]) -> Option<Kind> {
    let (oid, params) = expect(alg, OID)?;
    match oid {
        RSA_ENCRYPTION => Some(Kind::Rsa),
        EC_PUBLIC_KEY => Curve::of_oid(expect(params, OID)?.0).map(Kind::Ec),
        _ => None,
    }
}

/// The kind of a PKCS#8 (`private`) or SPKI key and the key inside: the RSAPrivateKey or
/// ECPrivateKey of a PKCS#8, the RSAPublicKey or EC point of an SPKI.
pub(super) fn identify(der: &[u8], private: bool) -> Option<(Kind, &[u8])> {
    let (seq, _) = expect(der, SEQUENCE)?;
    if private {
        let (_version, rest) = expect(seq, INTEGER)?;
        let (alg, rest) = expect(rest, SEQUENCE)?;
        Some((algorithm(alg)?, expect(rest, OCTET_STRING)?.0))
    } else {
        let (alg, rest) = expect(seq, SEQUENCE)?;
        let (bits, _) = expect(rest, BIT_STRING)?;
        let (&unused, key) = bits.split_first()?;
        (unused == 0).then_some(())?;
        Some((algorithm(alg)?, key))
    }
}

/// The SPKI of a P-256 or P-384 uncompressed point.
pub(super) fn ec_spki(curve: Curve, point: &[u8]) -> Vec<u8> {
    let oid = match curve {
        Curve::P256 => PRIME256V1,
        Curve::P384 => SECP384R1,
    };
    let alg = [&[OID, 7][..], EC_PUBLIC_KEY, &[OID, oid.len() as u8], oid].concat();
    let bits = [&[0u8][..], point].concat();
    let body = [
        &[SEQUENCE, alg.len() as u8][..],
        &alg,
        &[BIT_STRING, bits.len() as u8],
        &bits,
    ]
    .concat();
    [&[SEQUENCE, body.len() as u8][..], &body].concat()
}

/// The SPKI of a PKCS#8 private key.
pub(super) fn public_of(kind: &Kind, pkcs8: &[u8]) -> Option<Vec<u8>> {
    match kind {
        Kind::Rsa => {
            let kp = RsaKeyPair::from_pkcs8(pkcs8).ok()?;
            Some(kp.public_key().as_der().ok()?.as_ref().to_vec())
        }
        Kind::Ec(c) => {
            let kp = EcdsaKeyPair::from_pkcs8(c.signing(false), pkcs8).ok()?;
            Some(kp.public_key().as_der().ok()?.as_ref().to_vec())
        }
    }
}

/// `d, p, q, dp, dq, qi` of a PKCS#1 RSAPrivateKey, without leading zero bytes.
pub(super) fn rsa_private_ints(pkcs1: &[u8]) -> Option<Vec<&[u8]>> {
    let (mut rest, _) = expect(pkcs1, SEQUENCE)?;
    let mut ints = Vec::new();
    for _ in 0..9 {
        let (v, r) = expect(rest, INTEGER)?;
        let zeros = v
            .iter()
            .take_while(|b| **b == 0)
            .count()
            .min(v.len().saturating_sub(1));
        ints.push(v.get(zeros..)?);
        rest = r;
    }
    ints.get(3..).map(<[&[u8]]>::to_vec)
}

/// The SPKI element (whole) inside an X.509 certificate.
fn certificate_spki(cert: &[u8]) -> Option<&[u8]> {
    let (c, _) = expect(cert, SEQUENCE)?;
    let (tbs, _) = expect(c, SEQUENCE)?;
    let mut rest = tbs;
    if let Some((0xa0, _, r)) = tlv(rest) {
        rest = r; // [0] version
    }
    let (_serial, r) = expect(rest, INTEGER)?;
    rest = r;
    for _ in 0..4 {
        rest = expect(rest, SEQUENCE)?.1; // signature, issuer, validity, subject
    }
    let (_, after) = expect(rest, SEQUENCE)?;
    rest.get(..rest.len() - after.len())
}

const BAD: &str = "Invalid key: the data is not a supported RSA or EC (P-256, P-384) key";

/// Any accepted DER input of `type` (`pkcs8`, `pkcs1`, `sec1`, `spki`, `pkcs1-public`,
/// `certificate`), checked by aws-lc-rs and normalised to PKCS#8 or SPKI.
pub(super) fn import(der: &[u8], ty: &str, private: bool) -> Result<Imported, &'static str> {
    match ty {
        "pkcs8" => {
            let (kind, _) = identify(der, true).ok_or(BAD)?;
            Ok(Imported::private(kind, canonical_pkcs8(kind, der)?))
        }
        "pkcs1" if private => match RsaKeyPair::from_der(der) {
            Ok(kp) => Ok(Imported::private(
                Kind::Rsa,
                kp.as_der().map_err(bad)?.as_ref().to_vec(),
            )),
            Err(_) => import(der, "pkcs1-public", false),
        },
        "pkcs1" | "pkcs1-public" => {
            let pk = rsa::PublicKey::from_der(der).map_err(bad)?;
            public(pk.as_der().map_err(bad)?.as_ref())
        }
        "sec1" => {
            let c = sec1_curve(der).ok_or(BAD)?;
            let kp = EcdsaKeyPair::from_private_key_der(c.signing(false), der).map_err(bad)?;
            let pkcs8 = kp.to_pkcs8v1().map_err(bad)?;
            Ok(Imported::private(Kind::Ec(c), pkcs8.as_ref().to_vec()))
        }
        "spki" => public(der),
        "certificate" => public(certificate_spki(der).ok_or(BAD)?),
        _ => Err("Invalid key type"),
    }
}

fn bad<E>(_: E) -> &'static str {
    BAD
}

/// A PKCS#8 key re-written by aws-lc-rs (which checks it), so that one key has one DER whatever
/// its PKCS#8 looked like (`KeyObject.equals` compares the DER).
fn canonical_pkcs8(kind: Kind, der: &[u8]) -> Result<Vec<u8>, &'static str> {
    Ok(match kind {
        Kind::Rsa => RsaKeyPair::from_pkcs8(der)
            .map_err(bad)?
            .as_der()
            .map_err(bad)?
            .as_ref()
            .to_vec(),
        Kind::Ec(c) => EcdsaKeyPair::from_pkcs8(c.signing(false), der)
            .map_err(bad)?
            .to_pkcs8v1()
            .map_err(bad)?
            .as_ref()
            .to_vec(),
    })
}

/// The named curve in a SEC1 ECPrivateKey's `[0] parameters`.
fn sec1_curve(der: &[u8]) -> Option<Curve> {
    let (seq, _) = expect(der, SEQUENCE)?;
    let (_version, rest) = expect(seq, INTEGER)?;
    let (_scalar, mut rest) = expect(rest, OCTET_STRING)?;
    while let Some((tag, c, r)) = tlv(rest) {
        if tag == 0xa0 {
            return Curve::of_oid(expect(c, OID)?.0);
        }
        rest = r;
    }
    None
}

impl Imported {
    fn private(kind: Kind, der: Vec<u8>) -> Imported {
        Imported {
            private: true,
            kind,
            der,
        }
    }
}

fn public(spki: &[u8]) -> Result<Imported, &'static str> {
    let (kind, key) = identify(spki, false).ok_or(BAD)?;
    let ok = match kind {
        Kind::Rsa => rsa::PublicKey::from_der(key).is_ok(),
        // An uncompressed point on the curve (aws-lc-rs parses it now, not at the first verify).
        Kind::Ec(c) => {
            key.len() == 1 + 2 * c.size()
                && key.first() == Some(&4)
                && signature::ParsedPublicKey::new(c.verification(), key).is_ok()
        }
    };
    if !ok {
        return Err(BAD);
    }
    Ok(Imported {
        private: false,
        kind,
        der: spki.to_vec(),
    })
}
