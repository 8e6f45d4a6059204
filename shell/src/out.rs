//! Standard output that survives a closed pipe.
//!
//! `println!` panics when the reader of a pipe has gone (`ecert-testnet status | head
//! -1`). [`outln!`] and [`out!`] write the same text, and when standard output is a
//! closed pipe they end the program quietly with exit code 0, as a Unix tool killed by
//! `SIGPIPE` would; any other write error ends it with exit code 1 and a message.

use std::fmt;
use std::io::{self, Write};

/// Writes formatted text to standard output; see the module documentation.
pub fn write_fmt(args: fmt::Arguments<'_>) {
    let mut stdout = io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        closed(&e);
    }
}

fn closed(e: &io::Error) -> ! {
    if e.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("error: cannot write to standard output: {e}");
    std::process::exit(1)
}

/// Like `println!`, but a closed pipe ends the program quietly instead of panicking.
#[macro_export]
macro_rules! outln {
    () => {
        $crate::out::write_fmt(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::out::write_fmt(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Like `print!`, but a closed pipe ends the program quietly instead of panicking.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::out::write_fmt(format_args!($($arg)*))
    };
}
