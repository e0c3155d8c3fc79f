//! Where invitation mail goes: an SMTP relay when `smtp_url` is configured,
//! otherwise an outbox directory holding one `.eml` file per message (file
//! names sort by time: `{unix_nanos}-{uuid}.eml`).

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, SecondsFormat, Utc};
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, SinglePart};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use uuid::Uuid;

/// Why a message could not be built or delivered.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid mail address {0:?}: {1}")]
    Address(String, String),
    #[error("building the message failed: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("invalid SMTP URL: {0}")]
    SmtpUrl(String),
    #[error("SMTP delivery failed: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("writing to the mail outbox {0} failed: {1}")]
    Outbox(PathBuf, std::io::Error),
}

/// The configured mail sink. Cheap to clone (the SMTP transport is a pool).
#[derive(Clone)]
pub enum MailSink {
    /// Delivery through an SMTP relay.
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    /// One `.eml` file per message in `dir` (created when missing).
    Outbox { dir: PathBuf, from: Mailbox },
}

impl std::fmt::Debug for MailSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Smtp { from, .. } => write!(f, "MailSink::Smtp(from {from})"),
            Self::Outbox { dir, from } => {
                write!(f, "MailSink::Outbox({}, from {from})", dir.display())
            }
        }
    }
}

/// Parses `"Name <user@host>"` or `"user@host"`.
pub fn parse_mailbox(raw: &str) -> Result<Mailbox, MailError> {
    raw.parse::<Mailbox>()
        .map_err(|e| MailError::Address(raw.to_owned(), e.to_string()))
}

impl MailSink {
    /// SMTP when `smtp_url` is given (`smtp://user:pass@host:587?tls=required`,
    /// `smtps://host`; see lettre's `from_url`), else the outbox `dir`.
    /// `from` is the sender (`"Identity <no-reply@example.com>"`).
    pub fn new(smtp_url: Option<&str>, outbox: &Path, from: &str) -> Result<Self, MailError> {
        let from = parse_mailbox(from)?;
        match smtp_url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| MailError::SmtpUrl(e.to_string()))?
                    .build();
                Ok(Self::Smtp { transport, from })
            }
            None => Ok(Self::Outbox {
                dir: outbox.to_path_buf(),
                from,
            }),
        }
    }

    /// The sender of every message.
    pub fn from(&self) -> &Mailbox {
        match self {
            Self::Smtp { from, .. } | Self::Outbox { from, .. } => from,
        }
    }

    /// Delivers `message`; for the outbox, returns the file written.
    pub async fn send(&self, message: &Message) -> Result<Option<PathBuf>, MailError> {
        match self {
            Self::Smtp { transport, .. } => {
                transport.send(message.clone()).await?;
                Ok(None)
            }
            Self::Outbox { dir, .. } => write_eml(dir, &message.formatted()).await.map(Some),
        }
    }
}

/// Writes the message under a temporary name and renames it, so that a
/// reader of the outbox never sees a half-written file.
async fn write_eml(dir: &Path, bytes: &[u8]) -> Result<PathBuf, MailError> {
    let io = |e| MailError::Outbox(dir.to_path_buf(), e);
    tokio::fs::create_dir_all(dir).await.map_err(io)?;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let stem = format!("{nanos:020}-{}", Uuid::new_v4().simple());
    let tmp = dir.join(format!(".{stem}.tmp"));
    let path = dir.join(format!("{stem}.eml"));
    tokio::fs::write(&tmp, bytes).await.map_err(io)?;
    tokio::fs::rename(&tmp, &path).await.map_err(io)?;
    Ok(path)
}

/// The absolute URL that accepts an invitation.
pub fn accept_url(base_url: &str, tenant_key: &str, org_key: &str, token: &str) -> String {
    format!(
        "{}/api/{tenant_key}/{org_key}/identity/invitations/{token}/accept",
        base_url.trim_end_matches('/')
    )
}

/// A text body whose lines are never folded: 7bit (ASCII) or 8bit (UTF-8),
/// which allow lines up to 998 octets (RFC 5322); lettre's own choice folds
/// at 76 with quoted-printable, which would split the accept URL.
fn unwrapped_body(text: String) -> Body {
    let crlf = text
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\n', "\r\n");
    let fits = !crlf.contains('\0') && crlf.split("\r\n").all(|line| line.len() <= 998);
    if !fits {
        return Body::new(text);
    }
    let encoding = if crlf.is_ascii() {
        ContentTransferEncoding::SevenBit
    } else {
        ContentTransferEncoding::EightBit
    };
    Body::dangerous_pre_encoded(crlf.into_bytes(), encoding)
}

/// What an invitation message says.
#[derive(Debug, Clone)]
pub struct Invitation<'a> {
    pub to_email: &'a str,
    pub to_name: &'a str,
    pub tenant_key: &'a str,
    pub org_key: &'a str,
    pub accept_url: &'a str,
    pub expires_at: DateTime<Utc>,
}

/// Builds the invitation message (plain text, the accept URL on a line of
/// its own and never wrapped: 7bit or 8bit, not quoted-printable).
pub fn invitation_message(from: &Mailbox, inv: &Invitation<'_>) -> Result<Message, MailError> {
    let address: Address = inv
        .to_email
        .parse()
        .map_err(|e: lettre::address::AddressError| {
            MailError::Address(inv.to_email.to_owned(), e.to_string())
        })?;
    let to = Mailbox::new(Some(inv.to_name.to_owned()), address);
    let expires = inv.expires_at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let text = format!(
        "Hello {name},\n\
         \n\
         You have been invited to {tenant}/{org}.\n\
         \n\
         To accept the invitation, open this address in a browser and press Accept:\n\
         \n\
         {url}\n\
         \n\
         or send an empty POST request to it, for example:\n\
         \n\
         curl -X POST '{url}'\n\
         \n\
         The invitation expires at {expires} and can be used once.\n\
         If you did not expect it, ignore this message.\n",
        name = inv.to_name,
        tenant = inv.tenant_key,
        org = inv.org_key,
        url = inv.accept_url,
    );
    let body = unwrapped_body(text);
    let part = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(body);
    Ok(Message::builder()
        .from(from.clone())
        .to(to)
        .subject(format!("Invitation to {}/{}", inv.tenant_key, inv.org_key))
        .date_now()
        .message_id(None)
        .singlepart(part)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(url: &str) -> Message {
        let from = parse_mailbox("Identity <no-reply@example.com>").expect("mailbox");
        invitation_message(
            &from,
            &Invitation {
                to_email: "joao.silva@empresa.pt",
                to_name: "João Silva",
                tenant_key: "acme",
                org_key: "main",
                accept_url: url,
                expires_at: Utc::now(),
            },
        )
        .expect("message")
    }

    #[test]
    fn the_accept_url_is_absolute_and_unwrapped() {
        let token = "A".repeat(43);
        let url = accept_url("http://127.0.0.1:8080/", "acme", "main", &token);
        assert_eq!(
            url,
            format!("http://127.0.0.1:8080/api/acme/main/identity/invitations/{token}/accept")
        );
        let eml = String::from_utf8(sample(&url).formatted()).expect("utf-8");
        assert!(eml.contains(&url), "{eml}");
        assert!(eml.contains("Content-Transfer-Encoding: 8bit"), "{eml}");
        assert!(
            eml.contains("Hello João Silva"),
            "8bit body keeps accents: {eml}"
        );
        assert!(eml.contains("To: =?utf-8?"), "encoded display name: {eml}");
        assert!(eml.contains("Subject: Invitation to acme/main"));
        assert!(eml.contains("open this address in a browser"), "{eml}");
        assert!(eml.contains("Message-ID: <"), "{eml}");
    }

    #[test]
    fn bad_addresses_are_errors_not_panics() {
        let from = parse_mailbox("no-reply@example.com").expect("mailbox");
        let inv = Invitation {
            to_email: "not an address",
            to_name: "x",
            tenant_key: "t",
            org_key: "o",
            accept_url: "http://x",
            expires_at: Utc::now(),
        };
        assert!(matches!(
            invitation_message(&from, &inv),
            Err(MailError::Address(..))
        ));
        assert!(parse_mailbox("<<>>").is_err());
        assert!(MailSink::new(Some("nope://"), Path::new("/tmp"), "a@b.c").is_err());
    }

    #[tokio::test]
    async fn the_outbox_writes_one_sortable_eml_per_message() {
        let dir = std::env::temp_dir().join(format!("outbox-test-{}", Uuid::new_v4()));
        let sink = MailSink::new(None, &dir, "no-reply@example.com").expect("sink");
        let first = sink.send(&sample("http://h/1")).await.expect("sent");
        let second = sink.send(&sample("http://h/2")).await.expect("sent");
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .expect("dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        names.sort();
        assert_eq!(names, vec![first.expect("path"), second.expect("path")]);
        let text = std::fs::read_to_string(&names[1]).expect("read");
        assert!(text.contains("http://h/2"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
