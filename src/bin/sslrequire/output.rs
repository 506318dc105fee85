//! Standard output that ends quietly when its reader has gone
//! (`sslrequire audit … | head`), as Unix tools do: `println!` would panic.

use std::fmt;
use std::io::{self, Write};

/// Writes `args` to standard output and flushes. A closed pipe ends the
/// process quietly with status 0; any other write error ends it with
/// status 2 and a message.
pub fn write(args: fmt::Arguments<'_>) {
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        exit_on(&e);
    }
}

/// Ends the process for a failed write to standard output.
pub fn exit_on(e: &io::Error) -> ! {
    if e.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("error: writing output: {e}");
    std::process::exit(2);
}

/// `print!` through [`write`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::write(format_args!($($arg)*)) };
}

/// `println!` through [`write`].
macro_rules! outln {
    ($($arg:tt)*) => { $crate::output::write(format_args!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {out, outln};
