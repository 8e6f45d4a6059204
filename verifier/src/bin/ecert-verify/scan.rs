//! Where the QR string comes from: the command line, a keyboard-wedge scanner (one line on
//! standard input), or a photo of the code (PNG or JPEG, read with `ecert-qr`).

use std::io::{self, BufRead, IsTerminal, Read};
use std::path::Path;

use anyhow::{Context, Result};
use ecert_qr::QrError;
use ecert_schemas::codec::qr::MAX_QR_CHARS;

use crate::output;

/// Largest photo read (64 MiB).
const MAX_PHOTO_BYTES: u64 = 64 * 1024 * 1024;

/// The QR string: `arg` if given (`-` means standard input), else the photo at `image`,
/// else one line from standard input.
pub fn qr_string(arg: Option<String>, image: Option<&Path>) -> Result<String> {
    match (arg, image) {
        (Some(text), _) if text != "-" => Ok(text),
        (_, Some(path)) => from_image(path),
        _ => from_stdin(),
    }
}

/// One line from standard input, as a scanner types it, without its line ending. Spaces are
/// kept: a space is a valid character of the QR string.
fn from_stdin() -> Result<String> {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        output::note("Scan the citizen's QR code now (or type it and press Enter):\n");
    }
    // A line longer than any QR string is cut off here and then refused as unreadable.
    let limit = (MAX_QR_CHARS as u64).saturating_mul(4);
    let mut line = String::new();
    let read = stdin
        .lock()
        .take(limit)
        .read_line(&mut line)
        .map_err(|e| match e.kind() {
            io::ErrorKind::InvalidData => crate::exit::counter(
                "the scanner sent something that is not text: check the scanner's settings",
            ),
            _ => crate::exit::counter(format!("cannot read from the scanner: {e}")),
        })?;
    if read == 0 {
        return Err(crate::exit::counter(
            "nothing was scanned: scan the QR code, give it as an argument, or use --image FILE",
        )
        .into());
    }
    let trimmed = line
        .strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(&line);
    if trimmed.is_empty() {
        return Err(
            crate::exit::counter("the scanned line is empty: scan the QR code again").into(),
        );
    }
    Ok(trimmed.to_owned())
}

/// The text of the one QR code in a photo.
pub fn from_image(path: &Path) -> Result<String> {
    let shown = path.display();
    let bytes = ecert_shell::files::read_limited(path, MAX_PHOTO_BYTES)
        .with_context(|| format!("cannot open the photo {shown}"))?;
    ecert_qr::scan::decode_image(&bytes).map_err(|e| {
        let advice = match e {
            QrError::NoCode => format!(
                "no QR code found in the photo {shown}: take it again, sharp, with the whole \
                 code visible and not too small"
            ),
            QrError::Unreadable(why) => format!(
                "a QR code was found in the photo {shown} but could not be read ({why}): take \
                 it again, sharper and straighter"
            ),
            QrError::SeveralCodes(n) => format!(
                "{n} QR codes found in the photo {shown}: photograph only the citizen's code"
            ),
            other => format!("cannot read the photo {shown} as a PNG or JPEG image: {other}"),
        };
        crate::exit::counter(advice).into()
    })
}
