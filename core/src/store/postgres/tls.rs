//! TLS to the server, set from the connection string as libpq reads it.
//!
//! This module owns `sslmode`, `sslrootcert`, `sslcert` and `sslkey`: it
//! takes them out of the connection string (the driver knows neither
//! `verify-ca`, `verify-full` nor the files), and builds the rustls
//! connector that does what they ask. It must never let a mode that
//! promises verification connect to a server whose certificate it did not
//! verify.
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
//! `sslcert` (the client's certificate, then any intermediates) and
//! `sslkey` (its unencrypted private key) are PEM files given together; the
//! client presents them when the server asks (`cert` or `clientcert` in
//! `pg_hba.conf`).

use std::borrow::Cow;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::conninfo;
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

/// The client's certificate and key (`sslcert`, `sslkey`): PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ClientCert {
    cert: String,
    key: String,
}

/// The TLS settings of a connection string, taken out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Settings {
    mode: Mode,
    roots: Option<Roots>,
    client: Option<ClientCert>,
}

/// The parameters this module takes out of the driver's string.
const TLS_PARAMETERS: [&str; 4] = ["sslmode", "sslrootcert", "sslcert", "sslkey"];

/// Splits the TLS parameters (`sslmode`, `sslrootcert`, `sslcert`,
/// `sslkey`) off a connection string (a `postgres://` URL or libpq
/// `key=value` pairs): the string for the driver, and what the connector
/// must do.
pub(super) fn split(connection: &str) -> Result<(String, Settings), StorageError> {
    let mut parsed = conninfo::parse(connection)?;
    let mut mode = None;
    let mut roots = None;
    let (mut cert, mut key) = (None, None);
    for (name, value) in &parsed.pairs {
        match name.as_ref() {
            "sslmode" => mode = Some(Mode::parse(value)?),
            "sslrootcert" => {
                roots = Some(match value.as_ref() {
                    "system" => Roots::System,
                    path => Roots::File(path.to_owned()),
                })
            }
            "sslcert" => cert = Some(value.to_string()),
            "sslkey" => key = Some(value.to_string()),
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
    let client = match (cert, key) {
        (Some(cert), Some(key)) => Some(ClientCert { cert, key }),
        (None, None) => None,
        _ => {
            return Err(StorageError::backend(
                "sslcert and sslkey go together: a PEM file of the client certificate (and \
                 any intermediates) and one of its private key",
            ));
        }
    };
    parsed
        .pairs
        .retain(|(name, _)| !TLS_PARAMETERS.contains(&name.as_ref()));
    parsed
        .pairs
        .push((Cow::Borrowed("sslmode"), Cow::Borrowed(mode.for_driver())));
    let settings = Settings {
        mode,
        roots,
        client,
    };
    Ok((parsed.render(), settings))
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
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    // As in libpq, a connection without TLS ignores the client's files.
    let client = settings
        .client
        .as_ref()
        .filter(|_| settings.mode != Mode::Disable);
    let config = match client {
        None => builder.with_no_client_auth(),
        Some(client) => {
            let (chain, key) = load_client_cert(client)?;
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                StorageError::backend(format!(
                    "cannot use sslcert {:?} with sslkey {:?}: {e}",
                    client.cert, client.key
                ))
            })?
        }
    };
    Ok(MakeRustlsConnect::new(config))
}

/// The client certificate chain and its private key.
fn load_client_cert(
    client: &ClientCert,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), StorageError> {
    let chain = CertificateDer::pem_file_iter(&client.cert)
        .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            StorageError::backend(format!("cannot read sslcert {:?}: {e}", client.cert))
        })?;
    if chain.is_empty() {
        return Err(StorageError::backend(format!(
            "sslcert {:?} holds no PEM certificate",
            client.cert
        )));
    }
    // Errors name the file, never its content: it is a secret.
    let key = PrivateKeyDer::from_pem_file(&client.key).map_err(|e| {
        StorageError::backend(format!(
            "cannot read sslkey {:?} (an unencrypted PEM private key): {e}",
            client.key
        ))
    })?;
    Ok((chain, key))
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
        Settings {
            mode,
            roots,
            client: None,
        }
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
        // Saying verify-full too is the same, in either order.
        for url in [
            "postgres://db/x?sslrootcert=system&sslmode=verify-full",
            "postgres://db/x?sslmode=verify-full&sslrootcert=system",
        ] {
            let (_, tls) = split(url).unwrap();
            assert_eq!(
                tls,
                settings(Mode::VerifyFull, Some(Roots::System)),
                "{url}"
            );
        }
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

    #[test]
    fn a_client_certificate_is_its_two_files_taken_out_of_the_string() {
        let (driver, tls) = split(
            "postgres://app@db/x?sslcert=%2Fkeys%2Fapp.crt&sslkey=%2Fkeys%2Fapp.key&sslmode=require",
        )
        .unwrap();
        assert_eq!(driver, "postgres://app@db/x?sslmode=require");
        let client = ClientCert {
            cert: "/keys/app.crt".into(),
            key: "/keys/app.key".into(),
        };
        assert_eq!(tls.client, Some(client));
        for half in [
            "host=db sslcert=/keys/app.crt",
            "postgres://db/x?sslkey=/keys/app.key",
        ] {
            let error = split(half).expect_err(half);
            assert!(error.to_string().contains("go together"), "{error}");
        }
    }

    #[test]
    fn client_certificate_files_must_hold_a_certificate_and_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not PEM\n").unwrap();
        let junk = junk.to_str().unwrap().to_owned();
        let missing = dir.path().join("missing.pem").to_str().unwrap().to_owned();
        for (cert, key, named) in [(&junk, &junk, &junk), (&missing, &junk, &missing)] {
            let with_client = Settings {
                client: Some(ClientCert {
                    cert: cert.clone(),
                    key: key.clone(),
                }),
                ..settings(Mode::Require, None)
            };
            let error = connector(&with_client).err().expect("no connector");
            assert!(error.to_string().contains(named.as_str()), "{error}");
            let without_tls = Settings {
                mode: Mode::Disable,
                ..with_client
            };
            connector(&without_tls).expect("sslmode=disable ignores sslcert and sslkey");
        }
    }
}
