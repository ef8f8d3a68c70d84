//! Where the real servers are: `.state/servers/env` of this checkout, or the environment.

pub(crate) use test_support::servers::var;

/// The test CA's PEM.
pub(crate) fn ca_pem() -> Vec<u8> {
    let path = var("CALDAV_TEST_CA");
    #[allow(clippy::disallowed_methods)]
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read the test CA {path}: {e}"))
}

/// The DNS server of the test zone.
pub(crate) fn dns_server() -> std::net::SocketAddr {
    var("CALDAV_TEST_DNS_SERVER")
        .parse()
        .expect("CALDAV_TEST_DNS_SERVER is host:port")
}

/// `server`'s base URL and a client configuration for it over plain http: its test user's
/// credentials unless the server runs without authentication.
pub(crate) fn plain_server_config(server: &str) -> (String, caldav_tokio::HttpConfig) {
    let upper = server.to_ascii_uppercase();
    let base = var(&format!("CALDAV_TEST_{upper}_URL"));
    let mut config = caldav_tokio::HttpConfig::default();
    config.allow_plain_http_credentials = true;
    if var(&format!("CALDAV_TEST_{upper}_AUTH")) != "none" {
        config = config.with_credentials(caldav_tokio::Credentials::password(
            var(&format!("CALDAV_TEST_{upper}_USER")),
            var(&format!("CALDAV_TEST_{upper}_PASSWORD")),
        ));
    }
    (base, config)
}

/// A configuration for Cyrus's HTTPS listener: the test CA trusted (and no web roots), names
/// resolved by the test zone's DNS server, Cyrus's test user.
pub(crate) fn cyrus_tls_config() -> caldav_tokio::HttpConfig {
    let mut config = caldav_tokio::HttpConfig::default()
        .trust_pem(&ca_pem())
        .unwrap()
        .with_resolver(caldav_tokio::Resolver::with_name_servers(&[dns_server()]))
        .with_credentials(caldav_tokio::Credentials::password(
            var("CALDAV_TEST_CYRUS_USER"),
            var("CALDAV_TEST_CYRUS_PASSWORD"),
        ));
    config.webpki_roots = false;
    config
}
