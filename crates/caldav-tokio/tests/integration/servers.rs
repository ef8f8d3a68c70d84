//! The transport against the real servers on loopback.

use bytes::Bytes;
use caldav_tokio::{
    Compression, Credentials, Error, HttpClient, HttpConfig, Received, Recorder, Resolver,
};
use http::{Request, Response, StatusCode, Version};

use crate::env::{cyrus_tls_config, dns_server, plain_server_config, var};

const PRINCIPAL_BODY: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:"><d:prop><d:current-user-principal/></d:prop></d:propfind>"#;

fn propfind(url: &str) -> Request<Bytes> {
    Request::builder()
        .method("PROPFIND")
        .uri(url)
        .header("Depth", "0")
        .header("Content-Type", "application/xml; charset=utf-8")
        .body(Bytes::from_static(PRINCIPAL_BODY.as_bytes()))
        .unwrap()
}

fn plain_client(user: Option<(&str, &str)>) -> HttpClient {
    let mut config = HttpConfig::default();
    config.allow_plain_http_credentials = true;
    if let Some((u, p)) = user {
        config = config.with_credentials(Credentials::password(u, p));
    }
    HttpClient::new(config).unwrap()
}

/// PROPFIND current-user-principal on `server`, authenticated as its test user.
async fn principal_of(server: &str, path: &str) -> (StatusCode, String) {
    let upper = server.to_ascii_uppercase();
    let base = var(&format!("CALDAV_TEST_{upper}_URL"));
    let auth = var(&format!("CALDAV_TEST_{upper}_AUTH"));
    let user = (auth != "none").then(|| {
        (
            var(&format!("CALDAV_TEST_{upper}_USER")),
            var(&format!("CALDAV_TEST_{upper}_PASSWORD")),
        )
    });
    let client = plain_client(user.as_ref().map(|(u, p)| (u.as_str(), p.as_str())));
    let url = format!("{}{}", base.trim_end_matches('/'), path);
    let response = client.send(propfind(&url)).await.unwrap();
    let body = String::from_utf8(response.body().to_vec()).unwrap();
    (response.status(), body)
}

async fn check_principal(server: &str, path: &str) {
    let (status, body) = principal_of(server, path).await;
    let principal = var(&format!(
        "CALDAV_TEST_{}_PRINCIPAL",
        server.to_ascii_uppercase()
    ));
    assert_eq!(status, StatusCode::MULTI_STATUS, "{server}: {body}");
    assert!(
        body.contains(&principal),
        "{server}: no {principal} in {body}"
    );
}

#[tokio::test]
async fn propfind_radicale() {
    check_principal("radicale", "/").await;
}

#[tokio::test]
async fn propfind_xandikos() {
    check_principal("xandikos", "/").await;
}

#[tokio::test]
async fn propfind_cyrus() {
    check_principal("cyrus", "/dav/").await;
}

#[tokio::test]
async fn propfind_sabredav() {
    check_principal("sabredav", "/").await;
}

async fn bad_password(server: &str, path: &str) {
    let upper = server.to_ascii_uppercase();
    let url = format!(
        "{}{}",
        var(&format!("CALDAV_TEST_{upper}_URL")).trim_end_matches('/'),
        path
    );
    let user = var(&format!("CALDAV_TEST_{upper}_USER"));
    let client = plain_client(Some((&user, "wrong-password")));
    let response = client.send(propfind(&url)).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{server}");
}

#[tokio::test]
async fn bad_password_is_401_radicale() {
    bad_password("radicale", "/").await;
}

#[tokio::test]
async fn bad_password_is_401_cyrus() {
    bad_password("cyrus", "/dav/principals/user/alice/").await;
}

#[tokio::test]
async fn bad_password_is_401_sabredav() {
    bad_password("sabredav", "/").await;
}

#[tokio::test]
async fn credentials_refused_over_plain_http_by_default() {
    let client = HttpClient::new(
        HttpConfig::default().with_credentials(Credentials::password("alice", "alicepw")),
    )
    .unwrap();
    let url = var("CALDAV_TEST_RADICALE_URL");
    match client.send(propfind(&url)).await {
        Err(Error::InsecureCredentials { target }) => {
            assert_eq!(target.method.as_str(), "PROPFIND");
            assert_eq!(target.url, url);
        }
        other => panic!("expected InsecureCredentials, got {other:?}"),
    }
}

fn cyrus_tls_client(http2: bool) -> HttpClient {
    let mut config = cyrus_tls_config();
    config.http2 = http2;
    HttpClient::new(config).unwrap()
}

#[tokio::test]
async fn cyrus_tls_by_name_through_knot_negotiates_http2() {
    let client = cyrus_tls_client(true);
    let base = var("CALDAV_TEST_CYRUS_HTTPS_NAME_URL");
    assert!(base.contains("cal.example.test"), "{base}");
    let url = format!("{}dav/", base);
    for _ in 0..2 {
        let response = client.send(propfind(&url)).await.unwrap();
        assert_eq!(response.status(), StatusCode::MULTI_STATUS);
        assert_eq!(response.version(), Version::HTTP_2);
        let body = String::from_utf8(response.body().to_vec()).unwrap();
        assert!(body.contains(&var("CALDAV_TEST_CYRUS_PRINCIPAL")), "{body}");
    }
}

#[tokio::test]
async fn cyrus_tls_http2_can_be_turned_off() {
    let client = cyrus_tls_client(false);
    let url = format!("{}dav/", var("CALDAV_TEST_CYRUS_HTTPS_NAME_URL"));
    let response = client.send(propfind(&url)).await.unwrap();
    assert_eq!(response.status(), StatusCode::MULTI_STATUS);
    assert_eq!(response.version(), Version::HTTP_11);
}

#[tokio::test]
async fn cyrus_tls_by_ip_address() {
    let client = cyrus_tls_client(true);
    let url = format!("{}dav/", var("CALDAV_TEST_CYRUS_HTTPS_URL"));
    let response = client.send(propfind(&url)).await.unwrap();
    assert_eq!(response.status(), StatusCode::MULTI_STATUS);
}

#[tokio::test]
async fn untrusted_certificate_is_refused() {
    // webpki's roots only: the test CA is nobody's root.
    let client = HttpClient::new(
        HttpConfig::default().with_resolver(Resolver::with_name_servers(&[dns_server()])),
    )
    .unwrap();
    let url = format!("{}dav/", var("CALDAV_TEST_CYRUS_HTTPS_NAME_URL"));
    match client.send(propfind(&url)).await {
        Err(Error::Tls { target, reason }) => {
            assert_eq!(target.url, url);
            assert!(reason.contains("UnknownIssuer"), "{reason}");
        }
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

#[tokio::test]
async fn unknown_name_in_the_test_zone_is_a_dns_error() {
    let client = HttpClient::new(
        HttpConfig::default().with_resolver(Resolver::with_name_servers(&[dns_server()])),
    )
    .unwrap();
    let url = "https://nope.example.test:8443/dav/";
    match client.send(propfind(url)).await {
        Err(e @ Error::Dns { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains("PROPFIND https://nope.example.test:8443/dav/"),
                "{text}"
            );
            assert!(text.contains("nope.example.test"), "{text}");
        }
        other => panic!("expected a DNS error, got {other:?}"),
    }
}

/// An `allprop` PROPFIND of alice's Radicale home with `config`: the 207 answer.
async fn radicale_allprop(config: HttpConfig) -> Response<Bytes> {
    let url = format!("{}alice/", var("CALDAV_TEST_RADICALE_URL"));
    let client = HttpClient::new(config).unwrap();
    let mut request = propfind(&url);
    *request.body_mut() = Bytes::from_static(
        br#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>"#,
    );
    let response = client.send(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::MULTI_STATUS);
    response
}

#[tokio::test]
async fn radicale_gzip_is_decoded() {
    let (_, mut config) = plain_server_config("radicale");
    // Radicale is on loopback: only an explicit choice asks it to compress.
    config.compression = Compression::Always;
    let response = radicale_allprop(config).await;
    let received = response.extensions().get::<Received>().unwrap();
    assert_eq!(received.codings, ["gzip"]);
    assert!(received.wire_bytes < response.body().len());
    assert!(response.body().starts_with(b"<?xml"));
    assert!(response.headers().get("content-encoding").is_none());
}

/// The request heads of a recording, one per exchange, lowercased.
fn recorded_requests(recorder: &Recorder) -> Vec<String> {
    let log = String::from_utf8(recorder.log())
        .unwrap()
        .to_ascii_lowercase();
    // A request chunk starts `<UNIXTIME<PROPFIND /path`; the bodies hold `<d:propfind`.
    log.split("<propfind /")
        .skip(1)
        .map(|r| r.split("\r\n\r\n").next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn radicale_on_loopback_is_not_asked_to_compress() {
    let recorder = Recorder::new("alice compression").unwrap();
    let (_, mut config) = plain_server_config("radicale");
    config.recorder = Some(recorder.clone());
    let response = radicale_allprop(config).await;
    let received = response.extensions().get::<Received>().unwrap();
    assert!(received.codings.is_empty(), "{:?}", received.codings);
    assert_eq!(received.wire_bytes, response.body().len());
    assert!(received.peer.unwrap().ip().is_loopback());
    let requests = recorded_requests(&recorder);
    assert!(!requests.is_empty());
    for head in requests {
        assert!(head.contains("user-agent:"), "{head}");
        assert!(!head.contains("accept-encoding"), "{head}");
    }
}

#[tokio::test]
async fn a_name_that_reached_loopback_is_not_asked_to_compress_again() {
    // cal.example.test resolves (through Knot) to Cyrus on 127.0.0.1: the name alone says
    // nothing, the first connection's address does.
    let recorder = Recorder::new("alice compression").unwrap();
    let mut config = cyrus_tls_config();
    config.http2 = false;
    config.recorder = Some(recorder.clone());
    let client = HttpClient::new(config).unwrap();
    let url = format!("{}dav/", var("CALDAV_TEST_CYRUS_HTTPS_NAME_URL"));
    for _ in 0..2 {
        let response = client.send(propfind(&url)).await.unwrap();
        assert_eq!(response.status(), StatusCode::MULTI_STATUS);
    }
    let requests = recorded_requests(&recorder);
    assert!(requests.len() >= 2, "{requests:?}");
    assert!(
        requests[0].contains("accept-encoding: gzip, deflate"),
        "{}",
        requests[0]
    );
    let last = requests.last().unwrap();
    assert!(!last.contains("accept-encoding"), "{last}");
}

#[tokio::test]
async fn status_error_names_request_and_status() {
    let url = format!(
        "{}user/calendars/calendar/no-such-event.ics",
        var("CALDAV_TEST_XANDIKOS_URL")
    );
    let client = plain_client(None);
    let get = Request::get(&url).body(Bytes::new()).unwrap();
    match client.send_expecting_success(get).await {
        Err(e @ Error::Status { .. }) => {
            let text = e.to_string();
            assert!(
                text.starts_with(&format!("GET {url}: http status 404")),
                "{text}"
            );
        }
        other => panic!("expected a status error, got {other:?}"),
    }
    let ok = client
        .send_expecting_success(propfind(&var("CALDAV_TEST_XANDIKOS_URL")))
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::MULTI_STATUS);
}
