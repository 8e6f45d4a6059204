//! One failure type with its exit code, and the `main` of every tool.

use std::fmt;
use std::process::ExitCode;

use clap::Parser;

/// An error that ends a tool with a chosen exit code. Each tool keeps its own fixed table
/// of codes; this type carries one of them with the message for the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The exit code.
    pub code: u8,
    /// What went wrong and what to do, in plain words.
    pub message: String,
}

impl Failure {
    /// A failure with exit code `code`.
    pub fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// The code of the first [`Failure`] in the chain of causes of `error`, if any.
pub fn failure_code(error: &anyhow::Error) -> Option<u8> {
    error
        .chain()
        .find_map(|cause| cause.downcast_ref::<Failure>())
        .map(|f| f.code)
}

/// The `main` of a tool: parses the command line (help and version to standard output
/// with exit code 0, usage errors to standard error with `usage_code`), runs `command`,
/// and prints an error as `error: …` with the code `code_for` gives it.
pub fn run<C: Parser>(
    usage_code: u8,
    command: impl FnOnce(C) -> anyhow::Result<()>,
    code_for: impl FnOnce(&anyhow::Error) -> u8,
) -> ExitCode {
    let cli = match C::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { usage_code } else { 0 });
        }
    };
    match command(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(code_for(&e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_failure_code_is_found_in_the_chain() {
        let e = anyhow::Error::new(Failure::new(7, "bad")).context("while doing it");
        assert_eq!(failure_code(&e), Some(7));
        assert_eq!(failure_code(&anyhow::anyhow!("plain")), None);
        assert_eq!(Failure::new(3, "x").to_string(), "x");
    }
}
