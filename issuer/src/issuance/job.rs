//! The job: what one `issue` command was asked to do, kept in `issuing/job.json` until it
//! is finished so that an interrupted command can be finished by the next one. It names
//! the input file and its SHA-256 (the file is read again, never copied: no claim value
//! is kept here), the validity, the number of one-time copies per certificate, where
//! packages and offers go, and how many rows are signed into spooled batches.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use ecert_schemas::copy::{DEFAULT_COPIES, MAX_COPIES};
use ecert_schemas::{Hash32, Kind, KindId, PublicKeyBytes};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::IssuanceError;
use crate::claims_input::{
    parse_claims_file, ClaimsFormat, CsvRows, InputError, InputProblem, InputRow, MAX_REPORTED,
};

/// Version of the job file: 2 since certificates are issued as one-time copies (a job
/// of version 1, with no `copies`, is finished with [`DEFAULT_COPIES`]).
pub const JOB_VERSION: u32 = 2;
/// Largest claims file (one certificate) read.
const MAX_CLAIMS_BYTES: u64 = 1024 * 1024;

/// Where the certificates' details come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Input {
    /// A CSV file, one certificate per row.
    Csv {
        /// The file, as given.
        path: PathBuf,
        /// SHA-256 of its bytes, hex.
        sha256: String,
    },
    /// One certificate's claims file (JSON or TOML) and its holder.
    Claims {
        /// The file, as given.
        path: PathBuf,
        /// SHA-256 of its bytes, hex.
        sha256: String,
        /// The holder's wallet ID, hex.
        holder: String,
    },
    /// Wallets' refill requests for new copies of certificates of the kind, as checked by
    /// `ecert-issuer refill` (a CBOR array of the requests' bytes, in the home).
    Refills {
        /// The file.
        path: PathBuf,
        /// SHA-256 of its bytes, hex.
        sha256: String,
    },
}

/// One `issue` command's work.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    /// [`JOB_VERSION`].
    pub version: u32,
    /// The kind issued.
    pub kind: KindId,
    /// The input.
    pub input: Input,
    /// The folder relative paths are taken from.
    pub cwd: PathBuf,
    /// When the certificates are signed (seconds since 1970).
    pub issued_at: u64,
    /// Start of validity.
    pub valid_from: u64,
    /// End of validity.
    pub expires: u64,
    /// The one package file (`--out`).
    #[serde(default)]
    pub out: Option<PathBuf>,
    /// The folder of the package files (`--out-dir`, or `.` when neither it nor offers
    /// were asked for); `None`: no files.
    #[serde(default)]
    pub out_dir: Option<PathBuf>,
    /// The offer endpoint's address, when offers are made.
    #[serde(default)]
    pub offer_url: Option<String>,
    /// Rows in the input.
    pub total: u64,
    /// Rows signed into spooled (or delivered) batches.
    pub signed: u64,
    /// Most certificates in one anchor batch.
    pub batch_size: u64,
    /// One-time copies per certificate (1 to [`MAX_COPIES`]).
    #[serde(default = "default_copies")]
    pub copies: u16,
}

fn default_copies() -> u16 {
    DEFAULT_COPIES
}

/// `copies` as a number of one-time copies per certificate (1 to [`MAX_COPIES`]), or
/// what is wrong with it, in words for the operator.
pub fn check_copies(copies: u64) -> Result<u16, String> {
    u16::try_from(copies)
        .ok()
        .filter(|n| (1..=MAX_COPIES).contains(&usize::from(*n)))
        .ok_or_else(|| {
            format!(
                "a certificate is issued as 1 to {MAX_COPIES} one-time copies (default \
                 {DEFAULT_COPIES}), not {copies}"
            )
        })
}

impl Job {
    /// `path` taken from the job's folder when relative.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_owned()
        } else {
            self.cwd.join(path)
        }
    }

    /// The package file of the certificate of spreadsheet row `row` (`None` for a single
    /// claims file) for `holder`, as given (relative to [`Job::cwd`]); `None`: no file.
    pub fn package_path(&self, row: Option<u64>, holder: &PublicKeyBytes) -> Option<PathBuf> {
        if let Some(out) = &self.out {
            return Some(out.clone());
        }
        let dir = self.out_dir.as_ref()?;
        Some(dir.join(package_name(&self.kind, row, holder)))
    }

    /// The input file, resolved.
    pub fn input_path(&self) -> PathBuf {
        match &self.input {
            Input::Csv { path, .. } | Input::Claims { path, .. } | Input::Refills { path, .. } => {
                self.resolve(path)
            }
        }
    }
}

/// The name of a package file: `row0002-3b6a27bc.ecp` (CSV) or `KIND-3b6a27bc.ecp`.
pub fn package_name(kind: &KindId, row: Option<u64>, holder: &PublicKeyBytes) -> String {
    let holder: String = holder.to_hex().chars().take(8).collect();
    match row {
        Some(row) => format!("row{row:04}-{holder}.ecp"),
        None => format!("{kind}-{holder}.ecp"),
    }
}

/// A reader that hashes what is read through it.
struct Hashing<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(buf.get(..n).unwrap_or_default());
        Ok(n)
    }
}

fn open(path: &Path) -> Result<File, IssuanceError> {
    File::open(path).map_err(|e| IssuanceError::Read {
        path: path.to_owned(),
        source: e,
    })
}

/// SHA-256 of a file's bytes, hex.
pub fn file_sha256(path: &Path) -> Result<String, IssuanceError> {
    let mut reader = Hashing {
        inner: BufReader::with_capacity(1 << 20, open(path)?),
        hash: Sha256::new(),
    };
    io::copy(&mut reader, &mut io::sink()).map_err(|e| IssuanceError::Read {
        path: path.to_owned(),
        source: e,
    })?;
    Ok(Hash32(reader.hash.finalize().into()).to_hex())
}

/// What the check of a CSV file found: its rows and fingerprint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Survey {
    /// Certificate rows.
    pub rows: u64,
    /// SHA-256 of the file, hex.
    pub sha256: String,
}

/// Reads the whole CSV file once, row by row, checking every row against `kind` and
/// calling `each` with it (to check, for example, that its package file does not exist
/// yet); nothing is kept. Every problem is reported (up to [`MAX_REPORTED`]).
pub fn survey_csv(
    kind: &Kind,
    path: &Path,
    mut each: impl FnMut(&InputRow) -> Result<(), InputProblem>,
) -> Result<Survey, IssuanceError> {
    let mut reader = Hashing {
        inner: BufReader::with_capacity(1 << 20, open(path)?),
        hash: Sha256::new(),
    };
    let mut rows = 0u64;
    let mut problems = Vec::new();
    let mut truncated = false;
    {
        for row in CsvRows::new(kind, &mut reader)? {
            if problems.len() >= MAX_REPORTED {
                truncated = true;
                break;
            }
            match row {
                Ok(row) => {
                    rows += 1;
                    if let Err(p) = each(&row) {
                        problems.push(p);
                    }
                }
                Err(p) => problems.extend(p),
            }
        }
    }
    InputError::check(problems, truncated)?;
    if rows == 0 {
        return Err(InputError::one(
            None,
            None,
            "the file has no certificate rows below its header",
        )
        .into());
    }
    io::copy(&mut reader, &mut io::sink()).map_err(|e| IssuanceError::Read {
        path: path.to_owned(),
        source: e,
    })?;
    Ok(Survey {
        rows,
        sha256: Hash32(reader.hash.finalize().into()).to_hex(),
    })
}

/// The rows of a job's input from row `skip` (0-based) on.
pub(crate) enum Rows<'k> {
    /// A CSV file.
    Csv(CsvRows<'k, BufReader<File>>),
    /// One claims file's row, until taken.
    One(Option<InputRow>),
    /// Refill requests' rows.
    Refills(std::vec::IntoIter<InputRow>),
}

impl Iterator for Rows<'_> {
    type Item = Result<InputRow, IssuanceError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Rows::Csv(rows) => rows.next().map(|r| {
                r.map_err(|problems| {
                    InputError {
                        problems,
                        truncated: false,
                    }
                    .into()
                })
            }),
            Rows::One(row) => row.take().map(Ok),
            Rows::Refills(rows) => rows.next().map(Ok),
        }
    }
}

/// Opens the job's input again, checks that it is the file the job was started with,
/// and skips the `skip` rows already signed.
pub(crate) fn open_rows<'k>(
    job: &Job,
    kind: &'k Kind,
    skip: u64,
) -> Result<Rows<'k>, IssuanceError> {
    let path = job.input_path();
    let (expected, holder) = match &job.input {
        Input::Csv { sha256, .. } => (sha256, None),
        Input::Claims { sha256, holder, .. } => (sha256, Some(holder)),
        Input::Refills { sha256, .. } => {
            if skip >= job.total {
                return Ok(Rows::Refills(Vec::new().into_iter()));
            }
            let bytes = ecert_shell::files::read_limited(&path, crate::refill::MAX_QUEUE_BYTES)?;
            if &Hash32(Sha256::digest(&bytes).into()).to_hex() != sha256 {
                return Err(IssuanceError::InputChanged(path));
            }
            let rows =
                crate::refill::rows_of(kind, &bytes, ecert_schemas::UnixTime(job.issued_at))?;
            let skip = usize::try_from(skip).unwrap_or(usize::MAX);
            return Ok(Rows::Refills(
                rows.into_iter().skip(skip).collect::<Vec<_>>().into_iter(),
            ));
        }
    };
    if skip < job.total && &file_sha256(&path)? != expected {
        return Err(IssuanceError::InputChanged(path));
    }
    match holder {
        None => {
            let mut rows = CsvRows::new(kind, BufReader::with_capacity(1 << 20, open(&path)?))?;
            for _ in 0..skip {
                if rows.next().is_none() {
                    break;
                }
            }
            Ok(Rows::Csv(rows))
        }
        Some(_) if skip > 0 => Ok(Rows::One(None)),
        Some(holder) => {
            let holder = PublicKeyBytes::from_hex(holder)
                .map_err(|_| IssuanceError::InputChanged(path.clone()))?;
            let row = read_claims_row(kind, &path, holder)?;
            Ok(Rows::One(Some(row)))
        }
    }
}

/// One certificate's row from a claims file.
pub fn read_claims_row(
    kind: &Kind,
    path: &Path,
    holder: PublicKeyBytes,
) -> Result<InputRow, IssuanceError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let format = ClaimsFormat::of_file_name(&name).ok_or_else(|| {
        InputError::one(
            None,
            None,
            format!(
                "{}: a claims file must end in .json or .toml",
                path.display()
            ),
        )
    })?;
    let bytes = ecert_shell::files::read_limited(path, MAX_CLAIMS_BYTES)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        InputError::one(None, None, format!("{} is not UTF-8 text", path.display()))
    })?;
    let claims = parse_claims_file(kind, format, text.trim_start_matches('\u{feff}'))?;
    Ok(InputRow {
        row: None,
        holder,
        claims,
        refill: None,
    })
}

/// The names in `dir` (empty if it does not exist), to check new package names against
/// without one look-up per row.
pub fn names_in(dir: &Path) -> Result<HashSet<OsString>, IssuanceError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => {
            return Err(IssuanceError::Read {
                path: dir.to_owned(),
                source: e,
            })
        }
    };
    let mut names = HashSet::new();
    for entry in entries {
        let entry = entry.map_err(|e| IssuanceError::Read {
            path: dir.to_owned(),
            source: e,
        })?;
        names.insert(entry.file_name());
    }
    Ok(names)
}
