//! The QR string: `EC1R:` + base45(CBOR) or `EC1Z:` + base45(zlib(CBOR)).
//!
//! Base45 (RFC 9285) uses only the 45 characters of the QR alphanumeric mode, so the string
//! travels in the densest QR text mode and through keyboard-wedge scanners unchanged.
//! The compressed form is chosen only when it is shorter.

use std::io::{Read, Write};

use flate2::bufread::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;

use crate::SchemaError;

/// Version of the QR string format this code writes and reads.
pub const QR_VERSION: u64 = 1;
/// Prefix of an uncompressed payload.
pub const PREFIX_RAW: &str = "EC1R:";
/// Prefix of a zlib-compressed payload.
pub const PREFIX_ZLIB: &str = "EC1Z:";
/// Longest QR string accepted (the capacity of a version-40 QR code in alphanumeric mode).
pub const MAX_QR_CHARS: usize = 4_296;
/// Largest payload accepted after decompression.
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024;

pub use super::base45::{decode as base45_decode, encode as base45_encode};

/// Wraps CBOR bytes into a QR string, compressing only when that is shorter.
pub fn encode_qr(payload: &[u8]) -> String {
    let raw = base45_encode(payload);
    let compressed = compress(payload).map(|z| base45_encode(&z));
    match compressed {
        Some(z) if z.len() < raw.len() => format!("{PREFIX_ZLIB}{z}"),
        _ => format!("{PREFIX_RAW}{raw}"),
    }
}

fn compress(payload: &[u8]) -> Option<Vec<u8>> {
    let mut enc = ZlibEncoder::new(Vec::new(), Compression::best());
    enc.write_all(payload).ok()?;
    enc.finish().ok()
}

/// Unwraps a QR string into CBOR bytes. Leading and trailing whitespace (a scanner's line
/// ending) is ignored; anything else outside the base45 alphabet is an error.
pub fn decode_qr(text: &str) -> Result<Vec<u8>, SchemaError> {
    // Space is a base45 digit: trim only the other whitespace a scanner may add.
    let text = text.trim_matches(|c: char| c.is_ascii_whitespace() && c != ' ');
    if text.len() > MAX_QR_CHARS {
        return Err(SchemaError::TooLarge {
            actual: text.len(),
            limit: MAX_QR_CHARS,
        });
    }
    let (compressed, body) = if let Some(rest) = text.strip_prefix(PREFIX_RAW) {
        (false, rest)
    } else if let Some(rest) = text.strip_prefix(PREFIX_ZLIB) {
        (true, rest)
    } else {
        return Err(unknown_prefix(text));
    };
    let bytes = base45_decode(body)?;
    if !compressed {
        return Ok(bytes);
    }
    let mut out = Vec::new();
    let limit = MAX_PAYLOAD_BYTES as u64 + 1;
    let mut decoder = ZlibDecoder::new(bytes.as_slice());
    (&mut decoder)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|e| SchemaError::Decompress(e.to_string()))?;
    if out.len() > MAX_PAYLOAD_BYTES {
        return Err(SchemaError::TooLarge {
            actual: out.len(),
            limit: MAX_PAYLOAD_BYTES,
        });
    }
    if !decoder.into_inner().is_empty() {
        return Err(SchemaError::Decompress(
            "bytes after the end of the zlib stream".into(),
        ));
    }
    Ok(out)
}

/// Tells an unknown version ("EC2R:...") apart from text that is not ecert at all.
fn unknown_prefix(text: &str) -> SchemaError {
    let b = text.as_bytes();
    if b.starts_with(b"EC") {
        let digits: String = text
            .chars()
            .skip(2)
            .take_while(char::is_ascii_digit)
            .collect();
        if let Ok(found) = digits.parse::<u64>() {
            if found != QR_VERSION {
                return SchemaError::UnsupportedVersion {
                    what: "QR string",
                    found,
                    supported: QR_VERSION,
                };
            }
        }
    }
    SchemaError::MissingPrefix
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn chooses_the_shorter_form() {
        let compressible = vec![b'a'; 300];
        assert!(encode_qr(&compressible).starts_with(PREFIX_ZLIB));
        let random: Vec<u8> = (0u32..64)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert!(encode_qr(&random).starts_with(PREFIX_RAW));
    }

    #[test]
    fn rejects_bad_prefixes_and_versions() {
        assert_eq!(decode_qr("HC1:6BFOXN"), Err(SchemaError::MissingPrefix));
        assert!(matches!(
            decode_qr("EC2R:BB8"),
            Err(SchemaError::UnsupportedVersion { found: 2, .. })
        ));
        assert!(matches!(decode_qr("EC1R:bb8"), Err(SchemaError::Base45(_))));
        assert_eq!(decode_qr("EC1R:BB8\r\n").unwrap(), b"AB");
    }

    #[test]
    fn bytes_after_the_zlib_stream_are_rejected() {
        let mut z = compress(&vec![b'a'; 300]).unwrap();
        let text = format!("{PREFIX_ZLIB}{}", base45_encode(&z));
        assert_eq!(decode_qr(&text).unwrap(), vec![b'a'; 300]);
        z.push(0);
        let text = format!("{PREFIX_ZLIB}{}", base45_encode(&z));
        assert!(matches!(decode_qr(&text), Err(SchemaError::Decompress(_))));
    }

    #[test]
    fn decompression_is_bounded() {
        let bomb = compress(&vec![0u8; MAX_PAYLOAD_BYTES + 10]).unwrap();
        let text = format!("{PREFIX_ZLIB}{}", base45::encode(&bomb));
        assert!(matches!(
            decode_qr(&text),
            Err(SchemaError::TooLarge { .. })
        ));
    }

    #[test]
    fn oversize_strings_are_rejected_before_decoding() {
        let text = format!("{PREFIX_RAW}{}", "0".repeat(MAX_QR_CHARS));
        assert!(matches!(
            decode_qr(&text),
            Err(SchemaError::TooLarge { .. })
        ));
    }

    proptest! {
        #[test]
        fn round_trip(payload in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let text = encode_qr(&payload);
            prop_assert!(text.chars().all(|c| "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".contains(c)));
            prop_assert_eq!(decode_qr(&text).unwrap(), payload);
        }

        #[test]
        fn arbitrary_text_never_panics(text in ".{0,300}") {
            let _ = decode_qr(&text);
        }

        #[test]
        fn arbitrary_base45_never_panics(body in "[0-9A-Z $%*+./:-]{0,300}", z in any::<bool>()) {
            let prefix = if z { PREFIX_ZLIB } else { PREFIX_RAW };
            let _ = decode_qr(&format!("{prefix}{body}"));
        }
    }
}
