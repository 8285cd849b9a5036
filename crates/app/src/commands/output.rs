//! Standard output of the subcommands. `println!` panics when the reader has gone away (exit
//! 101 and a panic message for `wildid keys generate | head -1`); here a closed pipe ends the
//! command quietly with status 0, as for other command-line tools, and any other write error is
//! reported once, with status 2.

use std::io::{ErrorKind, Write};

/// Writes `args` to standard output and flushes it.
pub fn write(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let Err(error) = out.write_fmt(args).and_then(|()| out.flush()) else {
        return;
    };
    if error.kind() == ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    #[allow(clippy::print_stderr, reason = "the error of the output itself")]
    {
        eprintln!("error: cannot write the output: {error}");
    }
    std::process::exit(2);
}
