//! What the commands print: results on stdout, notes for people on stderr.

use std::io::Write;

/// Writes one line to stdout, ignoring a closed pipe: a script may read the
/// listening line and close its end, and the server must keep serving
/// (`println!` would panic on the broken pipe); `odata-users tenants list |
/// head -1` must not panic either.
pub fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|()| out.flush());
}

/// Writes one line to stderr (notes beside the result, such as the
/// database used), ignoring a closed pipe; an `INFO` event instead when
/// the log is JSON lines (see [`crate::telemetry::json_lines`]).
pub fn note(text: &str) {
    if crate::telemetry::json_lines() {
        tracing::info!("{text}");
        return;
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
}

/// The `error: ...` line of a failed command on stderr; an `ERROR` event
/// instead when the log is JSON lines.
pub fn fail(error: &anyhow::Error) {
    if crate::telemetry::json_lines() {
        tracing::error!("{error:#}");
    } else {
        eprintln!("error: {error:#}");
    }
}

/// A plain-text table: the header, then one line per row, columns
/// separated by two spaces and padded to the widest cell (the last column
/// is not padded). No trailing newline.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        let mut text = String::new();
        for (i, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            text.push_str(cell);
            if i < last {
                let pad = width - cell.chars().count() + 2;
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        text
    };
    let mut lines = vec![line(header.to_vec())];
    lines.extend(
        rows.iter()
            .map(|row| line(row.iter().map(String::as_str).collect())),
    );
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::table;

    #[test]
    fn tables_align_their_columns() {
        let rows = vec![
            vec!["acme".to_owned(), "main".to_owned()],
            vec!["Zoë-Holding".to_owned(), "x".to_owned()],
        ];
        assert_eq!(
            table(&["TENANT", "ORG"], &rows),
            "TENANT       ORG\nacme         main\nZoë-Holding  x"
        );
        assert_eq!(table(&["TENANT", "ORG"], &[]), "TENANT  ORG");
    }
}
