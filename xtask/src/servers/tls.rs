//! The project's test CA and TLS checks against it.
//!
//! `rcgen` makes a CA and a server certificate for Cyrus's HTTPS listener, named for every way
//! a test may reach it (`cal.example.test` through the test DNS zone, `localhost`, and the
//! loopback addresses). Clients trust `ca.pem` explicitly; nothing is added to the system's
//! trust store. `rustls` (trusting that CA only) proves the listener presents the certificate.

use super::http;
use anyhow::{Context, Result, bail};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use rustls_pki_types::pem::PemObject as _;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The host name the test DNS zone gives Cyrus, and the first name in its certificate.
pub(crate) const SERVER_NAME: &str = "cal.example.test";
/// Every subject alternative name of the server certificate.
const SUBJECT_ALT_NAMES: [&str; 4] = [SERVER_NAME, "localhost", "127.0.0.1", "::1"];

/// The folder holding `ca.pem`, `server.crt` and `server.key` under a server's state folder.
pub(crate) fn dir(server_dir: &Path) -> PathBuf {
    server_dir.join("tls")
}

/// The test CA certificate (PEM) that clients trust.
pub(crate) fn ca_path(server_dir: &Path) -> PathBuf {
    dir(server_dir).join("ca.pem")
}

/// Makes the CA and the server certificate unless all three files are already there.
///
/// Kept across restarts so a client that cached the CA path keeps working.
pub(crate) fn ensure_certificates(server_dir: &Path) -> Result<()> {
    let dir = dir(server_dir);
    let files = ["ca.pem", "server.crt", "server.key"].map(|f| dir.join(f));
    if files.iter().all(|f| f.is_file()) {
        return Ok(());
    }
    let (ca_pem, cert_pem, key_pem) = generate().context("making the test CA")?;
    let [ca, cert, key] = files;
    super::write_file(&ca, ca_pem)?;
    super::write_file(&cert, cert_pem)?;
    super::write_file(&key, key_pem)?;
    Ok(())
}

/// A fresh CA, and a server certificate signed by it: (CA PEM, certificate PEM, key PEM).
fn generate() -> Result<(String, String, String)> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "caldav-rs test CA (loopback only)");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let names: Vec<String> = SUBJECT_ALT_NAMES.iter().map(|&n| n.to_owned()).collect();
    let mut params = CertificateParams::new(names)?;
    params
        .distinguished_name
        .push(DnType::CommonName, SERVER_NAME);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    Ok((ca_cert.pem(), cert.pem(), key.serialize_pem()))
}

/// A client configuration trusting the certificates in `ca` only (none: trusts nothing).
fn client_config(ca: Option<&Path>, alpn: &[&[u8]]) -> Result<ClientConfig> {
    let mut roots = RootCertStore::empty();
    if let Some(ca) = ca {
        for cert in CertificateDer::pem_file_iter(ca)
            .with_context(|| format!("reading {}", ca.display()))?
        {
            let cert = cert.with_context(|| format!("parsing {}", ca.display()))?;
            roots.add(cert).context("adding the test CA")?;
        }
        if roots.is_empty() {
            bail!("no certificate in {}", ca.display());
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

/// Opens a TLS connection to 127.0.0.1:`port` verifying the certificate for `name`.
fn connect(
    port: u16,
    name: &str,
    ca: Option<&Path>,
    alpn: &[&[u8]],
) -> Result<StreamOwned<ClientConnection, TcpStream>> {
    let config = Arc::new(client_config(ca, alpn)?);
    let server_name =
        ServerName::try_from(name.to_owned()).with_context(|| format!("server name {name}"))?;
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut tcp = TcpStream::connect_timeout(&address, http::TIMEOUT)
        .with_context(|| format!("connecting to {address}"))?;
    tcp.set_read_timeout(Some(http::TIMEOUT))?;
    tcp.set_write_timeout(Some(http::TIMEOUT))?;
    let mut connection = ClientConnection::new(config, server_name)?;
    while connection.is_handshaking() {
        connection
            .complete_io(&mut tcp)
            .with_context(|| format!("TLS handshake with {name} at {address}"))?;
    }
    Ok(StreamOwned::new(connection, tcp))
}

/// Completes a handshake for `name` trusting `ca` only (or nothing); returns the ALPN
/// protocol the server chose.
pub(crate) fn handshake(
    port: u16,
    name: &str,
    ca: Option<&Path>,
    alpn: &[&[u8]],
) -> Result<Option<String>> {
    let stream = connect(port, name, ca, alpn)?;
    Ok(stream
        .conn
        .alpn_protocol()
        .map(|p| String::from_utf8_lossy(p).into_owned()))
}

/// One HTTP/1.1 request over TLS to 127.0.0.1:`port`, verifying the certificate for
/// `127.0.0.1` against `ca`.
pub(crate) fn https_request(
    port: u16,
    ca: &Path,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<http::Response> {
    https_request_to(port, "127.0.0.1", ca, method, path, headers, body)
}

/// One HTTP/1.1 request over TLS, verifying the certificate for `name` against `ca`.
pub(crate) fn https_request_to(
    port: u16,
    name: &str,
    ca: &Path,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<http::Response> {
    let mut stream = connect(port, name, Some(ca), &[b"http/1.1"])?;
    let host = if name.contains(':') {
        format!("[{name}]:{port}")
    } else {
        format!("{name}:{port}")
    };
    http::exchange(&mut stream, &host, method, path, headers, body)
        .with_context(|| format!("{method} https://{host}{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::client::danger::ServerCertVerifier as _;

    #[test]
    fn generated_certificate_chains_to_the_generated_ca() {
        let (ca_pem, cert_pem, key_pem) = generate().unwrap();
        let ca = CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap();
        let cert = CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap();
        assert!(key_pem.contains("PRIVATE KEY"));
        let mut roots = RootCertStore::empty();
        roots.add(ca).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
        let now = rustls::pki_types::UnixTime::now();
        for name in SUBJECT_ALT_NAMES {
            let name = ServerName::try_from(name).unwrap();
            verifier
                .verify_server_cert(&cert, &[], &name, &[], now)
                .unwrap_or_else(|e| panic!("{name:?}: {e}"));
        }
        let other = ServerName::try_from("example.org").unwrap();
        assert!(
            verifier
                .verify_server_cert(&cert, &[], &other, &[], now)
                .is_err()
        );
    }
}
