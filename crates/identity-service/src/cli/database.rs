//! Which database a command uses, said on stderr, and the refusal to
//! create a fresh default database for commands that only make sense on an
//! existing one.

use std::path::{Path, PathBuf};

use crate::configuration::{DatabaseOrigin, Loaded};
use crate::storage::db;

/// The database a command is about to use, described for people.
#[derive(Debug)]
pub struct Chosen {
    /// `SQLite /abs/path` or the URL with its password redacted.
    pub description: String,
    /// Who named it, e.g. `DATABASE_URL`.
    pub origin: String,
    /// The SQLite file, absolute, when the database is one.
    pub sqlite_file: Option<PathBuf>,
    /// The redacted read URL, when lists read from a replica.
    pub read: Option<String>,
    default: bool,
    config_file: Option<PathBuf>,
}

impl Chosen {
    /// Describes the database of `loaded`.
    pub fn of(loaded: &Loaded) -> Chosen {
        let url = &loaded.settings.database_url;
        let sqlite_file = db::sqlite_reader_file(url).map(|file| absolute(&file));
        let description = match &sqlite_file {
            Some(file) => format!("SQLite {}", file.display()),
            None => db::redact(url),
        };
        let origin = match &loaded.database_origin {
            DatabaseOrigin::Environment => "DATABASE_URL".to_owned(),
            DatabaseOrigin::File(path) => format!("database_url in {}", path.display()),
            DatabaseOrigin::Default => "the default".to_owned(),
        };
        Chosen {
            description,
            origin,
            sqlite_file,
            read: loaded.settings.database_read_url.as_deref().map(db::redact),
            default: loaded.database_origin == DatabaseOrigin::Default,
            config_file: loaded.config_file.clone(),
        }
    }

    /// Fails when nobody named a database and the default file does not
    /// exist: connecting would create an empty database (and, for `clients
    /// create`, a client no running server knows).
    pub fn require_existing(&self) -> anyhow::Result<()> {
        let Some(file) = self.sqlite_file.as_ref().filter(|_| self.default) else {
            return Ok(());
        };
        if file.exists() {
            return Ok(());
        }
        let config = match &self.config_file {
            Some(path) => format!("{} has no database_url", path.display()),
            None => format!(
                "there is no {} in {}",
                crate::configuration::DEFAULT_CONFIG_FILE,
                std::env::current_dir().unwrap_or_default().display()
            ),
        };
        anyhow::bail!(
            "no database: DATABASE_URL is not set, {config}, and the default database {} does \
             not exist. Run the command in the directory the server runs in, set DATABASE_URL \
             (sqlite://PATH, postgres://... or mysql://...) or pass --config FILE; \
             `odata-users migrate` creates the default database here",
            file.display()
        )
    }

    /// The line said on stderr before the command runs.
    pub fn line(&self) -> String {
        let new = match &self.sqlite_file {
            Some(file) if !file.exists() => ", new file",
            _ => "",
        };
        let mut line = format!("database: {} ({}{new})", self.description, self.origin);
        if let Some(read) = &self.read {
            line.push_str(&format!("; list reads: {read}"));
        }
        line
    }
}

/// `path` made absolute against the working directory, `.` components
/// removed (symbolic links are not resolved; the file need not exist).
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}
