//! Terminal colour: only when the stream is a terminal and NO_COLOR is
//! unset (https://no-color.org).

use std::io::IsTerminal;

#[derive(Clone, Copy)]
pub struct Style {
    on: bool,
}

impl Style {
    fn new(is_tty: bool) -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            on: is_tty && !no_color,
        }
    }

    pub fn stdout() -> Style {
        Style::new(std::io::stdout().is_terminal())
    }

    pub fn stderr() -> Style {
        Style::new(std::io::stderr().is_terminal())
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    pub fn red(&self, s: &str) -> String {
        self.paint("31", s)
    }

    pub fn green(&self, s: &str) -> String {
        self.paint("32", s)
    }

    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }

    pub fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }

    /// An error message: its `error[…]` line in red.
    pub fn error(&self, s: &str) -> String {
        s.lines()
            .map(|l| {
                if l.starts_with("error") {
                    self.red(l)
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A caret diagnostic: carets and the error line in red.
    pub fn diagnostic(&self, s: &str) -> String {
        s.lines()
            .map(|l| {
                if l.starts_with("error")
                    || (l.trim_start().starts_with('^') && l.trim().chars().all(|c| c == '^'))
                {
                    self.red(l)
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}
