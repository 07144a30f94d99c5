//! `cargo xtask ci`: the whole check — format, lints, tests — exactly what `.ci/run` runs after it
//! has installed the system packages. If it passes locally, CI is green.

use std::process::{Command, ExitCode};

fn cargo(args: &[&str]) -> bool {
    eprintln!("xtask: cargo {}", args.join(" "));
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .status()
        .is_ok_and(|status| status.success())
}

/// Ballista (`--engine`, and the test that runs a date through its standalone mode) is off in a
/// newcomer's first build and on in CI.
const DISTRIBUTED: &str = "kam-facts/distributed";

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    match task.as_str() {
        "ci" => {
            let steps: [&[&str]; 3] = [
                &["fmt", "--all", "--", "--check"],
                &[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--features",
                    DISTRIBUTED,
                    "--",
                    "-D",
                    "warnings",
                ],
                &[
                    "test",
                    "--workspace",
                    "--all-targets",
                    "--features",
                    DISTRIBUTED,
                ],
            ];
            for step in steps {
                if !cargo(step) {
                    eprintln!("xtask: failed: cargo {}", step.join(" "));
                    return ExitCode::FAILURE;
                }
            }
            eprintln!("xtask: ci passed");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: cargo xtask ci   (format check, clippy -D warnings, all tests)");
            ExitCode::FAILURE
        }
    }
}
