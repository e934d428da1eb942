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
    if sign1.protected.header != protected_header(&kid, content_type) {
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
