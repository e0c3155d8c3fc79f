//! Decoding and sniffing of user pictures (no I/O).
//!
//! A picture arrives as a data URL (`data:image/png;base64,...`), bare
//! base64, or an external `http(s)` URL (kept as a link, as imported data
//! has them). The image type comes from the magic bytes, never from the
//! client: PNG, JPEG, GIF or WebP; anything else is refused.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

use crate::error::ApiError;

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
}

impl From<PictureError> for ApiError {
    fn from(err: PictureError) -> Self {
        match err {
            PictureError::TooLarge { .. } => ApiError::PayloadTooLarge {
                message: err.to_string(),
            },
            PictureError::NotAnImage => ApiError::UnsupportedMediaType {
                message: err.to_string(),
            },
            PictureError::Malformed => ApiError::bad_request(err.to_string(), Some("picture")),
        }
    }
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
    fn external_urls_are_links() {
        assert_eq!(
            decode("https://cdn.example.com/a.png", 10),
            Ok(Picture::External("https://cdn.example.com/a.png".into()))
        );
    }
}
