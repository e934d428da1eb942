//! The signed envelope shared by tickets and revocation lists: an untagged
//! COSE_Sign1 (RFC 9052) with Ed25519 (`alg` -8), the key id in the
//! protected header, an empty unprotected header and empty external AAD.
//!
//! Owns signing and the strict opening of that envelope. Must never hand
//! back a payload whose signature it has not checked with `verify_strict`,
//! and never accept an envelope that is not in the one canonical encoding
//! the signer writes (so no unsigned byte of a token can be altered).

use coset::{CborSerializable, CoseSign1, CoseSign1Builder, Header, HeaderBuilder, iana};
use ed25519_dalek::{Signature, Signer};

use crate::error::{Error, Result};
use crate::token::claims::malformed;
use crate::token::keys::{IssuerKey, KeyId, PublicKeySet};

/// The protected header of an envelope: `alg` EdDSA, `kid`, and the
/// content type when the payload is not a ticket.
fn protected_header(kid: &KeyId, content_type: Option<&str>) -> Header {
    let builder = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .key_id(kid.as_bytes().to_vec());
    match content_type {
        Some(ct) => builder.content_type(ct.to_owned()).build(),
        None => builder.build(),
    }
}

/// Signs `payload` with `key` into COSE_Sign1 bytes.
pub(crate) fn sign(key: &IssuerKey, content_type: Option<&str>, payload: Vec<u8>) -> Vec<u8> {
    CoseSign1Builder::new()
        .protected(protected_header(key.kid(), content_type))
        .payload(payload)
        .create_signature(&[], |tbs| key.signing_key().sign(tbs).to_bytes().to_vec())
        .build()
        .to_vec()
        .expect("a COSE_Sign1 built from owned bytes always serializes")
}

/// Opens COSE_Sign1 `bytes`: checks the structure, finds the key its `kid`
/// names in `keys`, verifies the signature strictly and returns the payload.
pub(crate) fn open(
    bytes: &[u8],
    content_type: Option<&str>,
    keys: &PublicKeySet,
) -> Result<Vec<u8>> {
    let sign1 = CoseSign1::from_slice(bytes)
        .map_err(|e| malformed(format!("not a COSE_Sign1 structure: {e}")))?;
    let kid = KeyId::new(sign1.protected.header.key_id.clone())
        .map_err(|_| malformed("the protected header has no valid kid"))?;
    let expected = protected_header(&kid, content_type);
    // The header's bytes, not only its meaning: the re-encoding below keeps
    // the protected header's bytes as received, so reordered keys or
    // longer lengths inside it would otherwise pass.
    let canonical = expected
        .clone()
        .to_vec()
        .expect("a header built from owned values always serializes");
    if sign1.protected.header != expected
        || sign1.protected.original_data.as_deref() != Some(canonical.as_slice())
    {
        return Err(malformed(match content_type {
            Some(ct) => {
                format!("the protected header must hold alg -8, kid and content type {ct:?}")
            }
            None => "the protected header must hold exactly alg -8 and kid".to_owned(),
        }));
    }
    if sign1.unprotected != Header::default() {
        return Err(malformed("the unprotected header must be empty"));
    }
    let signature: [u8; 64] = sign1
        .signature
        .as_slice()
        .try_into()
        .map_err(|_| malformed("an Ed25519 signature has 64 bytes"))?;
    if sign1.clone().to_vec().ok().as_deref() != Some(bytes) {
        return Err(malformed("the envelope is not in canonical CBOR form"));
    }
    let key = keys.get(&kid).ok_or_else(|| Error::TokenUnknownKey {
        kid: kid.to_string(),
    })?;
    let tbs = sign1.tbs_data(&[]);
    key.verifying_key()
        .verify_strict(&tbs, &Signature::from_bytes(&signature))
        .map_err(|_| Error::TokenBadSignature)?;
    sign1
        .payload
        .ok_or_else(|| malformed("the payload is missing (detached payloads are not used)"))
}

#[cfg(test)]
mod tests {
    use coset::ProtectedHeader;

    use super::*;
    use crate::token::keys::IssuerKeySet;

    /// Signs `payload` under a protected header given as raw bytes.
    fn sign_with_header(key: &IssuerKey, header: Vec<u8>, payload: &[u8]) -> Vec<u8> {
        let protected = ProtectedHeader {
            header: Header::from_slice(&header).unwrap(),
            original_data: Some(header),
        };
        let mut sign1 = CoseSign1 {
            protected,
            payload: Some(payload.to_vec()),
            ..Default::default()
        };
        let tbs = sign1.tbs_data(&[]);
        sign1.signature = key.signing_key().sign(&tbs).to_bytes().to_vec();
        sign1.to_vec().unwrap()
    }

    #[test]
    fn only_the_canonical_protected_header_opens() {
        let keys = IssuerKeySet::new(IssuerKey::from_seed("k1".parse().unwrap(), [5; 32]));
        let key = keys.current();
        let public = keys.public_keys();
        // {1: -8, 4: h'6b31'} as the signer writes it, then reordered, then
        // with the kid's length in a longer form than needed.
        let canonical = vec![0xa2, 0x01, 0x27, 0x04, 0x42, 0x6b, 0x31];
        let reordered = vec![0xa2, 0x04, 0x42, 0x6b, 0x31, 0x01, 0x27];
        let long_length = vec![0xa2, 0x01, 0x27, 0x04, 0x58, 0x02, 0x6b, 0x31];
        let good = sign_with_header(key, canonical, b"x");
        assert_eq!(good, sign(key, None, b"x".to_vec()));
        assert_eq!(open(&good, None, &public).unwrap(), b"x");
        for header in [reordered, long_length] {
            let bytes = sign_with_header(key, header, b"x");
            let err = open(&bytes, None, &public).unwrap_err();
            assert_eq!(err.code(), "TOKEN_MALFORMED", "{err}");
        }
    }
}
