//! Decoding and sniffing of user pictures (no I/O).
//!
//! A picture arrives as a data URL (`data:image/png;base64,...`), bare
//! base64, or an external `http(s)` URL (kept as a link, as imported data
//! has them). The image type comes from the magic bytes, never from the
//! client: PNG, JPEG, GIF or WebP; anything else is refused. An external
//! URL must not reach inside: user info, `localhost` and IP literals in
//! loopback, private, link-local, shared, unspecified, broadcast or
//! multicast ranges (IPv4 and IPv6, IPv4-mapped included, and the
//! numeric IPv4 spellings browsers accept) are refused.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

/// A decoded `picture` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Picture {
    /// A stored image with its sniffed content type.
    Image {
        content_type: &'static str,
        data: Vec<u8>,
    },
    /// An external image URL, stored as given.
    External(String),
}

/// Why a picture was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PictureError {
    /// 413: larger than the configured limit.
    #[error("the picture has {size} bytes, more than the limit of {max} bytes")]
    TooLarge { size: usize, max: usize },
    /// 415: the bytes are not a PNG, JPEG, GIF or WebP image.
    #[error("the picture is not a PNG, JPEG, GIF or WebP image")]
    NotAnImage,
    /// 400: neither a data URL, base64 nor an http(s) URL.
    #[error("the picture must be a data URL, base64-encoded image bytes or an http(s) URL")]
    Malformed,
    /// 400: an external URL that points inside (see [`check_external`]).
    #[error("the picture URL is refused: {0}")]
    Refused(&'static str),
}

/// The content type of an image from its first bytes, if it is one we accept.
pub fn sniff(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if data.len() >= 12 && &data[0..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Decodes a `picture` string, enforcing `max_bytes` of image data.
pub fn decode(value: &str, max_bytes: usize) -> Result<Picture, PictureError> {
    let trimmed = value.trim();
    let lower_prefix: String = trimmed
        .chars()
        .take(8)
        .collect::<String>()
        .to_ascii_lowercase();
    if lower_prefix.starts_with("http://") || lower_prefix.starts_with("https://") {
        if trimmed.len() > 2048 || trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(PictureError::Malformed);
        }
        check_external(trimmed).map_err(PictureError::Refused)?;
        return Ok(Picture::External(trimmed.to_owned()));
    }
    let payload = if lower_prefix.starts_with("data:") {
        // data:[<mediatype>][;base64],<data> -- only the base64 form carries an image.
        let Some((meta, data)) = trimmed.split_once(',') else {
            return Err(PictureError::Malformed);
        };
        if !meta.to_ascii_lowercase().ends_with(";base64") {
            return Err(PictureError::Malformed);
        }
        data
    } else {
        trimmed
    };
    // Refuse early without decoding a huge body: base64 has 3 bytes per 4 characters.
    let estimated = payload.len() / 4 * 3;
    if estimated > max_bytes.saturating_add(3) {
        return Err(PictureError::TooLarge {
            size: estimated,
            max: max_bytes,
        });
    }
    let compact: String = payload
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let data = STANDARD
        .decode(&compact)
        .or_else(|_| STANDARD_NO_PAD.decode(&compact))
        .map_err(|_| PictureError::Malformed)?;
    if data.len() > max_bytes {
        return Err(PictureError::TooLarge {
            size: data.len(),
            max: max_bytes,
        });
    }
    if data.is_empty() {
        return Err(PictureError::NotAnImage);
    }
    let content_type = sniff(&data).ok_or(PictureError::NotAnImage)?;
    Ok(Picture::Image { content_type, data })
}

/// Whether an external picture URL may be stored and redirected to: an
/// absolute `http(s)` URL with a host, no user info, not `localhost` and
/// no IP literal of an internal range. The reason when it may not.
pub fn check_external(raw: &str) -> Result<(), &'static str> {
    let url = url::Url::parse(raw).map_err(|_| "not an absolute URL")?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("only http and https URLs are accepted");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("a URL with user info is not accepted");
    }
    match url.host() {
        None => Err("the URL has no host"),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.');
            if name == "localhost" || name.ends_with(".localhost") {
                Err("the host is this machine")
            } else {
                Ok(())
            }
        }
        Some(url::Host::Ipv4(ip)) => check_ip(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => check_ip(IpAddr::V6(ip)),
    }
}

fn check_ip(ip: IpAddr) -> Result<(), &'static str> {
    if internal_ip(ip) {
        Err("the host is an internal address (loopback, private, link-local or similar)")
    } else {
        Ok(())
    }
}

/// Loopback, private, link-local, shared (100.64/10), unspecified,
/// broadcast, multicast; for IPv6 also unique-local, site-local and the
/// IPv4 forms embedded in mapped, compatible and NAT64 addresses.
fn internal_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded =
                Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
            let mapped = s[0..5] == [0; 5] && s[5] == 0xffff;
            let compatible = s[0..6] == [0; 6];
            let nat64 = s[0..6] == [0x64, 0xff9b, 0, 0, 0, 0];
            if mapped || compatible || nat64 {
                return internal_v4(embedded) || v6 == Ipv6Addr::LOCALHOST;
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
                || (s[0] & 0xffc0) == 0xfec0
        }
    }
}

fn internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
}

/// The file extension of an accepted content type (for download names).
pub fn extension(content_type: &str) -> &'static str {
    match content_type {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        _ => "bin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F'];
    const GIF: &[u8] = b"GIF89a\x01\0\x01\0";
    const WEBP: &[u8] = b"RIFF\x24\0\0\0WEBPVP8 ";

    #[test]
    fn sniffs_the_four_types() {
        assert_eq!(sniff(PNG), Some("image/png"));
        assert_eq!(sniff(JPEG), Some("image/jpeg"));
        assert_eq!(sniff(GIF), Some("image/gif"));
        assert_eq!(sniff(WEBP), Some("image/webp"));
        assert_eq!(sniff(b"%PDF-1.7"), None);
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVE"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn data_url_type_comes_from_bytes_not_client() {
        let url = format!("data:image/gif;base64,{}", STANDARD.encode(PNG));
        assert_eq!(
            decode(&url, 1024).unwrap(),
            Picture::Image {
                content_type: "image/png",
                data: PNG.to_vec()
            }
        );
    }

    #[test]
    fn bare_base64_with_or_without_padding() {
        let encoded = STANDARD.encode(JPEG);
        assert!(matches!(
            decode(&encoded, 1024),
            Ok(Picture::Image {
                content_type: "image/jpeg",
                ..
            })
        ));
        let unpadded = STANDARD_NO_PAD.encode(GIF);
        assert!(matches!(
            decode(&unpadded, 1024),
            Ok(Picture::Image {
                content_type: "image/gif",
                ..
            })
        ));
    }

    #[test]
    fn too_large_and_not_an_image() {
        let mut big = PNG.to_vec();
        big.resize(2000, 0);
        assert!(matches!(
            decode(&STANDARD.encode(&big), 1000),
            Err(PictureError::TooLarge { .. })
        ));
        assert_eq!(decode(&STANDARD.encode(&big), 2000).map(|_| ()), Ok(()));
        assert_eq!(
            decode(&STANDARD.encode(b"hello world"), 1000),
            Err(PictureError::NotAnImage)
        );
        assert_eq!(decode("", 1000), Err(PictureError::NotAnImage));
    }

    #[test]
    fn malformed_inputs() {
        assert_eq!(decode("not base64!!", 1000), Err(PictureError::Malformed));
        assert_eq!(
            decode("data:image/png,rawtext", 1000),
            Err(PictureError::Malformed)
        );
        assert_eq!(
            decode("data:image/png;base64", 1000),
            Err(PictureError::Malformed)
        );
    }

    #[test]
    fn internal_picture_urls_are_refused() {
        for bad in [
            "http://127.0.0.1/a.png",
            "http://2130706433/a.png",
            "http://0x7f.1/a.png",
            "http://10.1.2.3/a.png",
            "http://172.16.0.1/a.png",
            "http://192.168.1.1/a.png",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[::1]/a.png",
            "http://[::]/a.png",
            "http://[fe80::1]/a.png",
            "http://[fd00::1]/a.png",
            "http://[::ffff:127.0.0.1]/a.png",
            "http://[::ffff:a9fe:a9fe]/a.png",
            "http://[64:ff9b::10.0.0.1]/a.png",
            "http://localhost:8080/a.png",
            "http://a.localhost/a.png",
            "https://user:pw@cdn.example.com/a.png",
            "https://user@cdn.example.com/a.png",
            "ftp://cdn.example.com/a.png",
            "file:///etc/passwd",
            "javascript:alert(1)",
        ] {
            assert!(check_external(bad).is_err(), "{bad}");
        }
        for good in [
            "https://cdn.example.com/a.png",
            "http://8.8.8.8/a.png",
            "http://[2001:db8::1]/a.png",
            "https://example.com:8443/p?q=1",
        ] {
            assert_eq!(check_external(good), Ok(()), "{good}");
        }
        assert!(matches!(
            decode("http://[::ffff:10.0.0.1]/x.png", 10),
            Err(PictureError::Refused(_))
        ));
    }

    #[test]
    fn external_urls_are_links() {
        assert_eq!(
            decode("https://cdn.example.com/a.png", 10),
            Ok(Picture::External("https://cdn.example.com/a.png".into()))
        );
    }
}
