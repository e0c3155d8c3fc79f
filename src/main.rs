//! The `odata-users` binary: everything lives in `identity_service::cli`.

fn main() -> anyhow::Result<()> {
    identity_service::cli::main()
}
