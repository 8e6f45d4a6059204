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

/// Where the codes come from: one given as an argument or a photo, or a scanner typing
/// one code a line on standard input.
pub enum Source {
    /// One code: the argument's text or the photo's.
    One(String),
    /// A keyboard-wedge scanner: code after code until the end of input.
    Scanner(Scanner),
}

/// The source of `verify`: `arg` if given (`-` means the scanner), else the photo at
/// `image`, else the scanner.
pub fn source(arg: Option<String>, image: Option<&Path>) -> Result<Source> {
    match (arg, image) {
        (Some(text), _) if text != "-" => Ok(Source::One(text)),
        (_, Some(path)) => from_image(path).map(Source::One),
        _ => Ok(Source::Scanner(Scanner::new())),
    }
}

/// A keyboard-wedge scanner on standard input: each scan is one line.
pub struct Scanner {
    input: io::StdinLock<'static>,
    interactive: bool,
    scanned: u64,
}

impl Scanner {
    fn new() -> Scanner {
        let stdin = io::stdin();
        Scanner {
            interactive: stdin.is_terminal(),
            input: stdin.lock(),
            scanned: 0,
        }
    }

    /// The next scanned code, without its line ending (spaces are kept: a space is a
    /// valid character of the QR string); empty lines are skipped. `None` at the end of
    /// input; an error if the input ended before any code was scanned.
    pub fn next_code(&mut self) -> Result<Option<String>> {
        // A line longer than any QR string is cut off here and then refused as unreadable.
        let limit = (MAX_QR_CHARS as u64).saturating_mul(4);
        loop {
            if self.interactive {
                output::note(if self.scanned == 0 {
                    "Scan the citizen's QR code now (or type it and press Enter; Ctrl-D to stop):\n"
                } else {
                    "Scan the next QR code (Ctrl-D to stop):\n"
                });
            }
            let mut line = String::new();
            let read = (&mut self.input)
                .take(limit)
                .read_line(&mut line)
                .map_err(|e| match e.kind() {
                    io::ErrorKind::InvalidData => crate::exit::counter(
                        "the scanner sent something that is not text: check the scanner's \
                         settings",
                    ),
                    _ => crate::exit::counter(format!("cannot read from the scanner: {e}")),
                })?;
            if read == 0 {
                if self.scanned == 0 {
                    return Err(crate::exit::counter(
                        "nothing was scanned: scan the QR code, give it as an argument, or use \
                         --image FILE",
                    )
                    .into());
                }
                return Ok(None);
            }
            if !line.ends_with('\n') && read as u64 == limit {
                // Too long for a code: drop the rest of the line, let the check refuse it.
                let _ = self.input.skip_until(b'\n');
            }
            let code = line
                .strip_suffix('\n')
                .map(|l| l.strip_suffix('\r').unwrap_or(l))
                .unwrap_or(&line);
            if code.is_empty() {
                continue;
            }
            self.scanned += 1;
            return Ok(Some(code.to_owned()));
        }
    }
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
