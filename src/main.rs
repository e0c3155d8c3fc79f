//! The `odata-users` binary: everything lives in `identity_service::cli`.

fn main() -> std::process::ExitCode {
    identity_service::cli::main()
}
