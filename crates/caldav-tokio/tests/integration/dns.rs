//! The resolver against Knot serving the test zone (`cargo xtask servers start dns`).

use caldav_tokio::Resolver;
use service_discovery::{DnsAnswer, DnsQuery, RecordKind, SrvRecord, TxtRecord};

use crate::env::dns_server;

fn resolver() -> Resolver {
    Resolver::with_name_servers(&[dns_server()])
}

fn q(name: &str, kind: RecordKind) -> DnsQuery {
    DnsQuery {
        name: name.to_owned(),
        kind,
    }
}

#[tokio::test]
async fn srv_and_txt_of_caldavs() {
    let r = resolver();
    assert_eq!(
        r.query(&q("_caldavs._tcp.example.test", RecordKind::Srv))
            .await,
        DnsAnswer::Srv(vec![SrvRecord::new(0, 1, 8443, "cal.example.test")])
    );
    assert_eq!(
        r.query(&q("_caldavs._tcp.example.test", RecordKind::Txt))
            .await,
        DnsAnswer::Txt(vec![TxtRecord::new(["path=/dav/"])])
    );
    assert_eq!(
        r.query(&q("_caldavs._tcp.txt2.example.test", RecordKind::Txt))
            .await,
        DnsAnswer::Txt(vec![TxtRecord::new(["path=/caldav.php/", "foo=bar"])])
    );
}

#[tokio::test]
async fn weighted_set_and_no_service() {
    let r = resolver();
    let DnsAnswer::Srv(mut records) = r
        .query(&q("_caldavs._tcp.multi.example.test", RecordKind::Srv))
        .await
    else {
        panic!("no SRV answer");
    };
    records.sort_by_key(|s| s.port);
    assert_eq!(
        records,
        vec![
            SrvRecord::new(10, 60, 8443, "a.example.test"),
            SrvRecord::new(10, 40, 8444, "b.example.test"),
            SrvRecord::new(20, 0, 8445, "c.example.test"),
        ]
    );
    let DnsAnswer::Srv(none) = r
        .query(&q("_caldav._tcp.none.example.test", RecordKind::Srv))
        .await
    else {
        panic!("no SRV answer");
    };
    assert_eq!(none.len(), 1);
    assert!(none[0].is_no_service(), "{none:?}");
}

#[tokio::test]
async fn nxdomain_and_nodata() {
    let r = resolver();
    assert_eq!(
        r.query(&q("_nope._tcp.example.test", RecordKind::Srv))
            .await,
        DnsAnswer::NxDomain
    );
    // cal.example.test exists (A/AAAA) but has no TXT.
    assert_eq!(
        r.query(&q("cal.example.test", RecordKind::Txt)).await,
        DnsAnswer::NoData
    );
}

#[tokio::test]
async fn addresses_of_the_zone_host() {
    let ips = resolver().lookup_ip("cal.example.test").await.unwrap();
    assert!(ips.contains(&"127.0.0.1".parse().unwrap()), "{ips:?}");
    assert_eq!(
        resolver().lookup_ip("[::1]").await.unwrap(),
        vec!["::1".parse::<std::net::IpAddr>().unwrap()]
    );
}
