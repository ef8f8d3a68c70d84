//! Model-based test: a simulated server takes random creates, updates and deletes between
//! syncs, under random quirks, and the synced state (and the replica built from the change
//! sets) always equals the server's.

use std::collections::BTreeMap;

use caldav_client_core::QuirkProfile;
use caldav_client_core::sync::{SyncConfig, SyncMachine, SyncState};
use proptest::prelude::*;
use test_support::{Driven, Server, ServerQuirks, drive, drive_with};

use crate::sync::event;

const CAL: &str = "/calendars/alice/default/";

#[derive(Debug, Clone)]
enum Op {
    Put(u8, u8),
    Delete(u8),
    Expire,
    Sync,
    /// A sync cut off after this many answers; its state is thrown away.
    InterruptedSync(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..12, any::<u8>()).prop_map(|(n, v)| Op::Put(n, v)),
        2 => (0u8..12).prop_map(Op::Delete),
        1 => Just(Op::Expire),
        2 => Just(Op::Sync),
        1 => (0u8..6).prop_map(Op::InterruptedSync),
    ]
}

fn server_quirks() -> impl Strategy<Value = ServerQuirks> {
    (
        any::<bool>(),
        any::<bool>(),
        prop::option::of(1usize..4),
        any::<bool>(),
        any::<bool>(),
        0usize..3,
        any::<bool>(),
        prop_oneof![Just(403u16), Just(409), Just(412), Just(500)],
    )
        .prop_map(
            |(sync, ctag, page, tombstones, omit, drop, encode, status)| ServerQuirks {
                sync_collection: sync,
                ctag,
                sync_page_size: page,
                initial_tombstones: tombstones,
                multiget_omit_missing: omit,
                multiget_drop_last: drop,
                encode_all: encode,
                invalid_token_status: status,
                ..ServerQuirks::default()
            },
        )
}

fn client_quirks() -> impl Strategy<Value = QuirkProfile> {
    (any::<bool>(), any::<bool>(), 1usize..4, any::<bool>()).prop_map(
        |(sync, multiget, batch, unreliable)| {
            let mut quirks = QuirkProfile::default();
            quirks.sync_collection = sync;
            quirks.multiget = multiget;
            quirks.multiget_batch_size = batch;
            quirks.sync_token_unreliable = unreliable;
            quirks
        },
    )
}

fn name(n: u8) -> String {
    // Names that need percent-encoding, so that href canonicalisation is exercised too.
    match n % 3 {
        0 => format!("{n}.ics"),
        1 => format!("ev {n}@x.ics"),
        _ => format!("é{n}.ics"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn synced_state_equals_the_server(
        server_quirks in server_quirks(),
        client_quirks in client_quirks(),
        ops in prop::collection::vec(op(), 1..30),
    ) {
        let mut server = Server::new().with_quirks(server_quirks);
        let config = SyncConfig::new("http://cal.example/".parse().unwrap(), vec![CAL.into()])
            .with_quirks(client_quirks);
        let mut state = SyncState::default();
        // The replica a client builds from the change sets: canonical path -> data.
        let mut replica: BTreeMap<String, String> = BTreeMap::new();
        for op in ops.into_iter().chain([Op::Sync]) {
            match op {
                Op::Put(n, v) => {
                    server.put(CAL, &name(n), &event(&name(n), &v.to_string()));
                }
                Op::Delete(n) => {
                    server.delete(CAL, &name(n));
                }
                Op::Expire => server.expire_tokens(CAL),
                Op::InterruptedSync(budget) => {
                    let mut machine = SyncMachine::new(config.clone(), state.clone());
                    let driven = drive_with(&mut machine, usize::from(budget), |r| server.handle(r));
                    if let Driven::Interrupted = driven {
                        prop_assert_eq!(machine.state(), &state);
                    }
                }
                Op::Sync => {
                    let drop_before = server.quirks.multiget_drop_last;
                    let mut machine = SyncMachine::new(config.clone(), state.clone());
                    let outcome = drive(&mut machine, &mut server).unwrap();
                    let changes = outcome.calendars[0].result.clone().unwrap();
                    for item in changes.added.iter().chain(&changes.changed) {
                        let key = item.href.path(&"http://cal.example/".parse().unwrap()).unwrap();
                        replica.insert(key, item.data.clone());
                    }
                    for href in &changes.deleted {
                        let key = href.path(&"http://cal.example/".parse().unwrap()).unwrap();
                        prop_assert!(replica.remove(&key).is_some(), "deleted unknown {}", key);
                    }
                    state = machine.into_state();
                    let remote: BTreeMap<String, (String, String)> = server
                        .objects(CAL)
                        .into_iter()
                        .map(|(k, o)| {
                            (dav_xml::href::encode_path(&format!("{CAL}{k}")).into_string(), (o.etag, o.data))
                        })
                        .collect();
                    let local: BTreeMap<String, String> = state.calendars[CAL]
                        .items
                        .iter()
                        .map(|(k, v)| (k.clone(), v.etag.clone()))
                        .collect();
                    if changes.missing.is_empty() {
                        let remote_etags: BTreeMap<String, String> =
                            remote.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect();
                        prop_assert_eq!(&local, &remote_etags);
                        let remote_data: BTreeMap<String, String> =
                            remote.iter().map(|(k, v)| (k.clone(), v.1.clone())).collect();
                        prop_assert_eq!(&replica, &remote_data);
                    } else {
                        // Only a server that dropped hrefs leaves items missing.
                        prop_assert!(drop_before > 0);
                    }
                }
            }
        }
    }
}

#[derive(Debug, Clone)]
enum ClientOp {
    Server(Op),
    Create(u8, u8),
    Update(u8, u8),
    Delete(u8),
}

fn client_op() -> impl Strategy<Value = ClientOp> {
    prop_oneof![
        3 => op().prop_map(ClientOp::Server),
        1 => (0u8..12, any::<u8>()).prop_map(|(n, v)| ClientOp::Create(n, v)),
        1 => (0u8..12, any::<u8>()).prop_map(|(n, v)| ClientOp::Update(n, v)),
        1 => (0u8..12).prop_map(ClientOp::Delete),
    ]
}

fn uid(n: u8) -> String {
    name(n).trim_end_matches(".ics").to_owned()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Conditional writes by the client, interleaved with the server's own changes and syncs:
    /// each write either lands (and its etag is the server's) or is a conflict carrying the
    /// server's current side, and a final sync agrees with the server.
    #[test]
    fn writes_and_syncs_agree_with_the_server(ops in prop::collection::vec(client_op(), 1..30)) {
        use caldav_client_core::write::{WriteConfig, WriteMachine, WriteOutcome, WriteRequest};

        let base: http::Uri = "http://cal.example/".parse().unwrap();
        let mut server = Server::new();
        let config = SyncConfig::new(base.clone(), vec![CAL.into()]);
        let mut state = SyncState::default();
        for op in ops.into_iter().chain([ClientOp::Server(Op::Sync)]) {
            let request = match op {
                ClientOp::Server(Op::Put(n, v)) => {
                    server.put(CAL, &name(n), &event(&uid(n), &v.to_string()));
                    continue;
                }
                ClientOp::Server(Op::Delete(n)) => {
                    server.delete(CAL, &name(n));
                    continue;
                }
                ClientOp::Server(Op::Sync | Op::InterruptedSync(_) | Op::Expire) => {
                    let mut machine = SyncMachine::new(config.clone(), state.clone());
                    let _ = drive(&mut machine, &mut server).unwrap();
                    state = machine.into_state();
                    let local: BTreeMap<String, String> = state.calendars[CAL]
                        .items
                        .iter()
                        .map(|(k, v)| (k.clone(), v.etag.clone()))
                        .collect();
                    let remote: BTreeMap<String, String> = server
                        .objects(CAL)
                        .into_iter()
                        .map(|(k, o)| (dav_xml::href::encode_path(&format!("{CAL}{k}")).into_string(), o.etag))
                        .collect();
                    prop_assert_eq!(local, remote);
                    continue;
                }
                ClientOp::Create(n, v) => WriteRequest::Create {
                    collection: CAL.into(),
                    data: event(&uid(n), &format!("c{v}")),
                },
                ClientOp::Update(n, _) | ClientOp::Delete(n) if known(&state, n).is_none() => continue,
                ClientOp::Update(n, v) => {
                    let item = known(&state, n).unwrap();
                    WriteRequest::Update {
                        href: item.0.as_str().into(),
                        etag: item.1,
                        data: event(&uid(n), &format!("u{v}")),
                    }
                }
                ClientOp::Delete(n) => {
                    let item = known(&state, n).unwrap();
                    WriteRequest::Delete { href: item.0.as_str().into(), etag: item.1 }
                }
            };
            let deleting = matches!(request, WriteRequest::Delete { .. });
            let mut machine = WriteMachine::new(WriteConfig::new(base.clone(), request));
            let result = drive(&mut machine, &mut server);
            let href = machine.href().unwrap().clone();
            let stored_name = percent_encoding::percent_decode_str(
                href.as_str().strip_prefix(CAL).unwrap(),
            )
            .decode_utf8()
            .unwrap()
            .into_owned();
            let current = server.objects(CAL).get(&stored_name).cloned();
            let outcome = match result {
                // Deleting what the server already deleted: a typed not-found.
                Err(caldav_client_core::Error::NotFound { .. }) if deleting && current.is_none() => {
                    continue;
                }
                other => other.unwrap(),
            };
            match outcome {
                WriteOutcome::Created { etag, .. } | WriteOutcome::Updated { etag, .. } => {
                    prop_assert_eq!(etag, current.map(|o| o.etag));
                }
                WriteOutcome::Deleted { .. } => prop_assert!(current.is_none()),
                WriteOutcome::Conflict(conflict) => {
                    prop_assert_eq!(conflict.server_etag, current.as_ref().map(|o| o.etag.clone()));
                    prop_assert_eq!(conflict.server_data, current.map(|o| o.data));
                }
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
    }
}

/// The synced href and etag of object `n`, if the last sync saw it.
fn known(state: &SyncState, n: u8) -> Option<(String, String)> {
    let suffix = dav_xml::href::encode_path(&name(n)).into_string();
    let item = state.calendars.get(CAL)?.items.values().find(|i| {
        dav_xml::Href::new(i.href.as_str())
            .canonical()
            .ends_with(&format!("/{suffix}"))
    })?;
    Some((item.href.clone(), item.etag.clone()))
}

/// What one checkpointing run did: the data it delivered and every object it asked for.
struct Checkpointed {
    /// Canonical path -> data, from checkpoints and (when done) the final change set.
    replica: BTreeMap<String, String>,
    /// The objects fetched by each request (multiget hrefs, GET targets), in order.
    asked: Vec<Vec<String>>,
    /// The objects delivered by checkpoints.
    delivered: Vec<String>,
    done: bool,
}

/// Runs `machine` for at most `budget` answers (like `drive_with`), draining checkpoints after
/// every answer into `replica` and persisting the state after each one, the way the CLI does.
fn drive_checkpointed(
    machine: &mut SyncMachine,
    server: &mut Server,
    budget: usize,
    replica: &mut BTreeMap<String, String>,
    persisted: &mut SyncState,
) -> Checkpointed {
    use caldav_client_core::{Machine as _, Output};

    let base: http::Uri = "http://cal.example/".parse().unwrap();
    let path = |href: &str| dav_xml::Href::new(href).path(&base).unwrap();
    let mut out = Checkpointed {
        replica: BTreeMap::new(),
        asked: Vec::new(),
        delivered: Vec::new(),
        done: false,
    };
    let mut pending = Vec::new();
    let mut answered = 0usize;
    loop {
        match machine.poll() {
            Output::Http { id, request } => pending.push((id, request)),
            Output::Done(result) => {
                let outcome = result.unwrap();
                let changes = outcome.calendars[0].result.clone().unwrap();
                for item in changes.added.iter().chain(&changes.changed) {
                    replica.insert(path(item.href.as_str()), item.data.clone());
                }
                for href in &changes.deleted {
                    replica.remove(&path(href.as_str()));
                }
                *persisted = machine.state().clone();
                out.done = true;
                out.replica = replica.clone();
                return out;
            }
            Output::Wait => {
                let (id, request) = pending.pop().expect("waits with nothing in flight");
                if answered >= budget {
                    out.replica = replica.clone();
                    return out;
                }
                answered += 1;
                let root = dav_xml::Element::decode(request.body()).ok();
                let asked: Vec<String> = match &root {
                    Some(r) if r.name.local() == "calendar-multiget" => r
                        .children_named(&dav_xml::QName::DAV_HREF)
                        .map(|h| path(h.text().trim()))
                        .collect(),
                    None if request.method() == http::Method::GET => {
                        vec![path(request.uri().path())]
                    }
                    _ => Vec::new(),
                };
                out.asked.push(asked);
                let response = server.handle(request);
                machine.handle_response(id, response).unwrap();
                while let Some(checkpoint) = machine.poll_checkpoint() {
                    for item in checkpoint.items {
                        let k = path(item.href.as_str());
                        out.delivered.push(k.clone());
                        replica.insert(k, item.data);
                    }
                    // Applied first, then persisted: the state never claims an unwritten item.
                    *persisted = machine.state().clone();
                }
            }
            _ => panic!("unexpected output"),
        }
    }
}

fn server_objects(server: &Server) -> BTreeMap<String, (String, String)> {
    server
        .objects(CAL)
        .into_iter()
        .map(|(k, o)| {
            (
                dav_xml::href::encode_path(&format!("{CAL}{k}")).into_string(),
                (o.etag, o.data),
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// A checkpointing sync cut off after any answer, several times in a row, each time
    /// restarted from the state persisted at its last checkpoint, ends in the state of an
    /// uninterrupted run; no object delivered by a checkpoint is fetched again; the replica
    /// built from checkpoints and change sets equals the server. Changes made on the server
    /// between two attempts (`between`) are picked up too.
    #[test]
    fn an_interrupted_sync_resumes_from_its_last_checkpoint(
        server_quirks in server_quirks(),
        client_quirks in client_quirks(),
        before in prop::collection::vec((0u8..24, any::<u8>()), 0..12),
        synced_before in any::<bool>(),
        changes in prop::collection::vec(op(), 0..30),
        cuts in prop::collection::vec(0usize..16, 1..4),
        between in prop::collection::vec((0u8..24, prop::option::of(any::<u8>())), 0..4),
    ) {
        let server_quirks = ServerQuirks { multiget_drop_last: 0, ..server_quirks };
        let mut server = Server::new().with_quirks(server_quirks);
        let config = SyncConfig::new("http://cal.example/".parse().unwrap(), vec![CAL.into()])
            .with_quirks(client_quirks)
            .with_checkpoints();
        let mut replica = BTreeMap::new();
        let mut state = SyncState::default();
        for (n, v) in before {
            server.put(CAL, &name(n), &event(&name(n), &v.to_string()));
        }
        if synced_before {
            let mut machine = SyncMachine::new(config.clone(), SyncState::default());
            let run = drive_checkpointed(&mut machine, &mut server, usize::MAX, &mut replica, &mut state);
            prop_assert!(run.done);
        }
        for op in changes {
            match op {
                Op::Put(n, v) => {
                    server.put(CAL, &name(n), &event(&name(n), &v.to_string()));
                }
                Op::Delete(n) => {
                    server.delete(CAL, &name(n));
                }
                Op::Expire => server.expire_tokens(CAL),
                Op::Sync | Op::InterruptedSync(_) => {}
            }
        }

        // The reference: one uninterrupted run from the same state on the same server.
        let mut reference_server = server.clone();
        let mut reference_replica = replica.clone();
        let mut reference_state = state.clone();
        let mut machine = SyncMachine::new(config.clone(), state.clone());
        let reference = drive_checkpointed(
            &mut machine, &mut reference_server, usize::MAX, &mut reference_replica, &mut reference_state,
        );
        prop_assert!(reference.done);

        let mut delivered: Vec<String> = Vec::new();
        let mut changed_between = false;
        let mut attempts = cuts.into_iter().map(Some).chain([None]);
        loop {
            let budget = attempts.next().flatten().unwrap_or(usize::MAX);
            let mut machine = SyncMachine::new(config.clone(), state.clone());
            let run = drive_checkpointed(&mut machine, &mut server, budget, &mut replica, &mut state);
            if !changed_between {
                // Nothing changed since the first attempt: what a checkpoint delivered is
                // never asked for again.
                for asked in run.asked.iter().flatten() {
                    prop_assert!(!delivered.contains(asked), "{} fetched again", asked);
                }
            }
            delivered.extend(run.delivered);
            if run.done {
                break;
            }
            if budget < usize::MAX && !between.is_empty() && !changed_between {
                changed_between = true;
                for (n, v) in &between {
                    match v {
                        Some(v) => {
                            server.put(CAL, &name(*n), &event(&name(*n), &format!("b{v}")));
                        }
                        None => {
                            server.delete(CAL, &name(*n));
                        }
                    }
                }
            }
        }

        let remote = server_objects(&server);
        let remote_data: BTreeMap<String, String> =
            remote.iter().map(|(k, v)| (k.clone(), v.1.clone())).collect();
        let remote_etags: BTreeMap<String, String> =
            remote.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect();
        let local: BTreeMap<String, String> = state.calendars[CAL]
            .items
            .iter()
            .map(|(k, v)| (k.clone(), v.etag.clone()))
            .collect();
        prop_assert_eq!(&local, &remote_etags);
        prop_assert_eq!(&replica, &remote_data);
        prop_assert!(state.calendars[CAL].resume.is_none());
        if !changed_between {
            prop_assert_eq!(&state, &reference_state);
            prop_assert_eq!(&replica, &reference_replica);
        }
    }
}
