//! Drives the discovery machine with arbitrary inputs and answer sequences: it must never
//! panic, never wait with nothing in flight, and end within its request budget.

#![no_main]

use arbitrary::Arbitrary;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use service_discovery::{
    DiscoveryMachine, DiscoveryOptions, DnsAnswer, DnsFailure, Error, Output, SrvRecord,
    TransportFailure, TxtRecord,
};

#[derive(Arbitrary, Debug)]
enum Answer {
    Srv(Vec<(u16, u16, u16, String)>),
    Txt(Vec<Vec<Vec<u8>>>),
    NxDomain,
    NoData,
    DnsFail,
    Http {
        status: u16,
        location: Option<String>,
        www_authenticate: Option<String>,
        body: Vec<u8>,
    },
    /// A 207 naming this principal href, so the principal paths are reached too.
    Principal(String),
    Fail,
    Resume,
}

#[derive(Arbitrary, Debug)]
struct Input {
    address: String,
    plain: bool,
    credentials: bool,
    seed: u64,
    budget: u8,
    max_redirects: u8,
    answers: Vec<Answer>,
}

fn dns(answer: Answer) -> DnsAnswer {
    match answer {
        Answer::Srv(records) => DnsAnswer::Srv(
            records
                .into_iter()
                .map(|(p, w, port, t)| SrvRecord::new(p, w, port, t))
                .collect(),
        ),
        Answer::Txt(records) => DnsAnswer::Txt(records.into_iter().map(TxtRecord::new).collect()),
        Answer::NxDomain => DnsAnswer::NxDomain,
        Answer::DnsFail => DnsAnswer::Failed(DnsFailure::ServFail),
        _ => DnsAnswer::NoData,
    }
}

fn http(answer: Answer) -> Option<http::Response<Bytes>> {
    if let Answer::Principal(href) = answer {
        let body = format!(
            "<d:multistatus xmlns:d=\"DAV:\"><d:response><d:href>/</d:href><d:propstat><d:prop>\
             <d:current-user-principal><d:href>{href}</d:href></d:current-user-principal>\
             </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>\
             </d:multistatus>"
        );
        let mut response = http::Response::new(Bytes::from(body));
        *response.status_mut() = http::StatusCode::MULTI_STATUS;
        return Some(response);
    }
    let Answer::Http {
        status,
        location,
        www_authenticate,
        body,
    } = answer
    else {
        return None;
    };
    let mut response = http::Response::new(Bytes::from(body));
    *response.status_mut() = http::StatusCode::from_u16(status).ok()?;
    for (name, value) in [
        ("location", location),
        ("www-authenticate", www_authenticate),
    ] {
        if let Some(value) = value.and_then(|v| http::HeaderValue::from_str(&v).ok()) {
            response.headers_mut().insert(name, value);
        }
    }
    Some(response)
}

fuzz_target!(|input: Input| {
    let mut options = DiscoveryOptions::default();
    options.allow_plain_http = input.plain;
    options.credentials_attached = input.credentials;
    options.srv_seed = input.seed;
    options.max_requests = usize::from(input.budget);
    options.max_redirects = usize::from(input.max_redirects % 8);
    let budget = options.max_requests;
    let mut machine = DiscoveryMachine::new(&input.address, options);
    let mut answers = input.answers.into_iter();
    let mut polls = 0usize;
    let mut resumes = 0usize;
    loop {
        polls += 1;
        assert!(
            polls <= budget + resumes + 1,
            "more polls than the budget allows"
        );
        match machine.poll() {
            Output::Dns { id, .. } => {
                let answer = dns(answers.next().unwrap_or(Answer::NxDomain));
                if machine.handle_dns(id, answer).is_err() {
                    machine.handle_dns(id, DnsAnswer::NoData).unwrap();
                }
            }
            Output::Http { id, .. } => match answers.next().and_then(http) {
                Some(response) => machine.handle_response(id, response).unwrap(),
                None => machine
                    .handle_failure(id, TransportFailure::Timeout)
                    .unwrap(),
            },
            Output::Wait => panic!("wait with nothing in flight"),
            Output::Done(Err(Error::Unauthorized { .. })) if resumes < 3 => {
                resumes += 1;
                if matches!(answers.next(), Some(Answer::Resume)) {
                    machine.resume_with_credentials().unwrap();
                } else {
                    machine.skip_unauthorized().unwrap();
                }
            }
            Output::Done(_) => break,
            _ => panic!("unknown output"),
        }
    }
    for attempt in machine.trail() {
        let _ = attempt.to_string();
    }
});
