//! The `wildid` binary.

/// mimalloc instead of the system allocator: a request allocates and frees many small
/// buffers across threads (headers, rows, JSON), which glibc's allocator served with a
/// seventh of the server's CPU in the profile of the session-resume benchmark.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    wildid_app::cli::main()
}
