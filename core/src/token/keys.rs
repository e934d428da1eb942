//! Ed25519 keys for signing and verifying entry tokens, and the key sets
//! that make rotation safe.
//!
//! Owns key generation (from OS randomness), import and export (raw 32-byte
//! seeds and public keys, PKCS#8 and SPKI PEM), the key id (`kid`) a token
//! names, and the two key sets: [`IssuerKeySet`] on the server (one current
//! signing key plus older ones kept for rotation) and [`PublicKeySet`] on
//! scanners (public keys only). Must never print, log or `Debug`-format a
//! private key, and never accept a weak (small-order) public key.

use std::collections::BTreeMap;
use std::fmt;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::error::{Error, Result};

/// Fills `buf` from the operating system's secure random source.
pub(crate) fn os_random(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(|e| Error::Port {
        port: "OS randomness",
        message: e.to_string(),
        source: None,
    })
}

/// The id of a key, carried as `kid` in every token's protected header:
/// 1 to 16 bytes. Short ids keep tokens short; `"26a"` or a single byte is
/// plenty to tell a handful of keys apart.
///
/// ```
/// use reservo::token::KeyId;
/// let kid: KeyId = "26a".parse().unwrap();
/// assert_eq!(kid.as_bytes(), b"26a");
/// assert_eq!(KeyId::new(Vec::new()).unwrap_err().code(), "INVALID_INPUT");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(Vec<u8>);

impl KeyId {
    /// The longest key id, in bytes.
    pub const MAX_LEN: usize = 16;

    /// A key id of 1 to [`KeyId::MAX_LEN`] bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<KeyId> {
        short_bytes("kid", bytes.into(), KeyId::MAX_LEN).map(KeyId)
    }

    /// The key id's bytes, as they appear in the token.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::str::FromStr for KeyId {
    type Err = Error;
    /// The UTF-8 bytes of `s` as a key id.
    fn from_str(s: &str) -> Result<KeyId> {
        KeyId::new(s.as_bytes())
    }
}

impl fmt::Display for KeyId {
    /// Printable ASCII ids print as text, others as `h'..'` hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.iter().all(|b| b.is_ascii_graphic()) {
            f.write_str(std::str::from_utf8(&self.0).map_err(|_| fmt::Error)?)
        } else {
            write!(f, "h'{}'", hex(&self.0))
        }
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// `bytes` if it has 1 to `max` bytes, else an [`Error::InvalidInput`] on `field`.
pub(crate) fn short_bytes(field: &str, bytes: Vec<u8>, max: usize) -> Result<Vec<u8>> {
    if bytes.is_empty() || bytes.len() > max {
        return Err(Error::invalid(
            field,
            format!("needs 1 to {max} bytes, got {}", bytes.len()),
        ));
    }
    Ok(bytes)
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn pem_error(what: &str, e: impl fmt::Display) -> Error {
    Error::invalid(what, format!("not a valid Ed25519 {what}: {e}"))
}

/// A private Ed25519 signing key with its key id, held by the issuer.
///
/// ```
/// use reservo::token::IssuerKey;
/// let key = IssuerKey::from_seed("k1".parse().unwrap(), [7; 32]);
/// let pem = key.to_pkcs8_pem().unwrap();
/// assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
/// let again = IssuerKey::from_pkcs8_pem("k1".parse().unwrap(), &pem).unwrap();
/// assert_eq!(again.public_key(), key.public_key());
/// ```
#[derive(Clone)]
pub struct IssuerKey {
    kid: KeyId,
    key: SigningKey,
}

impl IssuerKey {
    /// A new key from the operating system's secure random source.
    pub fn generate(kid: KeyId) -> Result<IssuerKey> {
        let mut seed = [0u8; 32];
        os_random(&mut seed)?;
        let key = IssuerKey::from_seed(kid, seed);
        seed.fill(0);
        Ok(key)
    }

    /// The key with this raw 32-byte Ed25519 seed (RFC 8032 private key).
    pub fn from_seed(kid: KeyId, seed: [u8; 32]) -> IssuerKey {
        IssuerKey {
            kid,
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// The raw 32-byte seed. It is the secret: store it like a password.
    pub fn to_seed(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Reads a PKCS#8 `PRIVATE KEY` PEM, as `openssl genpkey -algorithm
    /// ed25519` writes it.
    pub fn from_pkcs8_pem(kid: KeyId, pem: &str) -> Result<IssuerKey> {
        let key = SigningKey::from_pkcs8_pem(pem).map_err(|e| pem_error("private_key", e))?;
        Ok(IssuerKey { kid, key })
    }

    /// The key as a PKCS#8 `PRIVATE KEY` PEM (LF line endings).
    pub fn to_pkcs8_pem(&self) -> Result<String> {
        let pem = self
            .key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| pem_error("private_key", e))?;
        Ok(pem.as_str().to_owned())
    }

    /// The key id.
    pub fn kid(&self) -> &KeyId {
        &self.kid
    }

    /// The public half, for verifiers.
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            kid: self.kid.clone(),
            key: self.key.verifying_key(),
        }
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.key
    }
}

impl fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IssuerKey({}, <private>)", self.kid)
    }
}

/// A public Ed25519 key with its key id: all a scanner needs to verify.
///
/// ```
/// use reservo::token::{IssuerKey, PublicKey};
/// let public = IssuerKey::from_seed("k1".parse().unwrap(), [7; 32]).public_key();
/// let pem = public.to_public_key_pem().unwrap();
/// assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
/// assert_eq!(PublicKey::from_public_key_pem("k1".parse().unwrap(), &pem).unwrap(), public);
/// assert_eq!(PublicKey::from_bytes("k1".parse().unwrap(), public.to_bytes()).unwrap(), public);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    kid: KeyId,
    key: VerifyingKey,
}

impl PublicKey {
    /// The key with these 32 raw bytes (RFC 8032 encoding). Refuses bytes
    /// that are not a curve point and weak (small-order) keys.
    pub fn from_bytes(kid: KeyId, bytes: [u8; 32]) -> Result<PublicKey> {
        let key = VerifyingKey::from_bytes(&bytes).map_err(|e| pem_error("public_key", e))?;
        PublicKey::checked(kid, key)
    }

    /// Reads an SPKI `PUBLIC KEY` PEM, as `openssl pkey -pubout` writes it.
    pub fn from_public_key_pem(kid: KeyId, pem: &str) -> Result<PublicKey> {
        let key = VerifyingKey::from_public_key_pem(pem).map_err(|e| pem_error("public_key", e))?;
        PublicKey::checked(kid, key)
    }

    fn checked(kid: KeyId, key: VerifyingKey) -> Result<PublicKey> {
        if key.is_weak() {
            return Err(Error::invalid(
                "public_key",
                format!("key {kid} is a weak (small-order) Ed25519 key"),
            ));
        }
        Ok(PublicKey { kid, key })
    }

    /// The 32 raw bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The key as an SPKI `PUBLIC KEY` PEM (LF line endings).
    pub fn to_public_key_pem(&self) -> Result<String> {
        self.key
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| pem_error("public_key", e))
    }

    /// The key id.
    pub fn kid(&self) -> &KeyId {
        &self.kid
    }

    pub(crate) fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({}, {})", self.kid, hex(self.key.as_bytes()))
    }
}

/// The issuer's keys: one current key that signs new tokens, and older
/// keys kept so that tokens they signed still verify until removed.
///
/// There is always a current key, and it cannot be removed.
///
/// ```
/// use reservo::token::{IssuerKey, IssuerKeySet};
/// let old = IssuerKey::from_seed("k1".parse().unwrap(), [1; 32]);
/// let new = IssuerKey::from_seed("k2".parse().unwrap(), [2; 32]);
/// let mut keys = IssuerKeySet::new(old);
/// keys.rotate_to(new).unwrap();
/// assert_eq!(keys.current().kid().to_string(), "k2");
/// assert_eq!(keys.public_keys().len(), 2);
/// keys.remove(&"k1".parse().unwrap()).unwrap();
/// assert_eq!(keys.public_keys().len(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct IssuerKeySet {
    current: IssuerKey,
    previous: BTreeMap<KeyId, IssuerKey>,
}

impl IssuerKeySet {
    /// A set whose only key, `current`, signs new tokens.
    pub fn new(current: IssuerKey) -> IssuerKeySet {
        IssuerKeySet {
            current,
            previous: BTreeMap::new(),
        }
    }

    /// Makes `next` the signing key; the former current key stays in the
    /// set for verification. Refuses a key id already in the set.
    pub fn rotate_to(&mut self, next: IssuerKey) -> Result<()> {
        if self.contains(next.kid()) {
            return Err(key_exists(next.kid()));
        }
        let former = std::mem::replace(&mut self.current, next);
        self.previous.insert(former.kid.clone(), former);
        Ok(())
    }

    /// Removes a former key: tokens it signed stop verifying. The current
    /// key cannot be removed (rotate first).
    pub fn remove(&mut self, kid: &KeyId) -> Result<IssuerKey> {
        if self.current.kid() == kid {
            return Err(Error::invalid(
                "kid",
                format!("{kid} is the current signing key; rotate to another key first"),
            ));
        }
        self.previous
            .remove(kid)
            .ok_or_else(|| Error::not_found("signing key", kid.to_string()))
    }

    /// The key that signs new tokens.
    pub fn current(&self) -> &IssuerKey {
        &self.current
    }

    fn contains(&self, kid: &KeyId) -> bool {
        self.current.kid() == kid || self.previous.contains_key(kid)
    }

    /// The public halves of every key in the set, for verifiers and for
    /// distribution to scanners.
    pub fn public_keys(&self) -> PublicKeySet {
        let mut set = PublicKeySet::new();
        for key in std::iter::once(&self.current).chain(self.previous.values()) {
            set.keys.insert(key.kid.clone(), key.public_key());
        }
        set
    }
}

fn key_exists(kid: &KeyId) -> Error {
    Error::AlreadyExists {
        kind: "key",
        id: kid.to_string(),
    }
}

/// Public keys by key id: what a scanner holds to verify tokens offline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublicKeySet {
    keys: BTreeMap<KeyId, PublicKey>,
}

impl PublicKeySet {
    /// An empty set.
    pub fn new() -> PublicKeySet {
        PublicKeySet::default()
    }

    /// Adds a key. Adding the same key twice is a no-op; a different key
    /// under a key id already in the set is refused.
    pub fn insert(&mut self, key: PublicKey) -> Result<()> {
        match self.keys.get(key.kid()) {
            Some(existing) if *existing == key => Ok(()),
            Some(_) => Err(key_exists(key.kid())),
            None => {
                self.keys.insert(key.kid.clone(), key);
                Ok(())
            }
        }
    }

    /// Removes the key with this id: tokens it signed stop verifying.
    pub fn remove(&mut self, kid: &KeyId) -> Option<PublicKey> {
        self.keys.remove(kid)
    }

    /// The key with this id.
    pub fn get(&self, kid: &KeyId) -> Option<&PublicKey> {
        self.keys.get(kid)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set has no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys, in key id order: what a scanner hands on to another
    /// process or writes down, to rebuild the set with [`insert`](Self::insert).
    pub fn iter(&self) -> impl Iterator<Item = &PublicKey> {
        self.keys.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_8032_test_vector_1_gives_its_public_key() {
        let seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
        let mut bytes = [0u8; 32];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = u8::from_str_radix(&seed[2 * i..2 * i + 2], 16).unwrap();
        }
        let key = IssuerKey::from_seed("t".parse().unwrap(), bytes);
        assert_eq!(
            hex(&key.public_key().to_bytes()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        assert_eq!(key.to_seed(), bytes);
    }

    #[test]
    fn generated_keys_differ() {
        let a = IssuerKey::generate("a".parse().unwrap()).unwrap();
        let b = IssuerKey::generate("b".parse().unwrap()).unwrap();
        assert_ne!(a.to_seed(), b.to_seed());
    }

    #[test]
    fn debug_never_shows_the_private_key() {
        let key = IssuerKey::from_seed("k".parse().unwrap(), [0xab; 32]);
        assert_eq!(format!("{key:?}"), "IssuerKey(k, <private>)");
        let public = key.public_key();
        let shown = format!("{public:?}");
        assert_eq!(shown, format!("PublicKey(k, {})", hex(&public.to_bytes())));
    }

    #[test]
    fn key_ids_hold_1_to_16_bytes_and_print_as_text_or_hex() {
        assert_eq!(KeyId::new(Vec::new()).unwrap_err().code(), "INVALID_INPUT");
        assert_eq!(KeyId::new([7; 16]).unwrap().as_bytes(), [7; 16]);
        assert_eq!(KeyId::new([7; 17]).unwrap_err().code(), "INVALID_INPUT");
        let text: KeyId = "26a".parse().unwrap();
        assert_eq!(
            (text.to_string(), format!("{text:?}")),
            ("26a".into(), "KeyId(26a)".into())
        );
        // A space is not graphic, so an id with one prints as hex.
        let binary = KeyId::new(*b"\x00\xff ").unwrap();
        assert_eq!(binary.to_string(), "h'00ff20'");
    }

    #[test]
    fn public_keys_round_trip_through_pem() {
        let public = IssuerKey::from_seed("k".parse().unwrap(), [3; 32]).public_key();
        let pem = public.to_public_key_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
        let again = PublicKey::from_public_key_pem("k".parse().unwrap(), &pem).unwrap();
        assert_eq!(again, public);
    }

    #[test]
    fn a_public_key_set_counts_lists_and_rebuilds() {
        let key = |kid: &str, seed| IssuerKey::from_seed(kid.parse().unwrap(), [seed; 32]);
        let mut set = PublicKeySet::new();
        assert!(set.is_empty());
        assert_eq!(set.len(), 0);
        set.insert(key("k2", 2).public_key()).unwrap();
        set.insert(key("k1", 1).public_key()).unwrap();
        // The same key again is a no-op.
        set.insert(key("k1", 1).public_key()).unwrap();
        assert!(!set.is_empty());
        assert_eq!(set.len(), 2);
        let kids: Vec<String> = set.iter().map(|k| k.kid().to_string()).collect();
        assert_eq!(kids, ["k1", "k2"]);
        let mut rebuilt = PublicKeySet::new();
        for public in set.iter() {
            rebuilt.insert(public.clone()).unwrap();
        }
        assert_eq!(rebuilt, set);
    }

    #[test]
    fn weak_and_malformed_public_keys_are_refused() {
        // The identity point (small order).
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let kid: KeyId = "w".parse().unwrap();
        assert_eq!(
            PublicKey::from_bytes(kid.clone(), identity)
                .unwrap_err()
                .code(),
            "INVALID_INPUT"
        );
        assert!(PublicKey::from_public_key_pem(kid, "-----BEGIN PUBLIC KEY-----\n").is_err());
    }

    #[test]
    fn the_current_key_cannot_be_removed_and_kids_are_unique() {
        let mut keys = IssuerKeySet::new(IssuerKey::from_seed("k1".parse().unwrap(), [1; 32]));
        let k1: KeyId = "k1".parse().unwrap();
        assert_eq!(keys.remove(&k1).unwrap_err().code(), "INVALID_INPUT");
        let dup = IssuerKey::from_seed(k1, [9; 32]);
        assert_eq!(keys.rotate_to(dup).unwrap_err().code(), "ALREADY_EXISTS");
        let mut public = keys.public_keys();
        let other = IssuerKey::from_seed("k1".parse().unwrap(), [3; 32]).public_key();
        assert_eq!(public.insert(other).unwrap_err().code(), "ALREADY_EXISTS");
    }
}
