//! `interop [--write FILE]`: runs the interop matrix against the running test servers, prints
//! the markdown table, writes it to FILE when asked, and exits 1 when any cell failed.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut write = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--write" => write = args.next(),
            "-h" | "--help" => {
                println!("usage: interop [--write FILE]");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("interop: unknown argument {other:?}; usage: interop [--write FILE]");
                return ExitCode::from(2);
            }
        }
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("interop: starting tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    let servers = caldav_interop::Server::all_from_env();
    if servers.is_empty() {
        eprintln!("interop: no CalDAV server is running (cargo xtask servers start)");
        return ExitCode::FAILURE;
    }
    let matrix = runtime.block_on(caldav_interop::run_matrix(&servers));
    let text = matrix.render_markdown();
    print!("{text}");
    if let Some(path) = write {
        if let Err(e) = std::fs::write(&path, &text) {
            eprintln!("interop: writing {path}: {e}");
            return ExitCode::FAILURE;
        }
        eprintln!("interop: wrote {path}");
    }
    let failures = matrix.failures();
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        for (scenario, server, reason) in &failures {
            eprintln!("FAIL {} on {server}: {reason}", scenario.title());
        }
        ExitCode::FAILURE
    }
}
