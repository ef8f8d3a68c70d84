//! Sync: sync-collection (RFC 6578 §3), invalid tokens (§3.2), the ctag and etag fallback,
//! and a large calendar fetched with calendar-multiget (RFC 4791 §7.9).

use std::collections::BTreeSet;
use std::time::Instant;

use bytes::Bytes;
use caldav_client_core::QuirkProfile;
use caldav_client_core::sync::{ChangeSet, SyncConfig, SyncMachine, SyncMethod, SyncState};
use caldav_client_core::write::{WriteOutcome, WriteRequest};
use caldav_model::property::{SyncToken, names};
use caldav_model::report::{PropRequest, SyncCollection};
use dav_xml::Href;
use http::{Method, Response};
use tokio::task::JoinSet;

use super::event;
use crate::ctx::{Cost, member, refusal};
use crate::{Ctx, LargeFill, Outcome, StepExt, ensure};

/// How many events the large calendar holds.
const LARGE: usize = 2000;
/// PUTs in flight while it is filled.
const UPLOAD_CONCURRENCY: usize = 8;

/// The last path segment of an href: what the scenarios compare items by.
fn name(href: &Href) -> String {
    href.as_str()
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn names_of<'a>(hrefs: impl IntoIterator<Item = &'a Href>) -> BTreeSet<String> {
    hrefs.into_iter().map(name).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Creates events `<tag>-<i>` for each tag; returns `(name, href, etag)`.
async fn create_events(
    ctx: &Ctx,
    calendar: &Href,
    tags: &[&str],
) -> Result<Vec<(String, Href, String)>, Outcome> {
    let mut out = Vec::new();
    for tag in tags {
        let uid = format!("{tag}-{}", ctx.run_id);
        match ctx
            .write(WriteRequest::Create {
                collection: calendar.clone(),
                data: event(&uid, tag, "20260105T090000Z"),
            })
            .await
            .step(&format!("create {tag}"))?
        {
            WriteOutcome::Created {
                href,
                etag: Some(etag),
            } => out.push((name(&href), href, etag)),
            other => return Err(Outcome::Fail(format!("create {tag} ended as {other:?}"))),
        }
    }
    Ok(out)
}

/// A raw sync-collection REPORT (Depth 0, RFC 6578 §3.2) from `token`.
async fn report(
    ctx: &Ctx,
    calendar: &Href,
    token: Option<&str>,
) -> Result<Response<Bytes>, Outcome> {
    let body = SyncCollection::new(
        token.map(|t| SyncToken(t.to_owned())),
        PropRequest::names([names::GETETAG]),
    )
    .encode();
    ctx.send(
        ctx.driver.http(),
        Method::from_bytes(b"REPORT").step("method")?,
        calendar.as_str(),
        &[
            ("Content-Type", "application/xml; charset=utf-8"),
            ("Depth", "0"),
        ],
        Bytes::from(body),
    )
    .await
}

/// `Some(Unsupported)` when the server refuses an initial sync-collection.
async fn sync_collection_refused(ctx: &Ctx, calendar: &Href) -> Result<Option<Outcome>, Outcome> {
    let response = report(ctx, calendar, None).await?;
    if response.status().as_u16() == 207 {
        return Ok(None);
    }
    Ok(Some(Outcome::Unsupported(format!(
        "{} has no sync-collection: REPORT answered {}",
        ctx.server.label,
        refusal(&response)
    ))))
}

/// Runs one sync of `calendar` from `state`.
async fn sync_once(
    ctx: &Ctx,
    calendar: &Href,
    state: SyncState,
    quirks: &QuirkProfile,
) -> Result<(ChangeSet, SyncState, Cost), Outcome> {
    let config =
        SyncConfig::new(ctx.base.clone(), vec![calendar.clone()]).with_quirks(quirks.clone());
    let (result, machine, cost) = ctx.run_counted(SyncMachine::new(config, state)).await;
    let outcome = result.step("sync")?;
    let changes = outcome
        .calendars
        .into_iter()
        .next()
        .ok_or_else(|| Outcome::Fail("the sync reported no calendar".into()))?
        .result
        .map_err(|e| Outcome::Fail(format!("sync: {}", crate::ctx::core_error(&e))))?;
    ensure(changes.missing.is_empty(), || {
        format!("sync left items missing: {:?}", names_of(&changes.missing))
    })?;
    Ok((changes, machine.into_state(), cost))
}

/// Checks a change set against the expected names.
fn expect(
    what: &str,
    changes: &ChangeSet,
    added: &[&str],
    changed: &[&str],
    deleted: &[&str],
) -> Result<(), Outcome> {
    let got = (
        names_of(changes.added.iter().map(|i| &i.href)),
        names_of(changes.changed.iter().map(|i| &i.href)),
        names_of(&changes.deleted),
    );
    let want = (set(added), set(changed), set(deleted));
    ensure(got == want, || {
        format!(
            "{what}: added {:?}, changed {:?}, deleted {:?}; expected {:?}, {:?}, {:?}",
            got.0, got.1, got.2, want.0, want.1, want.2
        )
    })
}

/// The resource name the write machine gives the event of `tag` (named from its UID).
fn ics(tag: &str, ctx: &Ctx) -> String {
    format!("{tag}-{}.ics", ctx.run_id)
}

/// sync-collection, initial and incremental.
pub(crate) async fn sync_collection(ctx: &Ctx) -> Outcome {
    ctx.in_scratch("sync", async |calendar| {
        sync_collection_in(ctx, calendar).await
    })
    .await
}

async fn sync_collection_in(ctx: &Ctx, calendar: &Href) -> Result<Outcome, Outcome> {
    let made = create_events(ctx, calendar, &["a", "b", "c"]).await?;
    if let Some(refused) = sync_collection_refused(ctx, calendar).await? {
        return Ok(refused);
    }
    let quirks = ctx.quirks();
    let (first, state, cost1) = sync_once(ctx, calendar, SyncState::default(), &quirks).await?;
    ensure(first.method == SyncMethod::SyncCollection, || {
        format!("initial sync by {:?}", first.method)
    })?;
    let (a, b, c) = (ics("a", ctx), ics("b", ctx), ics("c", ctx));
    let d = ics("d", ctx);
    expect("initial sync", &first, &[&a, &b, &c], &[], &[])?;
    // Another client: adds d, changes b, deletes c.
    let etag = |n: &str| {
        made.iter()
            .find(|(name, _, _)| name == n)
            .map(|(_, h, e)| (h.clone(), e.clone()))
    };
    other_adds(ctx, calendar, "d", "20260106T090000Z").await?;
    let (b_href, b_etag) = etag(&b).ok_or_else(|| Outcome::Fail("b was not created".into()))?;
    other_changes(ctx, &b_href, &b_etag, "b", "20260105T100000Z").await?;
    let (c_href, c_etag) = etag(&c).ok_or_else(|| Outcome::Fail("c was not created".into()))?;
    other_deletes(ctx, &c_href, &c_etag).await?;
    let (second, _, cost2) = sync_once(ctx, calendar, state, &quirks).await?;
    ensure(second.method == SyncMethod::SyncCollection, || {
        format!("incremental sync by {:?}", second.method)
    })?;
    expect("incremental sync", &second, &[&d], &[&b], &[&c])?;
    Ok(Outcome::Pass(format!(
        "initial: 3 items in {}; after another client's add, change and delete: exactly \
         those, in {}",
        requests(cost1.requests),
        requests(cost2.requests)
    )))
}

/// Another client adds event `letter` (UID `<letter>-<run>`, starting at `start`) to
/// `calendar`, as `<letter>-<run>.ics`.
async fn other_adds(ctx: &Ctx, calendar: &Href, letter: &str, start: &str) -> Result<(), Outcome> {
    let uid = format!("{letter}-{}", ctx.run_id);
    let added = ctx
        .other_put(
            &member(calendar, &ics(letter, ctx)),
            &event(&uid, letter, start),
            Some(("If-None-Match", "*")),
        )
        .await?;
    ensure(added.status().is_success(), || {
        format!("other client's PUT: {}", refusal(&added))
    })
}

/// Another client rewrites event `letter` at `href`, last seen as `etag`: a new summary and
/// `start`.
async fn other_changes(
    ctx: &Ctx,
    href: &Href,
    etag: &str,
    letter: &str,
    start: &str,
) -> Result<(), Outcome> {
    let uid = format!("{letter}-{}", ctx.run_id);
    let changed = ctx
        .other_put(
            href.as_str(),
            &event(&uid, &format!("{letter} changed"), start),
            Some(("If-Match", etag)),
        )
        .await?;
    ensure(changed.status().is_success(), || {
        format!("other client's update: {}", refusal(&changed))
    })
}

/// Another client deletes `href`, last seen as `etag`.
async fn other_deletes(ctx: &Ctx, href: &Href, etag: &str) -> Result<(), Outcome> {
    let deleted = ctx
        .send(
            &ctx.other,
            Method::DELETE,
            href.as_str(),
            &[("If-Match", etag)],
            Bytes::new(),
        )
        .await?;
    ensure(deleted.status().is_success(), || {
        format!("other client's DELETE: {}", refusal(&deleted))
    })
}

/// A token of the same shape that no server issued: the hex digits after the last `/`, `,`
/// or `:` all zero.
fn bogus(token: &str) -> String {
    let cut = token.rfind(['/', ',', ':']).map_or(0, |i| i + 1);
    let (head, tail) = token.split_at(cut.min(token.len()));
    let tail: String = tail
        .chars()
        .map(|c| if c.is_ascii_hexdigit() { '0' } else { c })
        .collect();
    let candidate = format!("{head}{tail}");
    if candidate == token {
        format!("{token}-bogus")
    } else {
        candidate
    }
}

/// An invalid token leads to a full resync.
pub(crate) async fn invalid_token(ctx: &Ctx) -> Outcome {
    ctx.in_scratch("token", async |calendar| {
        invalid_token_in(ctx, calendar).await
    })
    .await
}

async fn invalid_token_in(ctx: &Ctx, calendar: &Href) -> Result<Outcome, Outcome> {
    let made = create_events(ctx, calendar, &["a", "b"]).await?;
    if let Some(refused) = sync_collection_refused(ctx, calendar).await? {
        return Ok(refused);
    }
    let quirks = ctx.quirks();
    let (first, mut state, _) = sync_once(ctx, calendar, SyncState::default(), &quirks).await?;
    let (a, b, c) = (ics("a", ctx), ics("b", ctx), ics("c", ctx));
    expect("initial sync", &first, &[&a, &b], &[], &[])?;
    // Another client adds c and deletes a.
    other_adds(ctx, calendar, "c", "20260106T090000Z").await?;
    let (_, a_href, a_etag) = made
        .iter()
        .find(|(n, _, _)| *n == a)
        .ok_or_else(|| Outcome::Fail("a was not created".into()))?;
    other_deletes(ctx, a_href, a_etag).await?;
    let calendar_state = state
        .calendars
        .values_mut()
        .next()
        .ok_or_else(|| Outcome::Fail("the sync stored no calendar state".into()))?;
    let token = calendar_state
        .sync_token
        .clone()
        .ok_or_else(|| Outcome::Fail("the sync stored no token".into()))?;
    let fake = bogus(&token);
    calendar_state.sync_token = Some(fake.clone());
    let answer = report(ctx, calendar, Some(&fake)).await?;
    let server_said = refusal(&answer);
    let (second, _, cost) = sync_once(ctx, calendar, state, &quirks).await?;
    expect("resync", &second, &[&c], &[], &[&a])?;
    if second.method == SyncMethod::FullResync {
        Ok(Outcome::Pass(format!(
            "token {fake:?} -> {server_said}; full resync in {} found exactly the addition \
             and the deletion",
            requests(cost.requests)
        )))
    } else {
        Ok(Outcome::Pass(format!(
            "token {fake:?} -> {server_said} (not refused); sync by {:?} still found exactly \
             the addition and the deletion",
            second.method
        )))
    }
}

/// The ctag and etag fallback, sync-collection turned off.
pub(crate) async fn fallback(ctx: &Ctx) -> Outcome {
    ctx.in_scratch("fallback", async |calendar| {
        fallback_in(ctx, calendar).await
    })
    .await
}

async fn fallback_in(ctx: &Ctx, calendar: &Href) -> Result<Outcome, Outcome> {
    let made = create_events(ctx, calendar, &["a", "b"]).await?;
    let mut quirks = ctx.quirks();
    quirks.sync_collection = false;
    let (first, state, cost1) = sync_once(ctx, calendar, SyncState::default(), &quirks).await?;
    let (a, b, c) = (ics("a", ctx), ics("b", ctx), ics("c", ctx));
    ensure(first.method == SyncMethod::EtagListing, || {
        format!("first sync by {:?}", first.method)
    })?;
    expect("first sync", &first, &[&a, &b], &[], &[])?;
    let (again, state, cost2) = sync_once(ctx, calendar, state, &quirks).await?;
    expect("unchanged sync", &again, &[], &[], &[])?;
    let unchanged = match again.method {
        SyncMethod::CtagUnchanged => format!("ctag unchanged, {}", requests(cost2.requests)),
        SyncMethod::EtagListing => format!(
            "no usable CS:getctag, etag listing again in {}",
            requests(cost2.requests)
        ),
        other => return Err(Outcome::Fail(format!("unchanged sync by {other:?}"))),
    };
    // Another client changes a and adds c.
    let (_, a_href, a_etag) = made
        .iter()
        .find(|(n, _, _)| *n == a)
        .ok_or_else(|| Outcome::Fail("a was not created".into()))?;
    other_changes(ctx, a_href, a_etag, "a", "20260105T100000Z").await?;
    other_adds(ctx, calendar, "c", "20260106T090000Z").await?;
    let (third, _, cost3) = sync_once(ctx, calendar, state, &quirks).await?;
    ensure(third.method == SyncMethod::EtagListing, || {
        format!("sync after changes by {:?}", third.method)
    })?;
    expect("sync after changes", &third, &[&c], &[&a], &[])?;
    Ok(Outcome::Pass(format!(
        "etag listing: 2 items in {}; {unchanged}; after another client's change and \
         addition: exactly those, in {}",
        requests(cost1.requests),
        requests(cost3.requests)
    )))
}

/// A 2,000-event calendar, synced from scratch.
pub(crate) async fn large(ctx: &Ctx) -> Outcome {
    ctx.in_scratch("large", async |calendar| large_in(ctx, calendar).await)
        .await
}

/// The large calendar's events: `(uid, text)`.
fn large_events(ctx: &Ctx, count: usize) -> Vec<(String, String)> {
    (0..count)
        .map(|i| {
            let uid = format!("interop-large-{i}-{}", ctx.run_id);
            let start = format!("202601{:02}T{:02}0000Z", 1 + i % 28, i % 24);
            let text = event(&uid, &format!("event {i} of the large calendar"), &start);
            (uid, text)
        })
        .collect()
}

/// One PUT of every event as one calendar onto the collection.
async fn fill_by_collection_put(
    ctx: &Ctx,
    calendar: &Href,
    events: &[(String, String)],
) -> Result<String, Outcome> {
    let mut body =
        String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//caldav-rs//interop//EN\r\n");
    for (_, text) in events {
        let start = text.find("BEGIN:VEVENT").unwrap_or(0);
        let end = text.find("END:VCALENDAR").unwrap_or(text.len());
        body.push_str(text.get(start..end).unwrap_or_default());
    }
    body.push_str("END:VCALENDAR\r\n");
    let response = ctx.other_put(calendar.as_str(), &body, None).await?;
    ensure(response.status().is_success(), || {
        format!("PUT of the whole calendar: {}", refusal(&response))
    })?;
    Ok("one PUT of the whole calendar onto the collection".to_owned())
}

/// One PUT per event, [`UPLOAD_CONCURRENCY`] in flight.
async fn fill_by_puts(
    ctx: &Ctx,
    calendar: &Href,
    events: &[(String, String)],
) -> Result<String, Outcome> {
    let mut set: JoinSet<Result<(), String>> = JoinSet::new();
    for (uid, text) in events {
        let url = ctx.url(&member(calendar, &format!("{uid}.ics")))?;
        let client = ctx.other.clone();
        let data = Bytes::from(text.clone());
        set.spawn(async move {
            // A PUT that timed out may have been stored (the servers are shared and sometimes
            // stall for a minute): it is sent again, and then a 412 means it is there.
            let mut last = String::new();
            for attempt in 0..3 {
                let request = http::Request::put(&url)
                    .header("Content-Type", "text/calendar; charset=utf-8")
                    .header("If-None-Match", "*")
                    .body(data.clone())
                    .map_err(|e| e.to_string())?;
                match client.send(request).await {
                    Ok(response) if response.status().is_success() => return Ok(()),
                    Ok(response) if attempt > 0 && response.status().as_u16() == 412 => {
                        return Ok(());
                    }
                    Ok(response) => return Err(format!("PUT {url}: {}", refusal(&response))),
                    Err(e) => last = e.to_string(),
                }
            }
            Err(format!("PUT {url}, three times: {last}"))
        });
        while set.len() >= UPLOAD_CONCURRENCY {
            if let Some(joined) = set.join_next().await {
                joined.step("upload task")?.step("upload")?;
            }
        }
    }
    while let Some(joined) = set.join_next().await {
        joined.step("upload task")?.step("upload")?;
    }
    Ok(format!("{UPLOAD_CONCURRENCY} PUTs at a time"))
}

/// The UID of an object's text.
fn uid_of(text: &str) -> Option<&str> {
    text.lines()
        .find_map(|l| l.strip_prefix("UID:"))
        .map(str::trim)
}

async fn large_in(ctx: &Ctx, calendar: &Href) -> Result<Outcome, Outcome> {
    let (count, reduced) = match ctx.server.large_fill {
        LargeFill::Puts { count } => (count, count < LARGE),
        _ => (LARGE, false),
    };
    let events = large_events(ctx, count);
    let upload = Instant::now();
    let how = match ctx.server.large_fill {
        LargeFill::CollectionPut => fill_by_collection_put(ctx, calendar, &events).await?,
        _ => fill_by_puts(ctx, calendar, &events).await?,
    };
    let uploaded = upload.elapsed();
    let (changes, _, cost) = sync_once(ctx, calendar, SyncState::default(), &ctx.quirks()).await?;
    let expected: BTreeSet<&str> = events.iter().map(|(uid, _)| uid.as_str()).collect();
    let got: BTreeSet<&str> = changes
        .added
        .iter()
        .filter_map(|i| uid_of(&i.data))
        .collect();
    ensure(got == expected && changes.added.len() == count, || {
        let missing = expected.difference(&got).count();
        let extra = got.difference(&expected).count();
        format!(
            "sync got {} items: {missing} events missing, {extra} unexpected",
            changes.added.len()
        )
    })?;
    // Again from scratch: the first sync-collection of a fresh Radicale collection builds the
    // server's history cache (measured with curl: 21 s, then 1 s), so the second run is what a
    // client pays on a server that has seen the calendar before.
    let (again, _, warm) = sync_once(ctx, calendar, SyncState::default(), &ctx.quirks()).await?;
    ensure(again.added.len() == count, || {
        format!("second sync got {} items", again.added.len())
    })?;
    let mut note = format!(
        "{count} events; sync from scratch by {:?}: {}, {} kB on the wire ({} kB \
         decoded), {:.2} s, again from scratch {:.2} s; filled by {how} in {:.1} s",
        changes.method,
        requests(cost.requests),
        cost.wire_bytes / 1000,
        cost.decoded_bytes / 1000,
        cost.elapsed.as_secs_f64(),
        warm.elapsed.as_secs_f64(),
        uploaded.as_secs_f64(),
    );
    if reduced {
        note.push_str(&format!(
            " (not {LARGE}: every PUT here is a git commit that rewrites the collection's \
             tree, so filling {LARGE} takes over ten minutes; measured 80 ms per PUT at 100 \
             events, 200 ms at 500)"
        ));
    }
    Ok(Outcome::Pass(note))
}

/// `n` requests, in words: "1 request", "3 requests".
fn requests(n: usize) -> String {
    if n == 1 {
        "1 request".to_owned()
    } else {
        format!("{n} requests")
    }
}

#[cfg(test)]
mod tests {
    use super::{bogus, requests};

    #[test]
    fn request_counts_read_as_words() {
        assert_eq!(requests(1), "1 request");
        assert_eq!(requests(0), "0 requests");
        assert_eq!(requests(21), "21 requests");
    }

    #[test]
    fn bogus_tokens_keep_their_shape() {
        assert_eq!(
            bogus("http://radicale.org/ns/sync/ab12ff"),
            "http://radicale.org/ns/sync/000000"
        );
        assert_eq!(bogus("data:,1795502834-4"), "data:,0000000000-0");
        assert_eq!(bogus("3f2a"), "0000");
        assert_eq!(bogus("0000"), "0000-bogus");
    }
}
