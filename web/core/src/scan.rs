//! QR codes from a camera: a canvas frame's RGBA pixels made grey and read with
//! `ecert_qr::scan::decode_luma`; and QR codes drawn as SVG.

use ecert_qr::{render, scan};

use crate::WebError;

/// The grey picture of `width × height` RGBA pixels (4 bytes a pixel, row by row, as
/// `CanvasRenderingContext2D.getImageData` gives them): ITU-R BT.601 luma, alpha ignored.
pub fn rgba_to_grey(rgba: &[u8], width: u32, height: u32) -> Result<Vec<u8>, WebError> {
    let pixels = usize::try_from(u64::from(width) * u64::from(height)).ok();
    let expected = pixels.and_then(|p| p.checked_mul(4));
    if expected != Some(rgba.len()) || pixels == Some(0) {
        return Err(WebError::BadArgument(format!(
            "a {width}×{height} RGBA frame (4 bytes a pixel) cannot have {} bytes",
            rgba.len()
        )));
    }
    Ok(rgba
        .chunks_exact(4)
        .map(|px| match *px {
            [r, g, b, _] => {
                ((77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b) + 128) >> 8) as u8
            }
            _ => 0,
        })
        .collect())
}

/// The text of the one QR code in a camera frame of RGBA pixels.
pub fn decode_rgba(rgba: &[u8], width: u32, height: u32) -> Result<String, WebError> {
    let grey = rgba_to_grey(rgba, width, height)?;
    Ok(scan::decode_luma(width, height, grey)?)
}

/// Any text (a QR string, a wallet ID) as a QR code in an SVG document.
pub fn qr_svg(text: &str) -> Result<String, WebError> {
    Ok(render::to_svg(text)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grey_levels() {
        let rgba = [
            0, 0, 0, 255, 255, 255, 255, 0, 255, 0, 0, 255, 0, 0, 255, 255,
        ];
        assert_eq!(rgba_to_grey(&rgba, 2, 2).unwrap(), [0, 255, 77, 29]);
        for (w, h, len) in [(2, 2, 15), (0, 0, 0), (u32::MAX, u32::MAX, 16)] {
            let err = rgba_to_grey(&vec![0; len], w, h).unwrap_err();
            assert_eq!(err.code(), "bad-argument");
        }
    }

    #[test]
    fn a_drawn_code_is_read_back_from_rgba() {
        let svg = qr_svg("EC1R:HELLO").unwrap();
        assert!(svg.contains("<svg"));
        // A canvas frame: the code drawn as RGBA, tinted, on a wider background.
        let png = render::to_png("EC1R:HELLO", 4).unwrap();
        let code = image::load_from_memory(&png).unwrap().to_luma8();
        let (w, h) = (code.width() + 40, code.height() + 20);
        let mut rgba = Vec::with_capacity((w * h * 4) as usize);
        for y in 0..h {
            for x in 0..w {
                let v = if (20..20 + code.width()).contains(&x)
                    && (10..10 + code.height()).contains(&y)
                {
                    code.get_pixel(x - 20, y - 10).0[0]
                } else {
                    255
                };
                rgba.extend_from_slice(&[v, v.saturating_sub(10), v / 2 + 100, 255]);
            }
        }
        assert_eq!(decode_rgba(&rgba, w, h).unwrap(), "EC1R:HELLO");
        assert_eq!(
            decode_rgba(&vec![255; 64 * 64 * 4], 64, 64)
                .unwrap_err()
                .code(),
            "qr-not-found"
        );
    }
}
