//! The `whalet-sim` binary: parses the command line and runs it (see `cli.rs`).

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    whalet_sim::cli::main()
}
