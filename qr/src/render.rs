//! QR codes for people: terminal, PNG and SVG. Error correction level M, alphanumeric
//! mode (the QR string is base45, all of whose characters are alphanumeric-mode characters).

use image::{ImageEncoder, Luma};
use qrcode::render::{svg, unicode};
use qrcode::{EcLevel, QrCode};

use crate::QrError;

fn code(text: &str) -> Result<QrCode, QrError> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| QrError::TooLargeForQr(e.to_string()))
}

/// The QR code's version (1 to 40): how dense it is.
pub fn qr_version(text: &str) -> Result<i16, QrError> {
    match code(text)?.version() {
        qrcode::Version::Normal(v) | qrcode::Version::Micro(v) => Ok(v),
    }
}

/// The QR code drawn with Unicode half blocks, for a terminal.
pub fn to_terminal(text: &str) -> Result<String, QrError> {
    Ok(code(text)?
        .render::<unicode::Dense1x2>()
        .dark_color(unicode::Dense1x2::Light)
        .light_color(unicode::Dense1x2::Dark)
        .quiet_zone(true)
        .build())
}

/// The QR code as an SVG document.
pub fn to_svg(text: &str) -> Result<String, QrError> {
    Ok(code(text)?
        .render::<svg::Color<'_>>()
        .min_dimensions(400, 400)
        .quiet_zone(true)
        .build())
}

/// The QR code as a PNG image, `module_px` pixels per module, with the standard 4-module
/// quiet zone.
pub fn to_png(text: &str, module_px: u32) -> Result<Vec<u8>, QrError> {
    let img = code(text)?
        .render::<Luma<u8>>()
        .module_dimensions(module_px.max(1), module_px.max(1))
        .quiet_zone(true)
        .build();
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::L8,
        )
        .map_err(|e| QrError::TooLargeForQr(e.to_string()))?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(png: &[u8]) -> String {
        crate::scan::decode_image(png).unwrap()
    }

    #[test]
    fn png_is_read_back_by_a_standard_decoder() {
        let text = format!(
            "EC1R:{}",
            "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".repeat(20)
        );
        assert_eq!(scan(&to_png(&text, 3).unwrap()), text);
    }

    #[test]
    fn svg_and_terminal_renderings() {
        let text = "EC1R:BB8";
        assert!(to_svg(text).unwrap().starts_with("<?xml"));
        let term = to_terminal(text).unwrap();
        assert!(term.lines().count() > 10);
        assert_eq!(qr_version(text).unwrap(), 1);
    }

    #[test]
    fn too_long_for_any_qr_code() {
        let text = "A".repeat(5000);
        assert!(matches!(to_png(&text, 1), Err(QrError::TooLargeForQr(_))));
    }
}
