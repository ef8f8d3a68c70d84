//! The probe: client-core's `ProbeMachine` (what `caldav probe` runs) finds the server's quirk
//! profile in a scratch calendar of its own; the sync scenarios after it run with that profile,
//! so the matrix shows a probed profile working against the server it describes.

use caldav_client_core::QuirkProfile;
use caldav_client_core::probe::{ProbeConfig, ProbeMachine};

use crate::{Ctx, Outcome};

/// Runs the probe, keeps its profile in `ctx` and names where it differs from the defaults.
pub(crate) async fn probe(ctx: &Ctx) -> Outcome {
    let home = match ctx.home().await {
        Ok(home) => home,
        Err(outcome) => return outcome,
    };
    let config = ProbeConfig::new(
        ctx.base.clone(),
        home,
        format!("interop-probe-{}", ctx.run_id),
    );
    let report = match ctx.run(ProbeMachine::new(config)).await {
        Ok(report) => report,
        Err(e) => return Outcome::Fail(format!("probe: {e}")),
    };
    if !report.leftovers.is_empty() {
        let left: Vec<&str> = report.leftovers.iter().map(|h| h.as_str()).collect();
        return Outcome::Fail(format!("the probe left behind: {}", left.join(", ")));
    }
    let differences = differences(&QuirkProfile::default(), &report.profile);
    let where_ran = if report.scratch_created {
        "in its own scratch calendar, deleted after"
    } else {
        "MKCALENDAR refused: in an existing calendar, its resources deleted after"
    };
    ctx.set_quirks(report.profile);
    Outcome::Pass(if differences.is_empty() {
        format!(
            "{} experiments {where_ran}; the built-in defaults hold",
            report.experiments.len()
        )
    } else {
        format!(
            "{} experiments {where_ran}; differs from the defaults in {}",
            report.experiments.len(),
            differences.join(", ")
        )
    })
}

/// `field = value` for every field of `probed` that is not as in `defaults`, in field order.
fn differences(defaults: &QuirkProfile, probed: &QuirkProfile) -> Vec<String> {
    let (Ok(serde_json::Value::Object(defaults)), Ok(serde_json::Value::Object(probed))) =
        (serde_json::to_value(defaults), serde_json::to_value(probed))
    else {
        return vec!["(the profile could not be compared)".to_owned()];
    };
    probed
        .iter()
        .filter(|(field, value)| defaults.get(field.as_str()) != Some(value))
        .map(|(field, value)| format!("`{field} = {value}`"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_name_only_changed_fields() {
        let defaults = QuirkProfile::default();
        assert!(differences(&defaults, &defaults).is_empty());
        let mut probed = defaults.clone();
        probed.sync_collection = !defaults.sync_collection;
        let found = differences(&defaults, &probed);
        assert_eq!(
            found,
            vec![format!("`sync_collection = {}`", probed.sync_collection)]
        );
    }
}
