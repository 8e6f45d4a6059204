//! One failure type with its exit code, each tool's table of exit codes written once
//! ([`exit_codes!`](crate::exit_codes) and [`help_table`]), and the `main` of every tool.

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

/// One line of a tool's exit-code table: a code and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    /// The exit code.
    pub code: u8,
    /// What it means, as `--help` shows it; a `\n` starts a further line of it.
    pub meaning: &'static str,
}

/// A tool's exit-code table as its `--help` shows it: `Exit codes:`, then a line per code,
/// the code left-aligned in a column `width` characters wide and its meaning after it
/// (further lines of a meaning indented to the same column). No newline at the end.
pub fn help_table(codes: &[Code], width: usize) -> String {
    let indent = format!("\n{:1$}", "", width + 3);
    let mut text = String::from("Exit codes:");
    for c in codes {
        let code = c.code.to_string();
        text.push_str(&format!(
            "\n  {code:<width$} {}",
            c.meaning.replace('\n', &indent)
        ));
    }
    text
}

/// Declares a tool's exit codes once: a `u8` constant per code, with its documentation,
/// and the table of them all (a `&[Code]` constant) from which `--help` is written with
/// [`help_table`](crate::exit::help_table).
///
/// ```
/// ecert_shell::exit_codes! {
///     /// The table, for `--help`.
///     pub const CODES;
///     /// Done.
///     OK = 0: "done";
///     /// Anything else.
///     OTHER = 1: "failed: the message says why,\nand what to do";
/// }
/// assert_eq!(OTHER, 1);
/// assert_eq!(
///     ecert_shell::exit::help_table(CODES, 2),
///     "Exit codes:\n  0  done\n  1  failed: the message says why,\n     and what to do"
/// );
/// ```
#[macro_export]
macro_rules! exit_codes {
    (
        $(#[$table_attr:meta])*
        $vis:vis const $table:ident;
        $(
            $(#[$attr:meta])*
            $name:ident = $code:literal: $meaning:literal;
        )*
    ) => {
        $(
            $(#[$attr])*
            pub const $name: u8 = $code;
        )*
        $(#[$table_attr])*
        $vis const $table: &[$crate::exit::Code] = &[$(
            $crate::exit::Code {
                code: $name,
                meaning: $meaning,
            }
        ),*];
    };
}

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

    #[test]
    fn the_help_table_aligns_codes_and_indents_further_lines() {
        let codes = [
            Code {
                code: 0,
                meaning: "done",
            },
            Code {
                code: 12,
                meaning: "one line,\nanother",
            },
        ];
        assert_eq!(
            help_table(&codes, 3),
            "Exit codes:\n  0   done\n  12  one line,\n      another"
        );
        assert_eq!(help_table(&[], 2), "Exit codes:");
    }
}
