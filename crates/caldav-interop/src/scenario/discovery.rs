//! RFC 6764 discovery: by SRV and TXT records (§3, §4) and by `/.well-known/caldav` (§5).

use caldav_tokio::{Credentials, Driver, HttpClient, Resolver};
use service_discovery::{Discovered, DiscoveryMachine, DiscoveryOptions};
use test_support::servers::var;

use crate::{Ctx, Outcome, Server, StepExt, ensure};

/// Discovery of `user@zone` through the test DNS server, over TLS to Cyrus.
pub(crate) async fn srv(ctx: &Ctx) -> Outcome {
    if !ctx.server.srv_target {
        return Outcome::NotApplicable(
            "no DNS records point at it: the test zone's `_caldav(s)._tcp` SRV records name \
             Cyrus"
                .into(),
        );
    }
    if !Server::dns_running() {
        return Outcome::Fail("the test DNS server (Knot) is not running".into());
    }
    srv_in(ctx).await.unwrap_or_else(|o| o)
}

async fn srv_in(ctx: &Ctx) -> Result<Outcome, Outcome> {
    let dns: std::net::SocketAddr = var("CALDAV_TEST_DNS_SERVER")
        .parse()
        .step("CALDAV_TEST_DNS_SERVER")?;
    let zone = var("CALDAV_TEST_DNS_ZONE");
    let ca_path = var("CALDAV_TEST_CA");
    let ca = std::fs::read(&ca_path).step(&ca_path)?;
    let (user, password) = ctx
        .server
        .user
        .clone()
        .ok_or_else(|| Outcome::Fail("the SRV target has no test user".into()))?;
    let mut config = ctx
        .server
        .http_config()
        .trust_pem(&ca)
        .step("test CA")?
        .with_resolver(Resolver::with_name_servers(&[dns]))
        .with_credentials(Credentials::password(user.clone(), password));
    config.webpki_roots = false;
    config.allow_plain_http_credentials = false;
    // Discovery decides the origin; credentials go to the first one over TLS.
    config.credential_origins = Vec::new();
    let driver = Driver::new(HttpClient::new(config).step("http client")?)
        .with_resolver(Resolver::with_name_servers(&[dns]));
    let mut options = DiscoveryOptions::default();
    options.credentials_attached = true;
    let address = format!("{user}@{zone}");
    let mut machine = DiscoveryMachine::new(&address, options);
    let found = discover(&driver, &mut machine, &address).await?;
    let expected_host = var("CALDAV_TEST_DNS_CALDAV_HOST");
    ensure(found.context.host() == Some(expected_host.as_str()), || {
        format!("landed on {}, not on {expected_host}", found.context)
    })?;
    ensure(found.context.scheme_str() == Some("https"), || {
        format!("landed on {} without TLS", found.context)
    })?;
    let principal = expected_principal(ctx, &found)?;
    let steps: Vec<String> = machine.trail().iter().map(ToString::to_string).collect();
    Ok(Outcome::Pass(format!(
        "{address} -> {} (TLS, test CA), principal {principal}; trail: {}",
        found.context,
        steps.join("; ")
    )))
}

/// Discovery that starts at the server's `/.well-known/caldav`.
pub(crate) async fn well_known(ctx: &Ctx) -> Outcome {
    well_known_in(ctx).await.unwrap_or_else(|o| o)
}

async fn well_known_in(ctx: &Ctx) -> Result<Outcome, Outcome> {
    let mut options = DiscoveryOptions::default();
    options.allow_plain_http = true;
    options.credentials_attached = ctx.server.user.is_some();
    let start = format!("{}.well-known/caldav", ctx.base);
    let mut machine = DiscoveryMachine::new(&start, options);
    let found = discover(&ctx.driver, &mut machine, &start).await?;
    let first = found
        .hops
        .first()
        .ok_or_else(|| Outcome::Fail(format!("no redirect from {start}: {}", found.context)))?;
    ensure(first.from.path() == "/.well-known/caldav", || {
        format!("first redirect from {}, not from .well-known", first.from)
    })?;
    let principal = expected_principal(ctx, &found)?;
    let hops: Vec<String> = found.hops.iter().map(ToString::to_string).collect();
    let mut note = format!(
        "{} -> context {}, principal {principal}",
        hops.join(" -> "),
        found.context.path()
    );
    if let Some(extra) = &ctx.server.well_known_note {
        note.push_str(&format!(" ({extra})"));
    }
    Ok(Outcome::Pass(note))
}

/// Runs discovery from `start`; a failure names the trail the machine walked.
async fn discover(
    driver: &Driver,
    machine: &mut DiscoveryMachine,
    start: &str,
) -> Result<Discovered, Outcome> {
    driver.run(machine).await.step("driver")?.map_err(|e| {
        let trail: Vec<String> = machine.trail().iter().map(ToString::to_string).collect();
        Outcome::Fail(format!(
            "discovery from {start}: {e}; trail: {}",
            trail.join("; ")
        ))
    })
}

/// The path of the principal discovery found, if it is the test user's.
fn expected_principal(ctx: &Ctx, found: &Discovered) -> Result<String, Outcome> {
    let principal = found
        .principal
        .as_ref()
        .map(|p| p.path().to_owned())
        .unwrap_or_default();
    ensure(principal == ctx.server.principal, || {
        format!(
            "principal {principal:?}, expected {:?} (context {})",
            ctx.server.principal, found.context
        )
    })?;
    Ok(principal)
}
