//! The whole matrix, once.

use caldav_interop::{Outcome, Scenario, Server, run_matrix};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_interop_matrix_has_no_failures() {
    let servers = Server::all_from_env();
    assert!(!servers.is_empty(), "no CalDAV server is running");
    let matrix = run_matrix(&servers).await;
    let table = matrix.render_markdown();
    println!("{table}");
    assert_eq!(matrix.rows.len(), Scenario::ALL.len());
    for row in &matrix.rows {
        assert_eq!(row.cells.len(), servers.len());
    }
    // Every server that runs must pass the basics: no "not supported" excuse there.
    for scenario in [Scenario::Bootstrap, Scenario::Crud, Scenario::Conflict] {
        let row = matrix.rows.iter().find(|r| r.scenario == scenario).unwrap();
        for (cell, server) in row.cells.iter().zip(&matrix.servers) {
            assert!(
                matches!(cell.outcome, Outcome::Pass(_)),
                "{} on {server}: {:?}",
                scenario.title(),
                cell.outcome
            );
        }
    }
    let failures = matrix.failures();
    assert!(
        failures.is_empty(),
        "interop failures:\n{}",
        failures
            .iter()
            .map(|(s, server, reason)| format!("- {} on {server}: {reason}", s.title()))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
