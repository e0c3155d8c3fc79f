//! Log lines that carry the request id without a span per request.
//!
//! Every request runs inside [`scope`], which keeps its id in a task-local
//! (set while the request's future is polled, as a span would be entered).
//! The event formatter [`Lines`] writes that id into each line the request
//! logs: in text as `request{request_id=…}:` before the fields, in JSON as
//! `"span":{"request_id":…,"name":"request"}`, the places where the span
//! that tracing-actix-web made for every request used to put them. A span
//! costs every request its allocation, the formatting of its fields and a
//! registry entry, whether or not the request logs anything (at the default
//! `info` level a successful request logs nothing); the task-local costs
//! two thread-local writes per poll. Spans are still made when they are
//! exported over OTLP (see `startup`).

use std::fmt;
use std::future::Future;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::field::VisitOutput;
use tracing_subscriber::fmt::format::{JsonVisitor, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The longest request id (`X-Request-Id` is accepted up to 64 bytes; a
/// generated UUID has 36).
pub const MAX_REQUEST_ID: usize = 64;

/// A request id, inline (no allocation): ASCII letters, digits, `-`, `_`.
#[derive(Clone, Copy)]
pub struct RequestId {
    len: u8,
    bytes: [u8; MAX_REQUEST_ID],
}

impl RequestId {
    /// The id, when `text` is 1 to [`MAX_REQUEST_ID`] ASCII letters,
    /// digits, `-` or `_` (what a log line can carry unescaped).
    pub fn new(text: &[u8]) -> Option<RequestId> {
        let sane = !text.is_empty()
            && text.len() <= MAX_REQUEST_ID
            && text
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_');
        if !sane {
            return None;
        }
        let mut bytes = [0; MAX_REQUEST_ID];
        bytes[..text.len()].copy_from_slice(text);
        Some(RequestId {
            len: text.len() as u8,
            bytes,
        })
    }

    /// A random (version 4) UUID, hyphenated.
    pub fn random() -> RequestId {
        let mut buffer = uuid::Uuid::encode_buffer();
        let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buffer);
        RequestId::new(text.as_bytes()).expect("a hyphenated UUID is a sane id")
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII bytes are ever stored (checked in `new`).
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

tokio::task_local! {
    static REQUEST_ID: RequestId;
}

/// Runs `future` as the request `id`: every event it logs while polled
/// carries the id.
pub async fn scope<F: Future>(id: RequestId, future: F) -> F::Output {
    REQUEST_ID.scope(id, future).await
}

/// Runs `f` as the request `id` (the synchronous part of a request: the
/// middleware and routing that run before its future is first polled).
pub fn sync_scope<R>(id: RequestId, f: impl FnOnce() -> R) -> R {
    REQUEST_ID.sync_scope(id, f)
}

/// The id of the request being polled on this thread, if any.
pub fn current() -> Option<RequestId> {
    REQUEST_ID.try_with(|id| *id).ok()
}

/// The event format of the log (text or JSON lines), with the request id
/// of [`current`].
pub struct Lines {
    json: bool,
}

impl Lines {
    /// Text lines: `TIMESTAMP LEVEL request{request_id=…}: message fields`.
    pub fn text() -> Lines {
        Lines { json: false }
    }

    /// JSON lines: `timestamp`, `level`, `fields`, `target` and, inside a
    /// request, `span` (`request_id`, `name`).
    pub fn json() -> Lines {
        Lines { json: true }
    }
}

impl<S, N> FormatEvent<S, N> for Lines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let id = current();
        let id = id.as_ref().map(RequestId::as_str);
        if self.json {
            json_line(&mut writer, event, id)
        } else {
            text_line(ctx, &mut writer, event, id)
        }
    }
}

/// ANSI styles of the text format on a terminal (as tracing-subscriber's
/// own: dimmed time, coloured level, bold span name).
fn paint(writer: &Writer<'_>, code: &str, text: &str) -> String {
    if writer.has_ansi_escapes() {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// The time of an event, as tracing-subscriber's default formats write it.
fn timestamp() -> String {
    let mut time = String::new();
    if SystemTime.format_time(&mut Writer::new(&mut time)).is_err() {
        time = "<unknown time>".to_owned();
    }
    time
}

fn level_text(level: Level) -> (&'static str, &'static str) {
    match level {
        Level::TRACE => ("TRACE", "35"),
        Level::DEBUG => ("DEBUG", "34"),
        Level::INFO => (" INFO", "32"),
        Level::WARN => (" WARN", "33"),
        Level::ERROR => ("ERROR", "31"),
    }
}

fn text_line<S, N>(
    ctx: &FmtContext<'_, S, N>,
    writer: &mut Writer<'_>,
    event: &Event<'_>,
    id: Option<&str>,
) -> fmt::Result
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    let time = timestamp();
    let (level, colour) = level_text(*event.metadata().level());
    write!(
        writer,
        "{} {} ",
        paint(writer, "2", &time),
        paint(writer, colour, level)
    )?;
    if let Some(id) = id {
        write!(
            writer,
            "{}{{request_id={id}}}{} ",
            paint(writer, "1", "request"),
            paint(writer, "2", ":")
        )?;
    }
    ctx.format_fields(writer.by_ref(), event)?;
    writeln!(writer)
}

fn json_line(writer: &mut Writer<'_>, event: &Event<'_>, id: Option<&str>) -> fmt::Result {
    let time = timestamp();
    let meta = event.metadata();
    let mut fields = String::new();
    let mut visitor = JsonVisitor::new(&mut fields);
    event.record(&mut visitor);
    visitor.finish()?;
    let string = |s: &str| serde_json::to_string(s).map_err(|_| fmt::Error);
    write!(
        writer,
        "{{\"timestamp\":{},\"level\":{},\"fields\":{fields},\"target\":{}",
        string(&time)?,
        string(meta.level().as_str())?,
        string(meta.target())?
    )?;
    if let Some(id) = id {
        write!(
            writer,
            ",\"span\":{{\"request_id\":{},\"name\":\"request\"}}",
            string(id)?
        )?;
    }
    writeln!(writer, "}}")
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::{Lines, RequestId};

    /// A writer into a shared buffer, for a test subscriber.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("buffer").extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn logged(lines: Lines, id: Option<&str>) -> String {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .event_format(lines)
            .finish();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        tracing::subscriber::with_default(subscriber, || {
            let log = async {
                tracing::warn!(status = 500u16, path = "/x", "request failed");
            };
            match id {
                Some(id) => runtime.block_on(super::scope(
                    RequestId::new(id.as_bytes()).expect("sane"),
                    log,
                )),
                None => runtime.block_on(log),
            }
        });
        let bytes = buffer.0.lock().expect("buffer").clone();
        String::from_utf8(bytes).expect("UTF-8")
    }

    #[test]
    fn text_lines_carry_the_request_id_before_the_fields() {
        let line = logged(Lines::text(), Some("abc-1"));
        assert!(
            line.contains(" WARN request{request_id=abc-1}: request failed status=500 path=\"/x\""),
            "{line}"
        );
        let line = logged(Lines::text(), None);
        assert!(
            line.contains(" WARN request failed status=500") && !line.contains("request{"),
            "{line}"
        );
    }

    #[test]
    fn json_lines_carry_the_request_id_in_their_span() {
        let line = logged(Lines::json(), Some("abc_2"));
        let value: serde_json::Value = serde_json::from_str(line.trim()).expect("one JSON line");
        assert_eq!(value["span"]["request_id"], "abc_2", "{line}");
        assert_eq!(value["span"]["name"], "request");
        assert_eq!(value["level"], "WARN");
        assert_eq!(value["fields"]["message"], "request failed");
        assert_eq!(value["fields"]["status"], 500);
        assert!(value["timestamp"].is_string());
        assert!(value["target"].is_string());
        let line = logged(Lines::json(), None);
        let value: serde_json::Value = serde_json::from_str(line.trim()).expect("one JSON line");
        assert!(value.get("span").is_none(), "{line}");
    }

    #[test]
    fn only_sane_ids_are_kept() {
        assert_eq!(
            RequestId::new(b"a-Z_9")
                .map(|i| i.as_str().to_owned())
                .as_deref(),
            Some("a-Z_9")
        );
        assert!(RequestId::new(b"").is_none());
        assert!(RequestId::new(b"a b").is_none());
        assert!(RequestId::new(b"a\"b").is_none());
        assert!(RequestId::new(&[b'a'; 65]).is_none());
        assert!(RequestId::new(&[b'a'; 64]).is_some());
        assert_eq!(RequestId::random().as_str().len(), 36);
    }
}
