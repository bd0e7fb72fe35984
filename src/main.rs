//! The `whalet-sim` binary: parses the command line and runs it (see `cli.rs`).

fn main() -> std::process::ExitCode {
    whalet_sim::cli::main()
}
