//! # ecert-qr
//!
//! QR codes both ways, as pure functions over bytes and pixels: [`render`] draws a QR
//! string for a terminal, as PNG and as SVG (wallets, the issuer's offer codes, the
//! story); [`scan`] finds and reads the one code in a photo or a camera frame (counters,
//! wallets scanning an offer). No files, no camera, no clock: callers bring the bytes, so
//! the same code runs in the command-line tools and, compiled to WebAssembly, in a
//! browser.

pub mod render;
pub mod scan;

use thiserror::Error;

/// Why a QR code could not be drawn or read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QrError {
    /// The text does not fit in any QR code (or the image could not be encoded).
    #[error("too large for a QR code: {0}")]
    TooLargeForQr(String),
    /// The bytes are not a PNG or JPEG image this crate reads.
    #[error("not a readable PNG or JPEG image: {0}")]
    NotAnImage(String),
    /// No QR code was found in the picture.
    #[error("no QR code found")]
    NoCode,
    /// A code was found but could not be read.
    #[error("a QR code was found but could not be read: {0}")]
    Unreadable(String),
    /// More than one code was found.
    #[error("{0} QR codes found")]
    SeveralCodes(usize),
    /// The pixel buffer does not match the stated width and height.
    #[error("a {width}×{height} grey picture needs {expected} bytes, not {actual}")]
    BadFrame {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Bytes expected (`width × height`).
        expected: u64,
        /// Bytes given.
        actual: usize,
    },
}
