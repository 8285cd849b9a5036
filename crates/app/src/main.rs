//! The `wildid` binary.

fn main() -> std::process::ExitCode {
    wildid_app::cli::main()
}
