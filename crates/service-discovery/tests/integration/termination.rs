//! For any sequence of answers the machine ends within a bounded number of steps.

use bytes::Bytes;
use proptest::prelude::*;
use service_discovery::{
    DiscoveryMachine, DiscoveryOptions, DnsAnswer, DnsFailure, Error, Output, SrvRecord,
    TransportFailure, TxtRecord,
};

use crate::harness::multistatus;

#[derive(Clone, Debug)]
enum Step {
    Srv(Vec<(u16, u16, u16, String)>),
    Txt(Vec<Vec<u8>>),
    NxDomain,
    NoData,
    DnsFail,
    Status(u16),
    Redirect(u16, String),
    Body(u16, Vec<u8>),
    Principal(String),
    Unauthorized,
    Transport,
    Resume,
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(".".to_owned()),
        Just("".to_owned()),
        Just("cal.example.com.".to_owned()),
        Just("other.example".to_owned()),
        "[a-z.]{1,12}",
        ".{0,10}",
    ]
}

fn location() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("/".to_owned()),
        Just("/.well-known/caldav".to_owned()),
        Just("/dav/".to_owned()),
        Just("../x/".to_owned()),
        Just("https://other.example/dav/".to_owned()),
        Just("http://example.com/".to_owned()),
        Just("https://example.com:8443/a".to_owned()),
        "[ -~]{0,30}",
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        prop::collection::vec((any::<u16>(), any::<u16>(), any::<u16>(), host()), 0..6)
            .prop_map(Step::Srv),
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..20), 0..4).prop_map(Step::Txt),
        prop::collection::vec(
            prop_oneof![Just(b"path=/dav/".to_vec()), Just(b"path=x".to_vec())],
            0..3
        )
        .prop_map(Step::Txt),
        Just(Step::NxDomain),
        Just(Step::NoData),
        Just(Step::DnsFail),
        (100u16..600).prop_map(Step::Status),
        (
            prop_oneof![
                Just(301u16),
                Just(302),
                Just(303),
                Just(307),
                Just(308),
                Just(300)
            ],
            location()
        )
            .prop_map(|(s, l)| Step::Redirect(s, l)),
        (
            prop_oneof![Just(207u16), Just(200)],
            prop::collection::vec(any::<u8>(), 0..64)
        )
            .prop_map(|(s, b)| Step::Body(s, b)),
        location().prop_map(Step::Principal),
        Just(Step::Unauthorized),
        Just(Step::Transport),
        Just(Step::Resume),
    ]
}

fn dns_answer(step: Step) -> DnsAnswer {
    match step {
        Step::Srv(records) => DnsAnswer::Srv(
            records
                .into_iter()
                .map(|(p, w, port, t)| SrvRecord::new(p, w, port, t))
                .collect(),
        ),
        Step::Txt(strings) => DnsAnswer::Txt(vec![TxtRecord::new(strings)]),
        Step::NxDomain => DnsAnswer::NxDomain,
        Step::DnsFail => DnsAnswer::Failed(DnsFailure::ServFail),
        _ => DnsAnswer::NoData,
    }
}

fn http_answer(step: Step, path: &str) -> Result<http::Response<Bytes>, TransportFailure> {
    let (status, body, header) = match step {
        Step::Status(s) => (s, Bytes::new(), None),
        Step::Redirect(s, l) => (s, Bytes::new(), Some(("location", l))),
        Step::Body(s, b) => (s, Bytes::from(b), None),
        Step::Principal(p) => (207, multistatus(path, Some(&p)), None),
        Step::Unauthorized => (
            401,
            Bytes::new(),
            Some(("www-authenticate", "Basic realm=x".into())),
        ),
        _ => return Err(TransportFailure::Timeout),
    };
    let mut response = http::Response::new(body);
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
    if let Some((name, value)) = header
        && let Ok(value) = http::HeaderValue::from_str(&value)
    {
        response.headers_mut().insert(name, value);
    }
    Ok(response)
}

const MAX_RESUMES: usize = 3;

fn run(input: &str, options: DiscoveryOptions, steps: Vec<Step>) -> (usize, usize) {
    let budget = options.max_requests;
    let mut machine = DiscoveryMachine::new(input, options);
    let mut steps = steps.into_iter();
    let (mut polls, mut answers, mut resumes) = (0usize, 0usize, 0usize);
    loop {
        polls += 1;
        assert!(polls <= budget + MAX_RESUMES + 1, "too many polls");
        match machine.poll() {
            Output::Dns { id, .. } => {
                answers += 1;
                let answer = dns_answer(steps.next().unwrap_or(Step::NxDomain));
                if machine.handle_dns(id, answer).is_err() {
                    machine.handle_dns(id, DnsAnswer::NoData).unwrap();
                }
            }
            Output::Http { id, request } => {
                answers += 1;
                let path = request.uri().path().to_owned();
                match http_answer(steps.next().unwrap_or(Step::Transport), &path) {
                    Ok(response) => machine.handle_response(id, response).unwrap(),
                    Err(failure) => machine.handle_failure(id, failure).unwrap(),
                }
            }
            Output::Wait => panic!("Wait with nothing in flight"),
            Output::Done(Err(Error::Unauthorized { .. })) if resumes < MAX_RESUMES => {
                resumes += 1;
                if matches!(steps.next(), Some(Step::Resume)) {
                    machine.resume_with_credentials().unwrap();
                } else {
                    machine.skip_unauthorized().unwrap();
                }
            }
            Output::Done(result) => {
                let again = machine.poll();
                assert!(matches!(again, Output::Done(ref r) if *r == result));
                return (answers, machine.trail().len());
            }
            _ => panic!("unknown output"),
        }
    }
}

proptest! {
    #[test]
    fn ends_within_the_request_budget(
        input in prop_oneof![
            Just("ken@example.com"),
            Just("example.com"),
            Just("https://example.com/dav/"),
            Just("http://example.com/"),
        ],
        plain in any::<bool>(),
        budget in 1usize..80,
        seed in any::<u64>(),
        steps in prop::collection::vec(step(), 0..60),
    ) {
        let mut options = DiscoveryOptions::default();
        options.allow_plain_http = plain;
        options.max_requests = budget;
        options.srv_seed = seed;
        let (answers, trail) = run(input, options, steps);
        prop_assert!(answers <= budget);
        prop_assert!(trail >= answers, "every answer leaves a trail entry");
    }
}
