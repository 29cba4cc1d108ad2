//! The TLS trust roots of a process's HTTPS connections to AWS, and the rustls
//! configuration that trusts them.
//!
//! The Lambda functions trust Mozilla's roots compiled into the binary (`webpki-roots`, see
//! the workspace's Cargo.toml for why and how they are kept current): rustls takes those
//! trust anchors as they are, so a cold start reads no file and parses no certificate.
//! Reading the system's store instead cost 4 ms of a 6.4 ms init (issue #22).

use std::fmt;
use std::sync::Arc;

use contract::env::{tls_roots, TLS_ROOTS};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore};

use crate::settings::{SettingError, Settings};

/// Where a process's HTTPS connections find the roots they trust.
#[derive(Clone, Debug)]
pub enum Roots {
    /// Mozilla's roots compiled into the binary: the Lambda functions' default.
    Compiled,
    /// The system's store, read and parsed when the SDK's client is built, through the
    /// SDK's own HTTPS client, as before issue #22: the on-call CLI, whose person may sit
    /// behind a company's proxy CA, and a function with `TLS_ROOTS=system`.
    System,
    /// These roots only: tests, which trust a CA of their own.
    Custom(RootCertStore),
}

impl Roots {
    /// The roots `TLS_ROOTS` names; a function's init fails on a value it does not know,
    /// so a typo shows at deploy instead of as a refused handshake.
    pub fn from_env() -> Result<Roots, SettingError> {
        Roots::from_settings(&Settings::from_env())
    }

    pub fn from_settings<F: Fn(&str) -> Option<String>>(
        settings: &Settings<F>,
    ) -> Result<Roots, SettingError> {
        match settings.get(TLS_ROOTS).to_ascii_lowercase().as_str() {
            tls_roots::COMPILED => Ok(Roots::Compiled),
            tls_roots::SYSTEM => Ok(Roots::System),
            _ => Err(SettingError {
                name: TLS_ROOTS.name,
                value: settings.raw(TLS_ROOTS),
                expected: "\"compiled\" (the default) or \"system\"",
            }),
        }
    }
}

impl fmt::Display for Roots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Roots::Compiled => tls_roots::COMPILED,
            Roots::System => tls_roots::SYSTEM,
            Roots::Custom(_) => "custom",
        })
    }
}

/// Mozilla's roots as rustls trust anchors. They are static data: the store holds a copy of
/// each anchor's borrowed slices, about 120 of them, and decodes nothing.
pub fn compiled() -> RootCertStore {
    RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

/// The TLS configuration of the functions' HTTPS client: rustls on ring, TLS 1.2 and 1.3,
/// the cipher suites the SDK's own client offers, and `roots` as the only trust anchors.
/// Certificates are verified in full (chain, name, validity), by rustls's WebPKI verifier.
pub fn client_config(roots: RootCertStore) -> ClientConfig {
    ClientConfig::builder_with_provider(Arc::new(sdk_cipher_suites(
        rustls::crypto::ring::default_provider(),
    )))
    .with_safe_default_protocol_versions()
    // ring's provider has suites for both versions, and the list below keeps some of each.
    .expect("ring offers TLS 1.2 and 1.3 suites")
    .with_root_certificates(roots)
    .with_no_client_auth()
}

/// `provider` with the suites the SDK's own client keeps (`restrict_ciphers` in
/// aws-smithy-http-client), in its order: AWS sees the same offer as before issue #22.
fn sdk_cipher_suites(provider: CryptoProvider) -> CryptoProvider {
    use rustls::CipherSuite::*;
    const KEPT: [rustls::CipherSuite; 7] = [
        TLS13_AES_256_GCM_SHA384,
        TLS13_AES_128_GCM_SHA256,
        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ];
    let cipher_suites = KEPT
        .iter()
        .filter_map(|kept| {
            provider
                .cipher_suites
                .iter()
                .find(|suite| suite.suite() == *kept)
                .copied()
        })
        .collect();
    CryptoProvider {
        cipher_suites,
        ..provider
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots(value: Option<&str>) -> Result<Roots, SettingError> {
        let value = value.map(str::to_owned);
        Roots::from_settings(&Settings::new(move |name| {
            assert_eq!(name, TLS_ROOTS.name);
            value.clone()
        }))
    }

    #[test]
    fn tls_roots_names_compiled_by_default_or_system_and_nothing_else() {
        assert!(matches!(roots(None), Ok(Roots::Compiled)));
        assert!(matches!(roots(Some(" ")), Ok(Roots::Compiled)));
        assert!(matches!(roots(Some("compiled")), Ok(Roots::Compiled)));
        assert!(matches!(roots(Some(" System ")), Ok(Roots::System)));
        assert_eq!(
            roots(Some("native")).unwrap_err().to_string(),
            "TLS_ROOTS=\"native\" is not valid: \"compiled\" (the default) or \"system\""
        );
    }

    #[test]
    fn the_compiled_roots_hold_the_amazon_trust_services_roots() {
        // The subjects' common names, as DER holds them: AWS's endpoints chain to these.
        let store = compiled();
        for name in [
            "Amazon Root CA 1",
            "Amazon Root CA 2",
            "Amazon Root CA 3",
            "Amazon Root CA 4",
            "Starfield Services Root Certificate Authority - G2",
        ] {
            let found = store.roots.iter().any(|anchor| {
                anchor
                    .subject
                    .as_ref()
                    .windows(name.len())
                    .any(|window| window == name.as_bytes())
            });
            assert!(found, "{name} is not among the compiled roots");
        }
    }

    #[test]
    fn the_configuration_offers_the_sdks_suites_and_no_alpn() {
        let config = client_config(compiled());
        let suites: Vec<_> = config
            .crypto_provider()
            .cipher_suites
            .iter()
            .map(|suite| suite.suite())
            .collect();
        assert_eq!(suites.len(), 7, "{suites:?}");
        assert!(!suites.contains(&rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256));
        assert!(config.alpn_protocols.is_empty());
    }
}
