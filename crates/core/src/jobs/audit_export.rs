//! `audit export` (CLI) and the Audit screen's export: every record with its hash, written
//! beside the destination and renamed into place (a failed export never leaves a partial file
//! under the requested name), and recorded as AUDIT_EXPORTED.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::audit::{self, Actor, AuditEvent, AuditFilter, EventType, ExportFormat};
use crate::registry::Registry;
use crate::{Error, Result};

/// What an export wrote.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Exported {
    pub path: String,
    pub format: ExportFormat,
    pub events: u64,
}

/// Exports the whole log of `reg` to `path` as `actor`.
pub fn export(
    reg: &mut Registry,
    actor: &Actor,
    format: ExportFormat,
    path: &Path,
) -> Result<Exported> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Error::Invalid {
            code: "out_path_symlink",
            field: "out",
            message: format!(
                "{} is a symbolic link; give the path of a regular file",
                path.display()
            ),
        });
    }
    let events = write_file(reg, format, path)?;
    let shown = path.display().to_string();
    reg.write(|tx| {
        audit::append(
            tx,
            actor,
            &AuditEvent::new(EventType::AuditExported)
                .resource(format!("file/{shown}"))
                .details(serde_json::json!({ "format": format, "events": events })),
        )
    })?;
    Ok(Exported {
        path: shown,
        format,
        events,
    })
}

fn write_file(reg: &Registry, format: ExportFormat, path: &Path) -> Result<u64> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp =
        tempfile::NamedTempFile::new_in(&dir).map_err(|e| Error::io("created", &dir, e))?;
    let events = {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        let n = audit::export(&reg.db(), &AuditFilter::default(), format, &mut w)?;
        w.flush().map_err(|e| Error::io("written", path, e))?;
        n
    };
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io("written", path, e))?;
    tmp.persist(path)
        .map_err(|e| Error::io("written", path, e.error))?;
    Ok(events)
}
