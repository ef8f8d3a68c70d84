//! Conditional writes of calendar objects (RFC 4791 §5.3.2, RFC 9110 §13.1): create with
//! `If-None-Match: *`, update and delete with `If-Match`, and the 412 conflicts.

use bytes::Bytes;
use caldav_client_core::write::{WriteOutcome, WriteRequest};
use dav_xml::Href;
use http::{Method, StatusCode};

use super::event;
use crate::{Ctx, Outcome, StepExt, compare_icalendar, ensure};

/// What a GET found.
struct Got {
    status: StatusCode,
    etag: Option<String>,
    data: String,
}

async fn get(ctx: &Ctx, href: &Href) -> Result<Got, Outcome> {
    let response = ctx
        .send(
            ctx.driver.http(),
            Method::GET,
            href.as_str(),
            &[],
            Bytes::new(),
        )
        .await?;
    Ok(Got {
        status: response.status(),
        etag: response
            .headers()
            .get(http::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        data: String::from_utf8_lossy(response.body()).into_owned(),
    })
}

async fn create(ctx: &Ctx, calendar: &Href, data: &str) -> Result<(Href, String), Outcome> {
    match ctx
        .write(WriteRequest::Create {
            collection: calendar.clone(),
            data: data.to_owned(),
        })
        .await
        .step("create")?
    {
        WriteOutcome::Created {
            href,
            etag: Some(etag),
        } => Ok((href, etag)),
        other => Err(Outcome::Fail(format!("create ended as {other:?}"))),
    }
}

async fn update(ctx: &Ctx, href: &Href, etag: &str, data: &str) -> Result<WriteOutcome, Outcome> {
    ctx.write(WriteRequest::Update {
        href: href.clone(),
        etag: etag.to_owned(),
        data: data.to_owned(),
    })
    .await
    .step("update")
}

/// Create, read, update, delete.
pub(crate) async fn crud(ctx: &Ctx) -> Outcome {
    ctx.in_scratch("crud", async |calendar| crud_in(ctx, calendar).await)
        .await
}

async fn crud_in(ctx: &Ctx, calendar: &Href) -> Result<Outcome, Outcome> {
    let uid = format!("interop-crud-{}", ctx.run_id);
    let first = event(&uid, "first", "20260105T090000Z");
    let (href, etag1) = create(ctx, calendar, &first).await?;
    let got = get(ctx, &href).await?;
    ensure(got.status == StatusCode::OK, || {
        format!("GET after create: {}", got.status)
    })?;
    let mut notes = Vec::new();
    match &got.etag {
        Some(e) if *e == etag1 => {}
        Some(e) => notes.push(format!("GET etag {e} differs from the write's {etag1}")),
        None => notes.push("GET has no ETag".to_owned()),
    }
    let same = compare_icalendar(&first, &got.data);
    ensure(same.is_equivalent(), || {
        format!("GET after create: {}", same.describe())
    })?;
    let second = event(&uid, "second", "20260105T100000Z");
    let etag2 = match update(ctx, &href, &etag1, &second).await? {
        WriteOutcome::Updated {
            etag: Some(etag), ..
        } => etag,
        other => return Err(Outcome::Fail(format!("update ended as {other:?}"))),
    };
    ensure(etag2 != etag1, || format!("update kept the etag {etag1}"))?;
    let got = get(ctx, &href).await?;
    ensure(got.data.contains("SUMMARY:second"), || {
        "GET after update: old data".into()
    })?;
    match ctx
        .write(WriteRequest::Delete {
            href: href.clone(),
            etag: etag2.clone(),
        })
        .await
        .step("delete")?
    {
        WriteOutcome::Deleted { .. } => {}
        other => return Err(Outcome::Fail(format!("delete ended as {other:?}"))),
    }
    let got = get(ctx, &href).await?;
    ensure(got.status == StatusCode::NOT_FOUND, || {
        format!("GET after delete: {}", got.status)
    })?;
    let mut note = format!("etag {etag1} -> {etag2}, then deleted (GET 404)");
    if !notes.is_empty() {
        note.push_str("; ");
        note.push_str(&notes.join("; "));
    }
    Ok(Outcome::Pass(note))
}

/// Stale etags and creates over existing objects are conflicts.
pub(crate) async fn conflict(ctx: &Ctx) -> Outcome {
    ctx.in_scratch("conflict", async |calendar| {
        conflict_in(ctx, calendar).await
    })
    .await
}

async fn conflict_in(ctx: &Ctx, calendar: &Href) -> Result<Outcome, Outcome> {
    let uid = format!("interop-conflict-{}", ctx.run_id);
    let first = event(&uid, "first", "20260105T090000Z");
    let (href, etag1) = create(ctx, calendar, &first).await?;
    let second = event(&uid, "second", "20260105T100000Z");
    let etag2 = match update(ctx, &href, &etag1, &second).await? {
        WriteOutcome::Updated {
            etag: Some(etag), ..
        } => etag,
        other => return Err(Outcome::Fail(format!("update ended as {other:?}"))),
    };
    let third = event(&uid, "third", "20260105T110000Z");
    let check = |what: &str, outcome: WriteOutcome| -> Result<(), Outcome> {
        match outcome {
            WriteOutcome::Conflict(conflict) => ensure(
                conflict.server_etag.as_deref() == Some(etag2.as_str()),
                || {
                    format!(
                        "{what}: conflict names server etag {:?}, expected {etag2}",
                        conflict.server_etag
                    )
                },
            ),
            other => Err(Outcome::Fail(format!(
                "{what}: expected a conflict, got {other:?}"
            ))),
        }
    };
    check(
        "update with a stale etag",
        update(ctx, &href, &etag1, &third).await?,
    )?;
    check(
        "delete with a stale etag",
        ctx.write(WriteRequest::Delete {
            href: href.clone(),
            etag: etag1.clone(),
        })
        .await
        .step("delete")?,
    )?;
    check(
        "create over an existing object",
        ctx.write(WriteRequest::Create {
            collection: calendar.clone(),
            data: third.clone(),
        })
        .await
        .step("create")?,
    )?;
    let got = get(ctx, &href).await?;
    ensure(
        got.status == StatusCode::OK && got.data.contains("SUMMARY:second"),
        || format!("the server's version changed: {} {}", got.status, got.data),
    )?;
    Ok(Outcome::Pass(
        "stale If-Match on PUT and DELETE, If-None-Match: * on an existing object: each a \
         conflict naming the current etag; the server's version untouched"
            .into(),
    ))
}
