//! TLS to the server, set from the connection string as libpq reads it.
//!
//! This module owns `sslmode` and `sslrootcert`: it takes them out of the
//! connection string (the driver knows neither `verify-ca`, `verify-full`
//! nor `sslrootcert`), and builds the rustls connector that does what they
//! ask. It must never let a mode that promises verification connect to a
//! server whose certificate it did not verify.
//!
//! | `sslmode` | encrypted | server certificate |
//! |---|---|---|
//! | `disable` | never | — |
//! | `prefer` (default) | when the server offers TLS | checked against `sslrootcert` if given, else not checked |
//! | `require` | always | checked against `sslrootcert` if given, else not checked |
//! | `verify-ca` | always | signed by a root in `sslrootcert` |
//! | `verify-full` | always | signed by a root in `sslrootcert`, and names the host |
//!
//! `sslrootcert` is a PEM file of root certificates, or `system` for the
//! operating system's trusted roots (which, as in libpq, asks for
//! `verify-full`: it is the default mode then, and a weaker one is refused).

use std::borrow::Cow;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::ports::StorageError;

/// How much TLS the connection string asks for (`sslmode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl Mode {
    fn parse(value: &str) -> Result<Mode, StorageError> {
        Ok(match value {
            "disable" => Mode::Disable,
            "prefer" => Mode::Prefer,
            "require" => Mode::Require,
            "verify-ca" => Mode::VerifyCa,
            "verify-full" => Mode::VerifyFull,
            // libpq's `allow` tries plain first, which the driver cannot.
            other => {
                return Err(StorageError::backend(format!(
                    "unsupported sslmode {other:?}: use disable, prefer, require, verify-ca or \
                     verify-full"
                )));
            }
        })
    }

    /// The `sslmode` the driver is given: it only negotiates, the
    /// connector verifies.
    fn for_driver(self) -> &'static str {
        match self {
            Mode::Disable => "disable",
            Mode::Prefer => "prefer",
            Mode::Require | Mode::VerifyCa | Mode::VerifyFull => "require",
        }
    }
}

/// Where the trusted roots come from (`sslrootcert`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Roots {
    /// A PEM file of certificates.
    File(String),
    /// The operating system's trusted roots.
    System,
}

/// The TLS settings of a connection string, taken out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Settings {
    mode: Mode,
    roots: Option<Roots>,
}

/// Splits `sslmode` and `sslrootcert` off a connection string (a
/// `postgres://` URL or libpq `key=value` pairs): the string for the driver,
/// and what the connector must do.
pub(super) fn split(connection: &str) -> Result<(String, Settings), StorageError> {
    let (mut pairs, url) = match url_query(connection) {
        Some((head, query)) => (url_pairs(query)?, Some(head)),
        None => (key_value_pairs(connection)?, None),
    };
    let mut mode = None;
    let mut roots = None;
    for (key, value) in &pairs {
        match key.as_ref() {
            "sslmode" => mode = Some(Mode::parse(value)?),
            "sslrootcert" => {
                roots = Some(match value.as_ref() {
                    "system" => Roots::System,
                    path => Roots::File(path.to_owned()),
                })
            }
            _ => {}
        }
    }
    let mode = match (mode, &roots) {
        (None, Some(Roots::System)) => Mode::VerifyFull,
        (None, _) => Mode::Prefer,
        (Some(mode), Some(Roots::System)) if mode != Mode::VerifyFull => {
            return Err(StorageError::backend(
                "sslrootcert=system needs sslmode=verify-full (or no sslmode)",
            ));
        }
        (Some(mode), _) => mode,
    };
    if matches!(mode, Mode::VerifyCa | Mode::VerifyFull) && roots.is_none() {
        return Err(StorageError::backend(
            "sslmode=verify-ca and verify-full need sslrootcert: a PEM file of root \
             certificates, or `system` for the operating system's",
        ));
    }
    pairs.retain(|(key, _)| key != "sslmode" && key != "sslrootcert");
    pairs.push((Cow::Borrowed("sslmode"), Cow::Borrowed(mode.for_driver())));
    let driver = match url {
        Some(head) => {
            let query: Vec<String> = pairs
                .iter()
                .map(|(key, value)| format!("{}={}", percent_encode(key), percent_encode(value)))
                .collect();
            format!("{head}?{}", query.join("&"))
        }
        None => {
            let pairs: Vec<String> = pairs
                .iter()
                .map(|(key, value)| format!("{key}='{}'", quote(value)))
                .collect();
            pairs.join(" ")
        }
    };
    Ok((driver, Settings { mode, roots }))
}

/// A URL's part before its query, and the query (empty if it has none);
/// `None` if `connection` is not a URL.
fn url_query(connection: &str) -> Option<(&str, &str)> {
    ["postgres://", "postgresql://"]
        .iter()
        .any(|scheme| connection.starts_with(scheme))
        .then(|| connection.split_once('?').unwrap_or((connection, "")))
}

type Pair<'a> = (Cow<'a, str>, Cow<'a, str>);

/// A URL query's `key=value` pairs, percent-decoded, in order.
fn url_pairs(query: &str) -> Result<Vec<Pair<'_>>, StorageError> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').ok_or_else(|| {
                StorageError::backend(format!(
                    "invalid PostgreSQL connection string: parameter {pair:?} has no value"
                ))
            })?;
            Ok((percent_decode(key)?, percent_decode(value)?))
        })
        .collect()
}

/// `text` percent-decoded. Errors do not quote it: it may be a password.
fn percent_decode(text: &str) -> Result<Cow<'_, str>, StorageError> {
    if !text.contains('%') {
        return Ok(Cow::Borrowed(text));
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok());
            let Some(byte) = hex else {
                return Err(StorageError::backend(format!(
                    "invalid PostgreSQL connection string: bad percent-encoding at byte {i} of a \
                     parameter"
                )));
            };
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map(Cow::Owned).map_err(|_| {
        StorageError::backend(
            "invalid PostgreSQL connection string: a parameter does not decode to UTF-8",
        )
    })
}

fn percent_encode(text: &str) -> Cow<'_, str> {
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"-._~/:,".contains(&b);
    if text.bytes().all(plain) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if plain(byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    Cow::Owned(out)
}

/// libpq `key = value` pairs with the driver's rules: whitespace between
/// pairs and around `=`, values bare or in single quotes, `\` escaping the
/// next character in either.
fn key_value_pairs(connection: &str) -> Result<Vec<Pair<'_>>, StorageError> {
    let invalid =
        |why: &str| StorageError::backend(format!("invalid PostgreSQL connection string: {why}"));
    let mut pairs = Vec::new();
    let mut rest = connection.trim_start();
    while !rest.is_empty() {
        let key_end = rest
            .find(|c: char| c.is_whitespace() || c == '=')
            .unwrap_or(rest.len());
        let (key, after) = rest.split_at(key_end);
        if key.is_empty() {
            return Err(invalid("a parameter has no name"));
        }
        let after = after.trim_start();
        let after = after
            .strip_prefix('=')
            .ok_or_else(|| invalid(&format!("{key:?} is not followed by `=`")))?
            .trim_start();
        let (quoted, body) = match after.strip_prefix('\'') {
            Some(body) => (true, body),
            None => (false, after),
        };
        let mut value = String::new();
        let mut chars = body.char_indices();
        let mut end = body.len();
        let mut closed = false;
        while let Some((at, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                }
                '\'' if quoted => {
                    end = at + 1;
                    closed = true;
                    break;
                }
                c if !quoted && c.is_whitespace() => {
                    end = at;
                    break;
                }
                c => value.push(c),
            }
        }
        if quoted && !closed {
            return Err(invalid(&format!(
                "the value of {key:?} has no closing quote"
            )));
        }
        if !quoted && value.is_empty() {
            return Err(invalid(&format!("{key:?} has no value")));
        }
        pairs.push((Cow::Borrowed(key), Cow::Owned(value)));
        rest = body[end..].trim_start();
    }
    Ok(pairs)
}

/// `value` escaped for a single-quoted libpq value.
fn quote(value: &str) -> Cow<'_, str> {
    if !value.contains(['\\', '\'']) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        if matches!(c, '\\' | '\'') {
            out.push('\\');
        }
        out.push(c);
    }
    Cow::Owned(out)
}

/// The connector that does what `settings` ask for (loading the roots
/// they name).
pub(super) fn connector(settings: &Settings) -> Result<MakeRustlsConnect, StorageError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| StorageError::backend(format!("cannot set up TLS: {e}")))?;
    let chain = match (&settings.roots, settings.mode) {
        (_, Mode::Disable) | (None, _) => None,
        (Some(roots), _) => Some(
            WebPkiServerVerifier::builder_with_provider(
                Arc::new(load_roots(roots)?),
                Arc::clone(&provider),
            )
            .build()
            .map_err(|e| StorageError::backend(format!("cannot use the root certificates: {e}")))?,
        ),
    };
    let verifier = Verifier {
        chain,
        name: settings.mode == Mode::VerifyFull,
        provider,
    };
    let config = builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

fn load_roots(roots: &Roots) -> Result<RootCertStore, StorageError> {
    let mut store = RootCertStore::empty();
    match roots {
        Roots::File(path) => {
            let certificates = CertificateDer::pem_file_iter(path)
                .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    StorageError::backend(format!("cannot read sslrootcert {path:?}: {e}"))
                })?;
            for certificate in certificates {
                store.add(certificate).map_err(|e| {
                    StorageError::backend(format!(
                        "sslrootcert {path:?} holds a bad certificate: {e}"
                    ))
                })?;
            }
            if store.is_empty() {
                return Err(StorageError::backend(format!(
                    "sslrootcert {path:?} holds no PEM certificate"
                )));
            }
        }
        Roots::System => {
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
            if store.is_empty() {
                return Err(StorageError::backend(format!(
                    "sslrootcert=system: no trusted root certificate found on this system ({} \
                     errors)",
                    found.errors.len()
                )));
            }
        }
    }
    Ok(store)
}

/// Checks the server's certificate as the mode asks: against `chain`'s
/// roots if there are any (`verify-*`, or `sslrootcert` with `prefer` or
/// `require`), else not at all, as libpq does; the host's name only if
/// `name` (`verify-full`). The handshake's signatures are always checked
/// against the certificate the server sent.
#[derive(Debug)]
struct Verifier {
    chain: Option<Arc<WebPkiServerVerifier>>,
    name: bool,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        // The name is checked last, after the chain: a name mismatch means
        // the chain was good.
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(mode: Mode, roots: Option<Roots>) -> Settings {
        Settings { mode, roots }
    }

    #[test]
    fn a_url_keeps_its_other_parameters_and_hands_the_driver_a_mode_it_knows() {
        let (driver, tls) = split(
            "postgres://app:p%40ss@db.example.com:5432/bookings?application_name=web%20app\
             &sslmode=verify-full&sslrootcert=%2Fetc%2Fca%20bundle.pem&connect_timeout=5",
        )
        .unwrap();
        assert_eq!(
            driver,
            "postgres://app:p%40ss@db.example.com:5432/bookings?application_name=web%20app\
             &connect_timeout=5&sslmode=require"
        );
        assert_eq!(
            tls,
            settings(
                Mode::VerifyFull,
                Some(Roots::File("/etc/ca bundle.pem".into()))
            )
        );
        driver.parse::<tokio_postgres::Config>().unwrap();
    }

    #[test]
    fn without_ssl_parameters_a_connection_prefers_tls_unverified_as_libpq_does() {
        let (driver, tls) = split("postgresql://app@127.0.0.1/bookings").unwrap();
        assert_eq!(driver, "postgresql://app@127.0.0.1/bookings?sslmode=prefer");
        assert_eq!(tls, settings(Mode::Prefer, None));
        let (driver, tls) = split("host=/run/postgresql dbname=bookings").unwrap();
        assert_eq!(
            driver,
            "host='/run/postgresql' dbname='bookings' sslmode='prefer'"
        );
        assert_eq!(tls, settings(Mode::Prefer, None));
    }

    #[test]
    fn key_value_strings_follow_the_drivers_quoting() {
        let (driver, tls) = split(
            r"host = db  password='it\'s a \\secret' sslrootcert='/ca dir/root.pem' sslmode=verify-ca",
        )
        .unwrap();
        assert_eq!(
            driver,
            r"host='db' password='it\'s a \\secret' sslmode='require'"
        );
        assert_eq!(
            tls,
            settings(Mode::VerifyCa, Some(Roots::File("/ca dir/root.pem".into())))
        );
        let config: tokio_postgres::Config = driver.parse().unwrap();
        assert_eq!(config.get_password(), Some(&br"it's a \secret"[..]));
    }

    #[test]
    fn system_roots_mean_verify_full() {
        let (_, tls) = split("postgres://db/x?sslrootcert=system").unwrap();
        assert_eq!(tls, settings(Mode::VerifyFull, Some(Roots::System)));
        assert!(split("postgres://db/x?sslrootcert=system&sslmode=require").is_err());
    }

    #[test]
    fn modes_that_verify_need_roots_and_unknown_modes_are_refused() {
        for bad in [
            "postgres://db/x?sslmode=verify-full",
            "host=db sslmode=verify-ca",
            "postgres://db/x?sslmode=allow",
            "postgres://db/x?sslmode=VERIFY-FULL",
            "host=db sslmode",
            "host=db password='open",
            "postgres://db/x?sslmode",
            "postgres://db/x?sslmode=%zz",
        ] {
            let error = split(bad).expect_err(bad);
            assert!(
                matches!(error, StorageError::Backend { .. }),
                "{bad}: {error:?}"
            );
        }
    }

    #[test]
    fn roots_must_be_a_readable_pem_file_with_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        for path in [empty, dir.path().join("missing.pem")] {
            let path = path.to_str().unwrap().to_owned();
            let error = connector(&settings(Mode::VerifyFull, Some(Roots::File(path.clone()))))
                .err()
                .expect("no connector without roots");
            assert!(error.to_string().contains(&path), "{error}");
        }
        connector(&settings(Mode::Require, None)).unwrap();
    }
}
