//! `strongroom doc add|get`: case documents in the documents store.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use strongroom_core::jobs::{self, Context};
use strongroom_core::paths::Home;
use strongroom_core::progress::Cancel;
use strongroom_core::registry::documents::Document;
use strongroom_core::Result;

use crate::output::Output;
use crate::progress::StderrProgress;

#[derive(Subcommand, Debug)]
pub enum DocCommand {
    /// Uploads files as documents of a case (prints the documents).
    Add {
        /// The case number, e.g. 2026-000123.
        #[arg(long)]
        case: String,
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Downloads a document and checks its SHA-256 (exit 4 when it does not match); with
    /// `--case`, every document of the case into the folder `--out`.
    Get {
        #[arg(required_unless_present = "case", conflicts_with = "case")]
        id: Option<i64>,
        /// Download all documents of this case (`--out` is then a folder).
        #[arg(long)]
        case: Option<String>,
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
    },
}

fn line(d: &Document) -> String {
    format!(
        "#{}  case {}  {}  {} bytes  {}  sha256 {}",
        d.id,
        d.case,
        d.name.escape_debug(),
        d.size,
        d.media_type,
        d.sha256
    )
}

pub fn run(home: &Home, out: &Output, command: DocCommand) -> Result<ExitCode> {
    let ctx = Context::open(home, "cli", std::env::var("STRONGROOM_OFFICER").ok())?;
    let progress = StderrProgress::new(out.is_json());
    match command {
        DocCommand::Add { case, files } => {
            let docs = jobs::documents::add(&ctx, &case, &files, &progress, &Cancel::new())?;
            // Each document carries the contract's id, case, name, size, sha256 and key.
            out.result(&docs, || {
                docs.iter().map(line).collect::<Vec<_>>().join("\n")
            });
        }
        DocCommand::Get {
            case: Some(case),
            out: dir,
            ..
        } => {
            let docs = jobs::documents::get_case(&ctx, &case, &dir, &progress)?;
            out.result(&docs, || {
                let mut lines: Vec<String> = docs
                    .iter()
                    .map(|d| format!("{}\n  written to {}", line(&d.document), d.path.display()))
                    .collect();
                lines.push(format!(
                    "{} documents of case {case} written to {} (SHA-256 of each checked)",
                    docs.len(),
                    dir.display()
                ));
                lines.join("\n")
            });
        }
        DocCommand::Get {
            id,
            case: None,
            out: path,
        } => {
            // clap requires an id when --case is absent.
            let id = id.ok_or_else(|| strongroom_core::Error::Invalid {
                code: "document_id_required",
                field: "id",
                message: "give a document id, or --case to download all of a case".into(),
            })?;
            let doc = jobs::documents::get(&ctx, id, &path, &progress)?;
            out.result(&doc, || {
                format!(
                    "{}\nwritten to {} (SHA-256 checked)",
                    line(&doc),
                    path.display()
                )
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}
