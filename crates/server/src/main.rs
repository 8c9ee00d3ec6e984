//! Thin entry point: everything lives in the library so tests can run the real thing.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    zbor_server::cli::main().await
}
