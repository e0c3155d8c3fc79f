//! The OData 4.0 multipart batch format (OData Protocol §11.7, RFC 2046
//! `multipart/mixed`): requests as `application/http` parts, change sets
//! as nested `multipart/mixed` parts; answers in the same shape.
//!
//! A small parser over bytes rather than a crate: `multer` and the other
//! well-kept multipart crates read `multipart/form-data` (parts named by
//! `Content-Disposition`), not nested `multipart/mixed` with HTTP messages
//! inside. Line ends may be CRLF (as RFC 2046 says) or bare LF (as many
//! hand-written batches send).

use actix_web::http::Method;

use super::{Answer, Inner, Item, Outcome};

/// A malformed batch body: answered 400 with this message.
pub(super) type Malformed = String;

/// The `boundary` parameter of a `multipart/mixed` content type.
pub(super) fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        (!value.is_empty() && value.len() <= 70).then(|| value.to_owned())
    })
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    (from..=haystack.len() - needle.len()).find(|&i| &haystack[i..i + needle.len()] == needle)
}

/// The end of the line starting at `at` (the index after its LF), or the
/// end of the input.
fn line_end(body: &[u8], at: usize) -> usize {
    find(body, b"\n", at).map_or(body.len(), |i| i + 1)
}

/// The bodies of the parts of a multipart body (the preamble and the
/// epilogue are ignored).
pub(super) fn parts<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<&'a [u8]>, Malformed> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    // A delimiter starts a line: at the start of the body or after a LF.
    let at_line_start = |from: usize| -> Option<usize> {
        let mut from = from;
        loop {
            let i = find(body, delimiter, from)?;
            if i == 0 || body[i - 1] == b'\n' {
                return Some(i);
            }
            from = i + 1;
        }
    };
    let mut at =
        at_line_start(0).ok_or_else(|| format!("the body has no delimiter line `--{boundary}`"))?;
    let mut parts = Vec::new();
    loop {
        let after = at + delimiter.len();
        if body[after..].starts_with(b"--") {
            return Ok(parts);
        }
        // Transport padding, then the line end.
        let rest = &body[after..];
        let padding = rest
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        if !matches!(rest.get(padding), Some(b'\r' | b'\n')) {
            return Err(format!(
                "a delimiter line `--{boundary}` is followed by other text"
            ));
        }
        let start = line_end(body, after);
        let next = at_line_start(start).ok_or_else(|| {
            format!("the multipart body ends without its close delimiter `--{boundary}--`")
        })?;
        // The line end before a delimiter belongs to the delimiter.
        let mut end = next;
        if end > start && body[end - 1] == b'\n' {
            end -= 1;
            if end > start && body[end - 1] == b'\r' {
                end -= 1;
            }
        }
        parts.push(&body[start..end.max(start)]);
        at = next;
    }
}

/// Header lines as (name, value).
pub(super) type Headers = Vec<(String, String)>;

/// Header lines up to the first empty line, and the rest.
pub(super) fn headers(part: &[u8]) -> Result<(Headers, &[u8]), Malformed> {
    let mut headers = Vec::new();
    let mut at = 0;
    while at < part.len() {
        let end = line_end(part, at);
        let line = &part[at..end];
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        at = end;
        if line.is_empty() {
            return Ok((headers, &part[at..]));
        }
        let line =
            std::str::from_utf8(line).map_err(|_| "a header line is not UTF-8".to_owned())?;
        let (name, value) = line
            .split_once(':')
            .filter(|(name, _)| !name.is_empty() && !name.contains(' '))
            .ok_or_else(|| format!("`{}` is not a header line", crate::error::echo(line)))?;
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    // Headers without a blank line after them: no body.
    Ok((headers, &[]))
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// One `application/http` part: the request line, headers, body.
fn request(part: &[u8], in_change_set: bool) -> Result<Inner, Malformed> {
    let (part_headers, message) = headers(part)?;
    let content_type = header(&part_headers, "Content-Type").unwrap_or("");
    if essence(content_type) != "application/http" {
        return Err(format!(
            "a batch part has Content-Type `{}`; requests are application/http, change sets \
             multipart/mixed",
            crate::error::echo(content_type)
        ));
    }
    let id = header(&part_headers, "Content-ID").map(str::to_owned);
    // Blank lines before the request line are tolerated.
    let skip = message
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .count();
    let message = &message[skip..];
    let first = line_end(message, 0);
    let line = std::str::from_utf8(&message[..first])
        .map_err(|_| "a request line is not UTF-8".to_owned())?
        .trim();
    let mut words = line.split(' ').filter(|w| !w.is_empty());
    let (Some(method), Some(url)) = (words.next(), words.next()) else {
        return Err(format!(
            "`{}` is not a request line (METHOD URL HTTP/1.1)",
            crate::error::echo(line)
        ));
    };
    if words.next().is_some_and(|v| !v.starts_with("HTTP/")) || words.next().is_some() {
        return Err(format!(
            "`{}` is not a request line (METHOD URL HTTP/1.1)",
            crate::error::echo(line)
        ));
    }
    let method = Method::from_bytes(method.as_bytes())
        .map_err(|_| format!("`{}` is not an HTTP method", crate::error::echo(method)))?;
    if in_change_set && method == Method::GET {
        return Err("a change set holds no GET (OData 4.0 §11.7.2): send reads outside it".into());
    }
    let (headers, body) = headers(&message[first..])?;
    Ok(Inner {
        id,
        method,
        url: url.to_owned(),
        headers,
        body: body.to_vec(),
        depends_on: Vec::new(),
    })
}

/// The requests of a multipart batch body.
pub(super) fn parse(body: &[u8], boundary: &str) -> Result<Vec<Item>, Malformed> {
    let mut items = Vec::new();
    for part in parts(body, boundary)? {
        let (part_headers, rest) = headers(part)?;
        let content_type = header(&part_headers, "Content-Type").unwrap_or("");
        if essence(content_type) == "multipart/mixed" {
            let inner = self::boundary(content_type)
                .ok_or_else(|| "a change set's Content-Type has no boundary".to_owned())?;
            if inner == boundary {
                return Err("a change set must use a boundary of its own".into());
            }
            let requests = parts(rest, &inner)?
                .into_iter()
                .map(|p| request(p, true))
                .collect::<Result<Vec<_>, _>>()?;
            if requests.is_empty() {
                return Err("a change set holds no request".into());
            }
            items.push(Item::ChangeSet {
                group: None,
                requests,
            });
        } else {
            items.push(Item::Single(request(part, false)?));
        }
    }
    Ok(items)
}

/// One answer as an `application/http` part (without its delimiter).
fn write_answer(out: &mut Vec<u8>, answer: &Answer) {
    out.extend_from_slice(
        b"Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n",
    );
    if let Some(id) = &answer.id {
        out.extend_from_slice(format!("Content-ID: {id}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(
        format!(
            "HTTP/1.1 {} {}\r\n",
            answer.status.as_u16(),
            answer.status.canonical_reason().unwrap_or("")
        )
        .as_bytes(),
    );
    for (name, value) in &answer.headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&answer.body);
    out.extend_from_slice(b"\r\n");
}

/// The answer body of a multipart batch with `boundary`.
pub(super) fn render(outcomes: &[Outcome], boundary: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for outcome in outcomes {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match outcome {
            Outcome::Single(answer) => write_answer(&mut out, answer),
            Outcome::ChangeSet(answers) => {
                let inner = format!("changesetresponse_{}", uuid::Uuid::new_v4());
                out.extend_from_slice(
                    format!("Content-Type: multipart/mixed; boundary={inner}\r\n\r\n").as_bytes(),
                );
                for answer in answers {
                    out.extend_from_slice(format!("--{inner}\r\n").as_bytes());
                    write_answer(&mut out, answer);
                }
                out.extend_from_slice(format!("--{inner}--\r\n").as_bytes());
            }
        }
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "preamble\r\n--b1\r\nContent-Type: application/http\r\n\r\nGET Users?$top=1 HTTP/1.1\r\nAccept: application/json\r\n\r\n\r\n--b1\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n--cs\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\nPOST Roles HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{\"roleKey\":\"x\"}\r\n--cs--\r\n--b1--\r\nepilogue";

    #[test]
    fn boundaries_are_read_quoted_or_not() {
        assert_eq!(
            boundary("multipart/mixed; boundary=batch_1").as_deref(),
            Some("batch_1")
        );
        assert_eq!(
            boundary("multipart/mixed;Boundary=\"a b\"").as_deref(),
            Some("a b")
        );
        assert_eq!(boundary("multipart/mixed"), None);
        assert_eq!(boundary("multipart/mixed; boundary="), None);
    }

    #[test]
    fn reads_singles_and_change_sets() {
        let items = parse(BODY.as_bytes(), "b1").expect("parses");
        assert_eq!(items.len(), 2);
        let Item::Single(get) = &items[0] else {
            panic!("a single request first")
        };
        assert_eq!(get.method, Method::GET);
        assert_eq!(get.url, "Users?$top=1");
        assert_eq!(
            get.headers,
            vec![("Accept".into(), "application/json".into())]
        );
        assert!(get.body.is_empty());
        let Item::ChangeSet { requests, .. } = &items[1] else {
            panic!("a change set second")
        };
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].id.as_deref(), Some("1"));
        assert_eq!(requests[0].method, Method::POST);
        assert_eq!(requests[0].body, b"{\"roleKey\":\"x\"}");
    }

    #[test]
    fn bare_line_feeds_are_accepted() {
        let body = BODY.replace("\r\n", "\n");
        let items = parse(body.as_bytes(), "b1").expect("parses");
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn malformed_bodies_are_errors_not_panics() {
        for (body, boundary) in [
            ("", "b"),
            ("--b", "b"),
            ("--b\r\n", "b"),
            (
                "--b\r\nContent-Type: application/http\r\n\r\nGET\r\n--b--",
                "b",
            ),
            ("--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--", "b"),
            ("--bx\r\n--b--", "b"),
            ("--b\r\nno colon\r\n\r\n--b--", "b"),
            (
                "--b\r\nContent-Type: multipart/mixed\r\n\r\n--c\r\n--c--\r\n--b--",
                "b",
            ),
            (
                "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nContent-Type: application/http\r\n\r\nGET Users HTTP/1.1\r\n\r\n\r\n--c--\r\n--b--",
                "b",
            ),
            (
                "--b\r\nContent-Type: application/http\r\n\r\nGET Users HTTP/1.1 x\r\n\r\n--b--",
                "b",
            ),
        ] {
            assert!(parse(body.as_bytes(), boundary).is_err(), "{body:?}");
        }
        // Every prefix of a valid body fails or parses, never panics.
        for cut in 0..BODY.len() {
            let _ = parse(&BODY.as_bytes()[..cut], "b1");
        }
    }

    #[test]
    fn answers_are_rendered_with_change_sets_grouped() {
        let answer = |id: Option<&str>, status: u16| Answer {
            id: id.map(str::to_owned),
            group: None,
            status: actix_web::http::StatusCode::from_u16(status).expect("status"),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: b"{}".to_vec(),
        };
        let text = String::from_utf8(render(
            &[
                Outcome::Single(answer(None, 200)),
                Outcome::ChangeSet(vec![answer(Some("1"), 201)]),
            ],
            "r",
        ))
        .expect("utf-8");
        assert!(text.starts_with("--r\r\nContent-Type: application/http\r\n"));
        assert!(text.contains("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{}\r\n"));
        assert!(text.contains("Content-ID: 1\r\n\r\nHTTP/1.1 201 Created\r\n"));
        assert!(text.ends_with("--r--\r\n"));
        // What is rendered parses back as parts.
        assert_eq!(parts(text.as_bytes(), "r").expect("parts").len(), 2);
    }
}
