//! Where absolute links come from.
//!
//! - Links in responses (`Location`, next links, `@odata.context`, the
//!   OpenAPI server URL): `APP_PUBLIC_URL` when set, else the request's
//!   `Host` with the scheme of the connection. `Forwarded` and
//!   `X-Forwarded-*` are honoured only when the TCP peer is one of
//!   `APP_TRUSTED_PROXIES`; from anyone else they are ignored.
//! - Links in mail (the invitation accept link): `APP_PUBLIC_URL` when
//!   set, else the bound address with its real port; never anything the
//!   request says. Bound to `0.0.0.0`/`[::]` without `APP_PUBLIC_URL` there
//!   is no address a recipient could use, so no mail is sent.

use std::net::{IpAddr, SocketAddr};

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::error::ApiError;

pub use crate::configuration::TrustedProxies;

/// The base of links in responses, without a trailing slash.
pub fn request_base(
    req: &HttpRequest,
    public_url: Option<&str>,
    trusted: &TrustedProxies,
) -> String {
    if let Some(url) = public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let local_scheme = if req.app_config().secure() {
        "https"
    } else {
        "http"
    };
    let from_proxy = !trusted.is_empty()
        && req
            .peer_addr()
            .is_some_and(|peer| trusted.contains(peer.ip()));
    if from_proxy {
        let info = req.connection_info();
        let scheme = info.scheme().to_ascii_lowercase();
        let scheme = if matches!(scheme.as_str(), "http" | "https") {
            scheme
        } else {
            local_scheme.to_owned()
        };
        if is_authority(info.host()) {
            return format!("{scheme}://{}", info.host());
        }
    }
    // The Host header, borrowed (one allocation for the whole base).
    if let Some(host) = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| is_authority(h))
    {
        return [local_scheme, "://", host].concat();
    }
    let host = req
        .uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .filter(|h| is_authority(h))
        .unwrap_or_else(|| bound_authority(req.app_config().local_addr()));
    [local_scheme, "://", &host].concat()
}

/// The base of links in mail: `public_url`, else `http://` and the bound
/// address; an error when bound to an unspecified address (0.0.0.0, ::)
/// without `public_url`.
pub fn mail_base(public_url: Option<&str>, bound: SocketAddr) -> Result<String, ApiError> {
    match public_url {
        Some(url) => Ok(url.trim_end_matches('/').to_owned()),
        None if bound.ip().is_unspecified() => Err(ApiError::Configuration {
            message: unreachable_bind_message(bound),
        }),
        None => Ok(format!("http://{bound}")),
    }
}

/// Why mail cannot be sent from a server bound to every interface.
pub fn unreachable_bind_message(bound: SocketAddr) -> String {
    format!(
        "invitation mail is not sent: the server listens on {bound} and APP_PUBLIC_URL is not set, so there is no address to put in the accept link; set APP_PUBLIC_URL to the address clients use"
    )
}

/// `host:port` of a bound address (IPv6 in brackets); an unspecified
/// address becomes the loopback address of its family.
fn bound_authority(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port()).to_string()
}

/// Whether `text` can stand as the authority of a link: a host name, IPv4
/// or bracketed IPv6 address and an optional port, nothing else (no user
/// info, path, query, spaces or control characters).
fn is_authority(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 255
        && text.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxies_parse_ips_and_cidrs() {
        let t = TrustedProxies::parse(" 10.0.0.0/8, 127.0.0.1 ,::1,").unwrap();
        assert!(t.contains("10.1.2.3".parse().unwrap()));
        assert!(t.contains("127.0.0.1".parse().unwrap()));
        assert!(t.contains("::ffff:127.0.0.1".parse().unwrap()));
        assert!(t.contains("::1".parse().unwrap()));
        assert!(!t.contains("127.0.0.2".parse().unwrap()));
        assert!(!t.contains("11.0.0.1".parse().unwrap()));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.local").is_err());
        assert_eq!(t.to_string(), "10.0.0.0/8,127.0.0.1/32,::1/128");
    }

    #[test]
    fn mail_links_come_from_the_public_url_or_a_specific_bound_address() {
        let bound: SocketAddr = "127.0.0.1:8123".parse().unwrap();
        assert_eq!(mail_base(None, bound).unwrap(), "http://127.0.0.1:8123");
        assert_eq!(
            mail_base(Some("https://id.example/"), bound).unwrap(),
            "https://id.example"
        );
        let v6: SocketAddr = "[::1]:9".parse().unwrap();
        assert_eq!(mail_base(None, v6).unwrap(), "http://[::1]:9");
        for any in ["0.0.0.0:8080", "[::]:8080"] {
            let err = mail_base(None, any.parse().unwrap()).unwrap_err();
            assert!(err.to_string().contains("APP_PUBLIC_URL"), "{err}");
            assert!(mail_base(Some("https://x"), any.parse().unwrap()).is_ok());
        }
    }

    #[test]
    fn authorities() {
        for ok in ["h", "h.example:8080", "127.0.0.1:1", "[::1]:80"] {
            assert!(is_authority(ok), "{ok}");
        }
        for bad in ["", "a b", "evil.example/x", "u@h", "h?x", "h#", "h\r\n"] {
            assert!(!is_authority(bad), "{bad}");
        }
        assert_eq!(
            bound_authority("0.0.0.0:81".parse().unwrap()),
            "127.0.0.1:81"
        );
    }
}
