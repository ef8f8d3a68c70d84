//! Access to the project's seed document.

/// The seed: a CalConnect page followed by a Cyrus telemetry trace.
pub(crate) const SEED: &str = include_str!("../../../../fixtures/seed/000_4100585a271ce1c6.txt");

/// The header lines of the OPTIONS answer quoted on the seed's CalConnect page.
pub(crate) fn options_answer_headers() -> http::HeaderMap {
    let start = SEED.find("OPTIONS /principals/user/ken/").unwrap();
    let rest = &SEED[start..];
    let answer = &rest[rest.find("HTTP/1.1 200 OK").unwrap()..];
    let mut map = http::HeaderMap::new();
    for line in answer.lines().skip(1).take_while(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').unwrap();
        map.append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.trim().parse().unwrap(),
        );
    }
    map
}
