//! Issuing tickets and verifying them offline.
//!
//! Owns the token text (`RV1:` + base45 of a COSE_Sign1 whose payload is a
//! CWT claims set) and the order of checks a verifier makes: encoding, key,
//! signature, claims, validity window, revocation. Must never decode claims
//! before their signature has verified, and never need anything but public
//! keys, a clock and the last revocation list it was given.

use chrono::{DateTime, Duration, Utc};
use coset::CborSerializable;
use coset::cwt::ClaimsSet;

use crate::error::{Error, Result};
use crate::ports::Clock;
use crate::token::base45;
use crate::token::claims::{TicketClaims, malformed};
use crate::token::cose;
use crate::token::keys::{IssuerKeySet, PublicKeySet};
use crate::token::revocation::RevocationList;

/// The prefix of every version-1 token. A new format gets a new prefix.
pub const TOKEN_PREFIX: &str = "RV1:";

impl IssuerKeySet {
    /// Signs `claims` with the current key and returns the token text:
    /// `RV1:` followed by base45, ready for a QR code in alphanumeric mode.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use reservo::ids::{BookingId, ResourceId};
    /// use reservo::time::ManualClock;
    /// use reservo::token::*;
    /// let keys = IssuerKeySet::new(IssuerKey::from_seed("k1".parse().unwrap(), [1; 32]));
    /// let at = |h| Utc.with_ymd_and_hms(2026, 6, 1, h, 0, 0).unwrap();
    /// let claims = TicketClaims {
    ///     token_id: TokenId::from_bytes(*b"t-000001").unwrap(),
    ///     booking: BookingId::new("BK-1042").unwrap(),
    ///     resource: ResourceId::new("museum").unwrap(),
    ///     validity: ValidityWindow::new(at(9), at(18)).unwrap(),
    ///     entry: EntryPolicy::default(),
    ///     scope: Scope::default(),
    /// };
    /// let token = keys.issue(&claims);
    /// assert!(token.starts_with("RV1:"));
    ///
    /// let verifier = Verifier::new(keys.public_keys());
    /// let clock = ManualClock::new(at(10));
    /// assert_eq!(verifier.verify(&token, &clock).unwrap(), claims);
    /// clock.set(at(18)).unwrap();
    /// assert_eq!(verifier.verify(&token, &clock).unwrap_err().code(), "TOKEN_EXPIRED");
    /// ```
    pub fn issue(&self, claims: &TicketClaims) -> String {
        let payload = claims
            .to_claims_set()
            .to_vec()
            .expect("a claims set built from valid claims always serializes");
        let envelope = cose::sign(self.current(), None, payload);
        let mut token = String::with_capacity(TOKEN_PREFIX.len() + envelope.len() / 2 * 3 + 2);
        token.push_str(TOKEN_PREFIX);
        token.push_str(&base45::encode(&envelope));
        token
    }
}

/// The largest leeway a [`Verifier`] accepts, in seconds (one hour): a
/// token that expired longer ago than this is refused by every verifier,
/// revoked or not.
pub const MAX_LEEWAY_SECONDS: i64 = 3600;

/// Verifies tokens offline with public keys only: what a gate scanner (or
/// the server) runs on each scan.
#[derive(Debug, Clone)]
pub struct Verifier {
    keys: PublicKeySet,
    leeway: Duration,
    revocations: Option<RevocationList>,
}

impl Verifier {
    /// A verifier with these keys, no leeway and no revocation list yet.
    pub fn new(keys: PublicKeySet) -> Verifier {
        Verifier {
            keys,
            leeway: Duration::zero(),
            revocations: None,
        }
    }

    /// Accepts tokens up to `leeway` before `nbf` and after `exp`, for
    /// scanner clocks that drift. At most one hour ([`MAX_LEEWAY_SECONDS`]).
    pub fn with_leeway(mut self, leeway: Duration) -> Result<Verifier> {
        if leeway < Duration::zero() || leeway > Duration::seconds(MAX_LEEWAY_SECONDS) {
            return Err(Error::invalid(
                "leeway",
                format!("must be between 0 and 1 hour, got {leeway}"),
            ));
        }
        self.leeway = leeway;
        Ok(self)
    }

    /// The keys, to add or remove keys as they rotate.
    pub fn keys_mut(&mut self) -> &mut PublicKeySet {
        &mut self.keys
    }

    /// The revocation list in force, if one was applied.
    pub fn revocations(&self) -> Option<&RevocationList> {
        self.revocations.as_ref()
    }

    /// Verifies a signed revocation list and puts it in force. Refuses a
    /// list that is not newer (by sequence) than the one held, with
    /// [`Error::InvalidInput`], and keeps the one held.
    pub fn apply_revocations(&mut self, signed: &[u8]) -> Result<&RevocationList> {
        let list = RevocationList::open(signed, &self.keys)?;
        if let Some(held) = &self.revocations {
            if list.sequence() <= held.sequence() {
                return Err(Error::invalid(
                    "revocation_list",
                    format!(
                        "sequence {} is not newer than the {} held",
                        list.sequence(),
                        held.sequence()
                    ),
                ));
            }
        }
        Ok(self.revocations.insert(list))
    }

    /// Verifies `token` now, by `clock`.
    pub fn verify(&self, token: &str, clock: &dyn Clock) -> Result<TicketClaims> {
        self.verify_at(token, clock.now())
    }

    /// Verifies `token` as of the instant `at`: encoding, key, signature,
    /// claims, validity window (with leeway), then revocation. Each failure
    /// has its own error: [`Error::TokenMalformed`],
    /// [`Error::TokenUnknownKey`], [`Error::TokenBadSignature`],
    /// [`Error::TokenNotYetValid`], [`Error::TokenExpired`],
    /// [`Error::TokenRevoked`].
    pub fn verify_at(&self, token: &str, at: DateTime<Utc>) -> Result<TicketClaims> {
        let claims = self.open(token)?;
        self.check_at(&claims, at)?;
        Ok(claims)
    }

    /// The claims of `token` once its encoding, key, signature and claims
    /// check out, whatever the time and the revocation list: the first
    /// half of [`Verifier::verify_at`].
    pub(crate) fn open(&self, token: &str) -> Result<TicketClaims> {
        let text = token
            .strip_prefix(TOKEN_PREFIX)
            .ok_or_else(|| malformed(format!("a token starts with {TOKEN_PREFIX:?}")))?;
        let envelope = base45::decode(text).map_err(malformed)?;
        let payload = cose::open(&envelope, None, &self.keys)?;
        let set = ClaimsSet::from_slice(&payload)
            .map_err(|e| malformed(format!("the payload is not a CWT claims set: {e}")))?;
        TicketClaims::from_claims_set(set)
    }

    /// Whether claims [`Verifier::open`] returned are valid at `at` (with
    /// leeway, saturating at the ends of time) and not revoked: the second
    /// half of [`Verifier::verify_at`].
    pub(crate) fn check_at(&self, claims: &TicketClaims, at: DateTime<Utc>) -> Result<()> {
        let validity = claims.validity;
        let latest = at
            .checked_add_signed(self.leeway)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        if latest < validity.not_before() {
            return Err(Error::TokenNotYetValid {
                not_before: validity.not_before(),
            });
        }
        let earliest = at
            .checked_sub_signed(self.leeway)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        if earliest >= validity.expires() {
            return Err(Error::TokenExpired {
                expired_at: validity.expires(),
            });
        }
        if let Some(list) = &self.revocations {
            list.check(claims)?;
        }
        Ok(())
    }
}
