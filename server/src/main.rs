use std::process::ExitCode;

// mimalloc: the request paths allocate many small JSON values (MCP calls, token responses);
// it measured faster than the system allocator there on the benchmark.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    server::cli::run().await
}
