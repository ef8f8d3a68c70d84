//! A canned world (DNS table plus HTTP table) and a driver that runs a machine against it.

use std::collections::HashMap;

use bytes::Bytes;
use http::{Response, StatusCode};
use service_discovery::{
    Discovered, DiscoveryMachine, DiscoveryOptions, DnsAnswer, Error, Output, RecordKind,
    TransportFailure,
};

/// What a canned server answers.
#[derive(Clone, Debug)]
pub(crate) enum Reply {
    Status(u16),
    Redirect(u16, &'static str),
    /// A 207 for a PROPFIND; `Some(href)` puts a current-user-principal in it.
    Principal(Option<&'static str>),
    /// A 207 whose principal is `DAV:unauthenticated`.
    Unauthenticated,
    Unauthorized(&'static str),
    Fail(TransportFailure),
    Body(u16, &'static [u8]),
}

#[derive(Default)]
pub(crate) struct World {
    dns: HashMap<(String, RecordKind), DnsAnswer>,
    /// (method or "*", url) -> replies in order; the last one repeats.
    http: HashMap<(String, String), Vec<Reply>>,
    served: HashMap<(String, String), usize>,
    /// Requests without credentials get this 401 on URLs that start with the prefix.
    pub(crate) protected: Option<(&'static str, &'static str)>,
    pub(crate) log: Vec<String>,
    pub(crate) authorized: bool,
}

impl World {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn dns(mut self, name: &str, kind: RecordKind, answer: DnsAnswer) -> Self {
        self.dns.insert((name.to_owned(), kind), answer);
        self
    }

    pub(crate) fn http(self, url: &str, reply: Reply) -> Self {
        self.http_method("*", url, reply)
    }

    pub(crate) fn http_method(mut self, method: &str, url: &str, reply: Reply) -> Self {
        self.http
            .entry((method.to_owned(), url.to_owned()))
            .or_default()
            .push(reply);
        self
    }

    fn reply(&mut self, method: &str, url: &str) -> Reply {
        if let Some((prefix, realm)) = self.protected
            && !self.authorized
            && url.starts_with(prefix)
        {
            return Reply::Unauthorized(realm);
        }
        let exact = (method.to_owned(), url.to_owned());
        let key = if self.http.contains_key(&exact) {
            exact
        } else {
            ("*".to_owned(), url.to_owned())
        };
        let Some(replies) = self.http.get(&key) else {
            return Reply::Status(404);
        };
        let n = self.served.entry(key).or_default();
        let reply = replies[(*n).min(replies.len() - 1)].clone();
        *n += 1;
        reply
    }
}

pub(crate) fn multistatus(href: &str, principal: Option<&str>) -> Bytes {
    let prop = match principal {
        Some(p) => format!(
            "<A:current-user-principal><A:href>{p}</A:href></A:current-user-principal>\
             <A:resourcetype><A:collection/></A:resourcetype>"
        ),
        None => "<A:resourcetype><A:collection/></A:resourcetype>".to_owned(),
    };
    Bytes::from(format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<A:multistatus xmlns:A=\"DAV:\">\
         <A:response><A:href>{href}</A:href><A:propstat><A:prop>{prop}</A:prop>\
         <A:status>HTTP/1.1 200 OK</A:status></A:propstat></A:response></A:multistatus>"
    ))
}

fn unauthenticated(href: &str) -> Bytes {
    Bytes::from(format!(
        "<A:multistatus xmlns:A=\"DAV:\"><A:response><A:href>{href}</A:href><A:propstat>\
         <A:prop><A:current-user-principal><A:unauthenticated/></A:current-user-principal>\
         </A:prop><A:status>HTTP/1.1 200 OK</A:status></A:propstat></A:response>\
         </A:multistatus>"
    ))
}

fn response(status: u16, body: Bytes) -> Response<Bytes> {
    let mut r = Response::new(body);
    *r.status_mut() = StatusCode::from_u16(status).unwrap();
    r
}

/// What to do when the machine stops on a 401.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OnUnauthorized {
    Stop,
    Resume,
    Skip,
}

pub(crate) struct Run {
    pub(crate) result: Result<Discovered, Error>,
    pub(crate) log: Vec<String>,
    pub(crate) machine: DiscoveryMachine,
}

pub(crate) fn run(input: &str, options: DiscoveryOptions, world: World) -> Run {
    drive(
        DiscoveryMachine::new(input, options),
        world,
        OnUnauthorized::Stop,
    )
}

pub(crate) fn drive(
    mut machine: DiscoveryMachine,
    mut world: World,
    on_401: OnUnauthorized,
) -> Run {
    let mut resumes = 0;
    loop {
        match machine.poll() {
            Output::Dns { id, query } => {
                world.log.push(format!("{} {}", query.kind, query.name));
                let answer = world
                    .dns
                    .get(&(query.name.clone(), query.kind))
                    .cloned()
                    .unwrap_or(DnsAnswer::NxDomain);
                machine.handle_dns(id, answer).unwrap();
            }
            Output::Http { id, request } => {
                let method = request.method().to_string();
                let url = request.uri().to_string();
                world.log.push(format!("{method} {url}"));
                if method == "PROPFIND" {
                    assert_eq!(request.headers()["depth"], "0");
                    assert_eq!(request.headers()["prefer"], "return=minimal");
                    assert!(!request.body().is_empty());
                }
                let path = request.uri().path().to_owned();
                let reply = world.reply(&method, &url);
                let response = match reply {
                    Reply::Status(s) => response(s, Bytes::new()),
                    Reply::Redirect(s, to) => {
                        let mut r = response(s, Bytes::new());
                        r.headers_mut().insert("location", to.parse().unwrap());
                        r
                    }
                    Reply::Principal(p) => response(207, multistatus(&path, p)),
                    Reply::Unauthenticated => response(207, unauthenticated(&path)),
                    Reply::Unauthorized(realm) => {
                        let mut r = response(401, Bytes::new());
                        r.headers_mut().insert(
                            "www-authenticate",
                            format!("Basic realm=\"{realm}\"").parse().unwrap(),
                        );
                        r
                    }
                    Reply::Body(s, body) => response(s, Bytes::from_static(body)),
                    Reply::Fail(f) => {
                        machine.handle_failure(id, f).unwrap();
                        continue;
                    }
                };
                machine.handle_response(id, response).unwrap();
            }
            Output::Wait => panic!("Wait with nothing in flight"),
            Output::Done(Err(Error::Unauthorized { .. })) if on_401 != OnUnauthorized::Stop => {
                resumes += 1;
                assert!(resumes < 10, "resume loop");
                if on_401 == OnUnauthorized::Resume {
                    world.authorized = true;
                    machine.resume_with_credentials().unwrap();
                } else {
                    machine.skip_unauthorized().unwrap();
                }
            }
            Output::Done(result) => {
                return Run {
                    result,
                    log: world.log,
                    machine,
                };
            }
            _ => panic!("unknown output"),
        }
    }
}

pub(crate) fn secure_only() -> DiscoveryOptions {
    DiscoveryOptions::default()
}

pub(crate) fn with_plain() -> DiscoveryOptions {
    let mut o = DiscoveryOptions::default();
    o.allow_plain_http = true;
    o
}
