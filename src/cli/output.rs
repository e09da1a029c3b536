//! Where every command's output goes: one report type per command, rendered
//! for people (text, coloured on a terminal) or as one JSON document.
//! Data goes to stdout, diagnostics to stderr.

use crate::error::{Check, Error};
use serde::Serialize;
use std::io::{self, IsTerminal, Write};

/// The version of every JSON document's shape: raised when a field changes
/// meaning or goes away (adding a field does not).
pub const SCHEMA_VERSION: u32 = 1;

/// What a command prints on success.
pub trait Report: Serialize {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()>;
}

#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
    pub style: Style,
    /// `-q`: nothing on stdout for a success in text mode.
    pub quiet: bool,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl Output {
    pub fn new(json: bool, choice: ColorChoice, quiet: bool) -> Output {
        let auto = io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::env::var("TERM").map_or(true, |t| t != "dumb");
        let color = !json
            && match choice {
                ColorChoice::Auto => auto,
                ColorChoice::Always => true,
                ColorChoice::Never => false,
            };
        Output { json, style: Style { color }, quiet }
    }

    /// Prints a report. A closed pipe (`draft list | head`) is not an error.
    pub fn print(&self, report: &impl Report) -> io::Result<()> {
        let stdout = io::stdout();
        let mut out = stdout.lock();
        let result = if self.json {
            let mut value = serde_json::to_value(report).map_err(io::Error::from)?;
            if let Some(object) = value.as_object_mut() {
                object.insert("schema_version".into(), SCHEMA_VERSION.into());
            }
            serde_json::to_writer_pretty(&mut out, &value).map_err(io::Error::from).and_then(|()| writeln!(out))
        } else if self.quiet {
            Ok(())
        } else {
            report.human(&mut out, &self.style)
        };
        ignore_broken_pipe(result.and_then(|()| out.flush()))
    }

    /// Reports an error: JSON on stdout with `--json`, else text on stderr.
    pub fn error(&self, error: &Error) {
        if self.json {
            let doc = serde_json::json!({ "schema_version": SCHEMA_VERSION, "error": {
                "code": error.code,
                "message": error.message,
                "hint": error.hint,
                "checks": error.checks,
            }});
            let _ = ignore_broken_pipe(writeln!(
                io::stdout(),
                "{}",
                serde_json::to_string_pretty(&doc).expect("plain data")
            ));
            return;
        }
        let style = Style { color: io::stderr().is_terminal() && self.style.color_allowed_by_env() };
        let mut err = io::stderr().lock();
        let _ = writeln!(err, "{}: {}", style.red(&format!("error[{}]", error.code)), error.message);
        let _ = write_checks(&mut err, &style, &error.checks);
        if let Some(hint) = &error.hint {
            let _ = writeln!(err, "{} {hint}", style.bold("hint:"));
        }
    }
}

/// The list of checks, failed ones marked, as validate and refusals print it.
pub fn write_checks(out: &mut dyn Write, style: &Style, checks: &[Check]) -> io::Result<()> {
    for check in checks {
        let mark = if check.ok { style.green("ok  ") } else { style.red("FAIL") };
        writeln!(out, "  {mark} {:<20} {}", check.code.as_str(), check.message)?;
    }
    Ok(())
}

fn ignore_broken_pipe(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// ANSI colour, on only when it was asked for by circumstance.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn color_allowed_by_env(&self) -> bool {
        std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::env::var("TERM").map_or(true, |t| t != "dumb")
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    }

    pub fn red(&self, text: &str) -> String {
        self.paint("31", text)
    }

    pub fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }

    pub fn yellow(&self, text: &str) -> String {
        self.paint("33", text)
    }

    pub fn cyan(&self, text: &str) -> String {
        self.paint("36", text)
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }
}
