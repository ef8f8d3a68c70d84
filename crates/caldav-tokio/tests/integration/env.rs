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
