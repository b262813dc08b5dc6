//! Reading the recovery passphrase: from stdin with `--passphrase-stdin` (first line), or typed
//! on a terminal with echo off. Never from an argument (it would show in the process list).
#![allow(clippy::print_stderr)]

use std::io::{BufRead, IsTerminal};

use strongroom_core::secrets::Sensitive;
use strongroom_core::{Error, Result};

pub fn read(from_stdin: bool, prompt: &str) -> Result<Sensitive<String>> {
    read_hidden(from_stdin, prompt, || {
        Error::Invalid {
        code: "passphrase_required",
        field: "passphrase",
        message: "the recovery passphrase is needed: type it on a terminal, or pipe it in with --passphrase-stdin".into(),
    }
    })
}

/// A cloud secret, the same way: stdin with `--stdin`, else typed with echo off.
pub fn read_secret(from_stdin: bool, name: &str) -> Result<Sensitive<String>> {
    read_hidden(from_stdin, name, || Error::Invalid {
        code: "secret_required",
        field: "value",
        message: format!(
            "the value of {name} is needed: type it on a terminal, or pipe it in with --stdin"
        ),
    })
}

fn read_hidden(
    from_stdin: bool,
    prompt: &str,
    missing: impl FnOnce() -> Error,
) -> Result<Sensitive<String>> {
    let stdin = std::io::stdin();
    if !from_stdin && !stdin.is_terminal() {
        return Err(missing());
    }
    let echo_off = !from_stdin && set_echo(false);
    if !from_stdin {
        eprint!("{prompt}: ");
    }
    let mut line = String::new();
    let r = stdin.lock().read_line(&mut line);
    if echo_off {
        set_echo(true);
        eprintln!();
    }
    r.map_err(|e| Error::io("read", "standard input", e))?;
    while line.ends_with('\n') || line.ends_with('\r') {
        line.pop();
    }
    Ok(Sensitive::new(line))
}

#[cfg(unix)]
fn set_echo(on: bool) -> bool {
    std::process::Command::new("stty")
        .arg(if on { "echo" } else { "-echo" })
        .stdin(std::process::Stdio::inherit())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(not(unix))]
fn set_echo(_on: bool) -> bool {
    false
}
