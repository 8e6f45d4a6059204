//! Reading the one QR code in a picture: an encoded photo ([`decode_image`]) or a grey
//! camera frame ([`decode_luma`]).
//!
//! Cameras never see a code square-on, at a whole number of pixels a module, in good
//! light. The frame is read by `rxing` (a port of ZXing and zxing-cpp: a locally
//! adaptive binariser, finder-pattern detection that tolerates tilt and perspective, a
//! grid sampled through a perspective transform, Reed–Solomon correction) with its
//! "try harder" search, and if that finds nothing, again on a few cheap variants of the
//! frame, in turn, until one reads: the frame halved (noise and JPEG blocks average out),
//! binarised by a global histogram instead (blur), both, and enlarged (a distant code).
//! A frame with a code is usually answered by the first look, in a few milliseconds; a
//! frame without one costs every look (about 45 ms for 640×480, natively; see
//! `docs/benchmarks.md`).
//!
//! Each look asks for every code in the picture: two different codes are refused
//! ([`QrError::SeveralCodes`]) rather than one picked (two copies of the same code are
//! read as one). A second code only a later look would have read goes unnoticed when
//! an earlier look reads the first.

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};

use image::imageops::{self, FilterType};
use image::GrayImage;
use rxing::common::{GlobalHistogramBinarizer, HybridBinarizer};
use rxing::multi::MultipleBarcodeReader;
use rxing::qrcode::cpp_port::QrReader;
use rxing::qrcode::QRCodeReader;
use rxing::{BarcodeFormat, Binarizer, BinaryBitmap, DecodeHints, Exceptions, Luma8Source, Reader};

use crate::QrError;

/// The smallest side, in pixels, a picture can have and hold a QR code (version 1 is 21
/// modules).
const MIN_SIDE: u32 = 21;

/// Pictures whose longer side is at most this are also looked at enlarged twice (a
/// distant code, under 3 pixels a module).
const ENLARGE_UP_TO: u32 = 1024;

/// The text of the one QR code in a PNG or JPEG photo.
pub fn decode_image(bytes: &[u8]) -> Result<String, QrError> {
    let picture = image::load_from_memory(bytes).map_err(|e| QrError::NotAnImage(e.to_string()))?;
    decode_grey(&picture.to_luma8())
}

/// The text of the one QR code in a grey frame of `width × height` pixels, one byte a
/// pixel, row by row (what a camera frame becomes after dropping colour).
pub fn decode_luma(width: u32, height: u32, pixels: Vec<u8>) -> Result<String, QrError> {
    let expected = u64::from(width) * u64::from(height);
    let actual = pixels.len();
    let frame = GrayImage::from_raw(width, height, pixels)
        .filter(|_| u64::try_from(actual).ok() == Some(expected))
        .ok_or(QrError::BadFrame {
            width,
            height,
            expected,
            actual,
        })?;
    decode_grey(&frame)
}

/// What one look at the picture saw.
#[derive(Default)]
struct Look {
    /// The distinct texts of the codes read.
    texts: Vec<String>,
    /// Why a code that was found could not be read, if one was.
    unreadable: Option<String>,
}

/// One way of looking at the picture, from the cheapest and most often right.
#[derive(Clone, Copy, Debug)]
enum View {
    /// As it is, a threshold per 8×8 block from its 5×5 neighbourhood (ZXing's
    /// `HybridBinarizer`): uneven light, dim light, some blur and noise.
    Local,
    /// Halved (a triangle filter, about 2×2 pixels averaged): heavy noise, JPEG blocks,
    /// large modules.
    Halved,
    /// As it is, one threshold per row from a histogram (`GlobalHistogramBinarizer`):
    /// a blur that leaves little local contrast.
    Global,
    /// Halved, then one threshold per row: blur and noise together.
    HalvedGlobal,
    /// Enlarged twice: a distant code, a few pixels a module.
    Enlarged,
}

/// The looks, in order; the first to read a code decides.
const VIEWS: [View; 5] = [
    View::Local,
    View::Halved,
    View::Global,
    View::HalvedGlobal,
    View::Enlarged,
];

fn decode_grey(picture: &GrayImage) -> Result<String, QrError> {
    if picture.width() < MIN_SIDE || picture.height() < MIN_SIDE {
        return Err(QrError::NoCode);
    }
    let mut unreadable = None;
    for view in VIEWS {
        // A panic in the decoder (a port of C++ and Java fed arbitrary pixels) or in an
        // image operation is taken as nothing seen.
        let seen = catch_unwind(AssertUnwindSafe(|| view.look(picture))).unwrap_or_default();
        match seen.texts.as_slice() {
            [] => unreadable = unreadable.or(seen.unreadable),
            [text] => return Ok(text.clone()),
            several => return Err(QrError::SeveralCodes(several.len())),
        }
    }
    Err(unreadable.map_or(QrError::NoCode, QrError::Unreadable))
}

impl View {
    /// What `rxing` reads in `picture` seen this way.
    fn look(self, picture: &GrayImage) -> Look {
        let (w, h) = picture.dimensions();
        match self {
            View::Local => read(picture, false),
            View::Global => read(picture, true),
            View::Halved | View::HalvedGlobal if w / 2 >= MIN_SIDE && h / 2 >= MIN_SIDE => read(
                &imageops::resize(picture, w / 2, h / 2, FilterType::Triangle),
                matches!(self, View::HalvedGlobal),
            ),
            View::Enlarged if w.max(h) <= ENLARGE_UP_TO => read(
                &imageops::resize(picture, w * 2, h * 2, FilterType::Triangle),
                false,
            ),
            View::Halved | View::HalvedGlobal | View::Enlarged => Look::default(),
        }
    }
}

/// Every code `rxing` reads in `picture`, binarised locally or by a global histogram.
fn read(picture: &GrayImage, global: bool) -> Look {
    let Ok(source) =
        Luma8Source::new_with_slice(picture.as_raw(), picture.width(), picture.height())
    else {
        return Look::default();
    };
    if global {
        read_bitmap(BinaryBitmap::new(GlobalHistogramBinarizer::new(source)))
    } else {
        read_bitmap(BinaryBitmap::new(HybridBinarizer::new(source)))
    }
}

fn read_bitmap<B: Binarizer>(mut bitmap: BinaryBitmap<B>) -> Look {
    let hints = DecodeHints {
        TryHarder: Some(true),
        PossibleFormats: Some(HashSet::from([BarcodeFormat::QR_CODE])),
        ..DecodeHints::default()
    };
    let mut seen = Look::default();
    // zxing-cpp's detector: every code in the picture.
    if let Ok(results) = QrReader.decode_multiple_with_hints(&mut bitmap, &hints) {
        for result in results {
            let text = result.getText();
            if !seen.texts.iter().any(|t| t == text) {
                seen.texts.push(text.to_owned());
            }
        }
    }
    if seen.texts.is_empty() {
        // ZXing's own detector finds some codes the other does not, and tells a code it
        // could not read from no code at all.
        match QRCodeReader.decode_with_hints(&mut bitmap, &hints) {
            Ok(result) => seen.texts.push(result.getText().to_owned()),
            Err(Exceptions::NotFoundException(_)) => {}
            Err(e) => seen.unreadable = Some(e.to_string()),
        }
    }
    seen
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::render::to_png;

    #[test]
    fn a_frame_of_the_wrong_size_is_refused() {
        // One byte short, and one byte too long.
        for actual in [99, 101] {
            assert!(
                matches!(
                    decode_luma(10, 10, vec![0; actual]),
                    Err(QrError::BadFrame { expected: 100, actual: a, .. }) if a == actual
                ),
                "{actual} bytes"
            );
        }
    }

    #[test]
    fn frames_too_small_for_a_code_have_none() {
        assert_eq!(decode_luma(0, 0, Vec::new()), Err(QrError::NoCode));
        assert_eq!(decode_luma(20, 400, vec![0; 8000]), Err(QrError::NoCode));
    }

    /// Random frames and random, truncated and corrupted files: an answer, never a panic.
    #[test]
    fn arbitrary_input_never_panics() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..40u64 {
            let w = u32::try_from(next() % 160).unwrap();
            let h = u32::try_from(next() % 120).unwrap();
            let block = 1 + next() % 6;
            let pixels: Vec<u8> = (0..u64::from(w) * u64::from(h))
                .map(|i| match round % 3 {
                    // Noise, blocks of black and white (finder-like runs), smooth ramps.
                    0 => next().to_le_bytes()[0],
                    1 => {
                        let (x, y) = (i % u64::from(w) / block, i / u64::from(w) / block);
                        if (x * 31 + y * 17 + round) % 3 == 0 {
                            0
                        } else {
                            255
                        }
                    }
                    _ => u8::try_from((i * 7 + round) % 256).unwrap(),
                })
                .collect();
            let _ = decode_luma(w, h, pixels);
        }
        let png = to_png("EC1R:0123456789ABCDEF", 3).unwrap();
        for _ in 0..40 {
            let mut bytes = png.clone();
            let cut = usize::try_from(next()).unwrap() % bytes.len();
            match next() % 3 {
                0 => bytes.truncate(cut),
                1 => bytes[cut] ^= 0xFF,
                _ => bytes = (0..cut % 512).map(|_| next().to_le_bytes()[0]).collect(),
            }
            let _ = decode_image(&bytes);
        }
    }

    #[test]
    fn a_blank_frame_has_no_code() {
        assert_eq!(
            decode_luma(64, 64, vec![255; 64 * 64]),
            Err(QrError::NoCode)
        );
    }

    #[test]
    fn not_an_image() {
        assert!(matches!(
            decode_image(b"hello"),
            Err(QrError::NotAnImage(_))
        ));
    }

    #[test]
    fn grey_frame_read() {
        let png = to_png("EC1R:HELLO", 4).unwrap();
        let grey = image::load_from_memory(&png).unwrap().to_luma8();
        let (w, h) = grey.dimensions();
        assert_eq!(decode_luma(w, h, grey.into_raw()).unwrap(), "EC1R:HELLO");
    }
}
