//! Signed entry tokens that gates verify offline.
//!
//! A token is the text `RV1:` followed by the base45 (RFC 9285) encoding of
//! an untagged COSE_Sign1 (RFC 9052) signed with Ed25519, whose payload is
//! a CWT claims set (RFC 8392): the token id (`cti`), the booking (`sub`),
//! the resource (`aud`), the validity window (`nbf`, `exp`) and, under
//! private-use keys, the entry allowance and the gate and zone scope. The
//! format is specified in `docs/token-format.md` so that a gate vendor can
//! verify tokens with general-purpose CBOR/COSE libraries.
//!
//! This module owns keys and key sets ([`IssuerKeySet`], [`PublicKeySet`]),
//! issuing ([`IssuerKeySet::issue`]), offline verification ([`Verifier`])
//! and revocation lists ([`RevocationList`]); with the `qr` feature, QR
//! rendering ([`qr`]). Whether a verified token admits at a gate, given
//! its scan history, is decided by [`crate::checkin`]. This module must
//! never do I/O beyond reading OS randomness for new keys and token ids,
//! and never put personal data in a token.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use reservo::ids::{BookingId, ResourceId};
//! use reservo::token::*;
//! let issuer = IssuerKeySet::new(IssuerKey::generate("k1".parse().unwrap()).unwrap());
//! let at = |h| Utc.with_ymd_and_hms(2026, 6, 1, h, 0, 0).unwrap();
//! let claims = TicketClaims {
//!     token_id: TokenId::random().unwrap(),
//!     booking: BookingId::new("BK-1042").unwrap(),
//!     resource: ResourceId::new("museum").unwrap(),
//!     validity: ValidityWindow::new(at(9), at(18)).unwrap(),
//!     entry: EntryPolicy::default(),
//!     scope: Scope::default(),
//! };
//! let token = issuer.issue(&claims);
//!
//! // On the scanner: public keys only.
//! let scanner = Verifier::new(issuer.public_keys());
//! assert_eq!(scanner.verify_at(&token, at(12)).unwrap(), claims);
//! ```

mod base45;
mod claims;
mod cose;
mod keys;
#[cfg(feature = "qr")]
pub mod qr;
mod revocation;
mod verify;

pub(crate) use claims::whole_seconds;
pub use claims::{
    CLAIM_ENTRIES, CLAIM_GATES, CLAIM_PER_DAY, CLAIM_REENTRY, CLAIM_ZONES, Entries, EntryPolicy,
    GateId, Scope, TicketClaims, TokenId, ValidityWindow, ZoneId,
};
pub use keys::{IssuerKey, IssuerKeySet, KeyId, PublicKey, PublicKeySet};
pub use revocation::{REVOCATION_CONTENT_TYPE, RevocationList};
pub use verify::{MAX_LEEWAY_SECONDS, TOKEN_PREFIX, Verifier};
