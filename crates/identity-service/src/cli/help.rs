//! Texts of `--help`.

use crate::configuration::Settings;

/// One line for `odata-users -h`.
pub const ABOUT: &str = "odata-users: a multi-tenant identity service (users, roles, groups, invitations) with an OData API";

/// The description of `odata-users --help`.
pub const LONG_ABOUT: &str = "\
odata-users: a multi-tenant identity service (users, roles, groups, invitations) with an \
OData API for applications and a standard OData v4 feed for BI tools.

Without a command it runs the HTTP server (`serve`). The other commands work on the \
database the server uses, chosen the same way: DATABASE_URL, else `database_url` of the \
configuration file, else ./data/odata-users.db. Every command says on stderr which \
database it used. Commands that only make sense on existing data (clients, tenants \
list, recount) refuse to create a fresh default database: they fail and name the file \
they looked for.";

/// Below `-h`: where the rest is.
pub const AFTER_HELP: &str = "Settings and their environment variables: see --help.";

/// Below `--help`: every environment variable and the keys that have none.
pub fn environment() -> String {
    let names = Settings::env_names();
    let with_variable: Vec<String> = names
        .iter()
        .map(|name| {
            name.strip_prefix("APP_")
                .unwrap_or(name)
                .to_ascii_lowercase()
        })
        .collect();
    let file_only: Vec<&str> = Settings::keys()
        .iter()
        .copied()
        .filter(|key| !with_variable.iter().any(|k| k == key))
        .collect();
    let mut text = String::from(
        "Settings: built-in defaults, then the configuration file (TOML; every key with\n\
         its default and meaning in docs/odata-users.example.toml), then these\n\
         environment variables, each setting the key of its name in lower case without\n\
         APP_ (APP_BIND sets bind):\n",
    );
    text.push_str(&wrap(&names, "  "));
    if !file_only.is_empty() {
        text.push_str("\nKeys without a variable (configuration file only):\n");
        text.push_str(&wrap(&file_only, "  "));
    }
    text.push_str(
        "\nAlso: APP_CONFIG (the configuration file, like --config), RUST_LOG (log level,\n\
         e.g. warn or debug).",
    );
    text
}

/// `words` separated by commas, in lines of at most 80 characters.
fn wrap<S: AsRef<str>>(words: &[S], indent: &str) -> String {
    let mut lines = Vec::new();
    let mut line = String::from(indent);
    for (i, word) in words.iter().enumerate() {
        let word = word.as_ref();
        let piece = if i + 1 < words.len() {
            format!("{word},")
        } else {
            word.to_owned()
        };
        if line.len() > indent.len() && line.len() + 1 + piece.len() > 80 {
            lines.push(std::mem::replace(&mut line, String::from(indent)));
        }
        if line.len() > indent.len() {
            line.push(' ');
        }
        line.push_str(&piece);
    }
    lines.push(line);
    lines.join("\n")
}
