//! `odata-users serve` as a child process, for tests that need the real
//! binary (its logging, a SIGKILL, an external tool talking to it):
//! started on 127.0.0.1:0, its address read from the first stdout line.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running `odata-users serve` process, killed (SIGKILL) on drop.
pub struct Server {
    pub child: Child,
    /// `http://127.0.0.1:PORT`
    pub address: String,
}

impl Server {
    /// Starts `odata-users serve --bind 127.0.0.1:0 --no-demo` on
    /// `db_url` with its mail outbox in `outbox`, the extra environment
    /// `env` and stderr going to `stderr`; waits for the listening line.
    pub fn start(db_url: &str, outbox: &Path, env: &[(&str, &str)], stderr: Stdio) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_odata-users"));
        command
            .args(["serve", "--bind", "127.0.0.1:0", "--no-demo"])
            .env("APP_DEMO", "false")
            .env("RUST_LOG", "warn")
            .env("DATABASE_URL", db_url)
            .env("APP_MAIL_OUTBOX", outbox)
            .current_dir(outbox.parent().unwrap_or(outbox));
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start odata-users serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = match lines.next() {
            Some(Ok(line)) => line,
            other => {
                let _ = child.kill();
                let status = child.wait();
                panic!("the server printed no listening line ({other:?}); exit: {status:?}")
            }
        };
        let address = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first stdout line is the listening line, got {first:?}"))
            .to_owned();
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        Server { child, address }
    }

    /// SIGKILL (`Child::kill` on Unix) and reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}
