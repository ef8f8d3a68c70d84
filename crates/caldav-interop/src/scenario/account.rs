//! The account: bootstrap (RFC 5397, RFC 4791 §6), listing (RFC 4791 §4.2) and MKCALENDAR
//! with properties (RFC 4791 §5.3.1).

use caldav_client_core::listing::{Collection, Listing, ListingConfig, ListingMachine};
use caldav_model::property::{Color, Property, Value, names};
use dav_xml::Href;

use crate::{Ctx, Outcome, StepExt, ensure};

/// Bootstrap from the context URL.
pub(crate) async fn bootstrap(ctx: &Ctx) -> Outcome {
    bootstrap_in(ctx).await.unwrap_or_else(|o| o)
}

async fn bootstrap_in(ctx: &Ctx) -> Result<Outcome, Outcome> {
    let account = ctx.account().await?;
    let principal = account.principal.path(&ctx.base).step("principal href")?;
    ensure(principal == ctx.server.principal, || {
        format!("principal {principal}, expected {}", ctx.server.principal)
    })?;
    let homes: Vec<&str> = account.calendar_home_set.iter().map(Href::as_str).collect();
    ensure(!homes.is_empty(), || "no calendar-home-set".into())?;
    let caps = &account.capabilities;
    let mut note = format!(
        "from {}: principal {principal}, calendar home {}",
        ctx.context.path(),
        homes.join(", ")
    );
    note.push_str(if caps.calendar_access() {
        ", DAV: calendar-access"
    } else {
        ", no calendar-access in the principal's DAV header"
    });
    if caps.sync_collection() {
        note.push_str(", sync-collection");
    }
    Ok(Outcome::Pass(note))
}

/// The calendar in `listing` at `href`.
fn find<'l>(ctx: &Ctx, listing: &'l Listing, href: &Href) -> Option<&'l Collection> {
    let want = href.path(&ctx.base).ok()?;
    listing
        .collections
        .iter()
        .find(|c| c.href.path(&ctx.base).ok().as_deref() == Some(want.as_str()))
}

/// The listing of the calendar home. One failed listing is repeated after a second: other
/// engineers' tests create and delete calendars in the same home at the same time, and
/// Radicale answers a PROPFIND that meets a half-deleted collection with 500.
async fn list(ctx: &Ctx) -> Result<Listing, Outcome> {
    let home = ctx.home().await?;
    let listing = || {
        ctx.run(ListingMachine::new(ListingConfig::new(
            ctx.base.clone(),
            vec![home.clone()],
        )))
    };
    match listing().await {
        Ok(found) => Ok(found),
        Err(first) => {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            listing()
                .await
                .map_err(|again| Outcome::Fail(format!("listing: {first}; again: {again}")))
        }
    }
}

/// A new calendar must show up in the listing.
pub(crate) async fn listing(ctx: &Ctx) -> Outcome {
    ctx.in_scratch("listing", async |calendar| listing_in(ctx, calendar).await)
        .await
}

async fn listing_in(ctx: &Ctx, calendar: &Href) -> Result<Outcome, Outcome> {
    let listing = list(ctx).await?;
    let found = find(ctx, &listing, calendar)
        .ok_or_else(|| Outcome::Fail(format!("{} not in the listing", calendar.as_str())))?;
    ensure(found.properties.is_calendar(), || {
        format!("{} is listed but not as a calendar", calendar.as_str())
    })?;
    let want = "interop listing";
    ensure(found.displayname.as_deref() == Some(want), || {
        format!("display name {:?}, expected {want:?}", found.displayname)
    })?;
    let calendars = listing.calendars().count();
    Ok(Outcome::Pass(format!(
        "{} collections in the home ({calendars} calendars, the new one with its display name)",
        listing.collections.len()
    )))
}

/// MKCALENDAR with properties, read back.
pub(crate) async fn mkcalendar(ctx: &Ctx) -> Outcome {
    let properties = vec![
        Property::new(names::DISPLAYNAME, Value::Text("interop mkcalendar".into())),
        Property::new(
            names::CALENDAR_DESCRIPTION,
            Value::Text("made by caldav-interop".into()),
        ),
        Property::new(
            names::CALENDAR_COLOR,
            Value::Color(Color {
                value: "#FB0055FF".into(),
                symbolic: None,
            }),
        ),
        Property::new(names::CALENDAR_ORDER, Value::Order(7)),
        Property::new(
            names::SUPPORTED_CALENDAR_COMPONENT_SET,
            Value::Components(vec!["VEVENT".into(), "VTODO".into()]),
        ),
    ];
    let calendar = match ctx.mkcalendar("mkcalendar", properties).await {
        Ok(c) => c,
        Err(o) => return o,
    };
    let result = mkcalendar_in(ctx, &calendar).await;
    ctx.finish(&calendar, result).await
}

async fn mkcalendar_in(ctx: &Ctx, calendar: &Href) -> Result<Outcome, Outcome> {
    let listing = list(ctx).await?;
    let found = find(ctx, &listing, calendar)
        .ok_or_else(|| Outcome::Fail(format!("{} not in the listing", calendar.as_str())))?;
    ensure(
        found.displayname.as_deref() == Some("interop mkcalendar"),
        || format!("display name {:?}", found.displayname),
    )?;
    ensure(
        found.description.as_deref() == Some("made by caldav-interop"),
        || format!("description {:?}", found.description),
    )?;
    let mut kept = vec!["displayname", "calendar-description"];
    let mut changed = Vec::new();
    match found.color.as_deref() {
        Some(c) if c.eq_ignore_ascii_case("#FB0055FF") => kept.push("calendar-color"),
        Some(c) => changed.push(format!("calendar-color read back as {c:?}")),
        None => changed.push("calendar-color dropped".to_owned()),
    }
    match found.order {
        Some(7) => kept.push("calendar-order"),
        Some(o) => changed.push(format!("calendar-order read back as {o}")),
        None => changed.push("calendar-order dropped".to_owned()),
    }
    match &found.components {
        Some(c) if c.iter().any(|n| n == "VEVENT") && c.iter().any(|n| n == "VTODO") => {
            if c.len() == 2 {
                kept.push("supported-calendar-component-set");
            } else {
                changed.push(format!("component set read back as {}", c.join(",")));
            }
        }
        Some(c) => changed.push(format!("component set read back as {}", c.join(","))),
        None => changed.push("supported-calendar-component-set not listed".to_owned()),
    }
    let mut note = format!("kept {}", kept.join(", "));
    if !changed.is_empty() {
        note.push_str("; ");
        note.push_str(&changed.join("; "));
    }
    Ok(Outcome::Pass(note))
}
