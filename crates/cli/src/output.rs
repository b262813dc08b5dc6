//! How results and errors reach the terminal: human text or one JSON document on stdout,
//! `error[CODE]: message` (or `{"error":{…}}`) on stderr, and the exit code of the contract.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use serde::Serialize;
use strongroom_core::Error;

pub const EXIT_FAILURE: u8 = 1;
pub const EXIT_VERIFY_FAILED: u8 = 4;
// --- usage refusals and CRITICAL health ---
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_CRITICAL: u8 = 3;

pub struct Output {
    json: bool,
}

impl Output {
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    /// Prints a result: `value` as JSON with --json, else the human text.
    pub fn result<T: Serialize>(&self, value: &T, human: impl FnOnce() -> String) {
        if self.json {
            match serde_json::to_string_pretty(value) {
                Ok(s) => println!("{s}"),
                Err(e) => eprintln!("error[internal]: could not encode the result: {e}"),
            }
        } else {
            println!("{}", human());
        }
    }

    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Prints a problem found by a check (`storage test`) in the error shape; exit 1.
    pub fn problem(&self, code: &str, message: &str) -> ExitCode {
        self.print_problem(code, message);
        ExitCode::from(EXIT_FAILURE)
    }

    /// Refuses a command used wrongly (exit 2), in the error's usual shape.
    pub fn usage(&self, code: &str, message: &str) -> ExitCode {
        self.print_problem(code, message);
        ExitCode::from(EXIT_USAGE)
    }

    fn print_problem(&self, code: &str, message: &str) {
        if self.json {
            let doc = serde_json::json!({ "error": { "code": code, "message": message } });
            eprintln!("{doc}");
        } else {
            eprintln!("error[{code}]: {message}");
        }
    }

    /// Prints an error in the contract's shape and returns the exit code it maps to.
    pub fn error(&self, e: &Error) -> ExitCode {
        if self.json {
            let doc = serde_json::json!({ "error": e.to_public() });
            eprintln!("{doc}");
        } else {
            eprintln!("error[{}]: {}", e.code(), e);
        }
        ExitCode::from(if e.is_verification_failure() {
            EXIT_VERIFY_FAILED
        } else {
            EXIT_FAILURE
        })
    }
}
