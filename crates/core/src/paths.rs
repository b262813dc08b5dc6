//! Where a station's state lives. Everything of one station is under its home: the registry,
//! local backups, the local document store, settings and logs. `--home`/`STRONGROOM_HOME`
//! override the OS data directory (tests always do).

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The folders of one station home.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// The home given explicitly, else `STRONGROOM_HOME`, else the OS data directory.
    pub fn resolve(explicit: Option<&Path>) -> Result<Self> {
        if let Some(p) = explicit {
            return Ok(Self::at(p));
        }
        if let Some(p) = std::env::var_os("STRONGROOM_HOME").filter(|v| !v.is_empty()) {
            return Ok(Self::at(PathBuf::from(p)));
        }
        let dirs =
            directories::ProjectDirs::from("org", "Strongroom", "Strongroom").ok_or_else(|| {
                Error::Config {
                    message: "no data directory is known for this user; pass --home DIR".into(),
                }
            })?;
        Ok(Self::at(dirs.data_dir()))
    }

    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn registry(&self) -> PathBuf {
        self.root.join("registry.sqlite3")
    }
    pub fn settings(&self) -> PathBuf {
        self.root.join("settings.toml")
    }
    pub fn station_file(&self) -> PathBuf {
        self.root.join("station.json")
    }
    pub fn backups_dir(&self) -> PathBuf {
        self.root.join("backups")
    }
    pub fn documents_dir(&self) -> PathBuf {
        self.root.join("documents")
    }
    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }
    /// Scratch space on the same filesystem as the registry, so renames are atomic.
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }
    pub fn lock_file(&self) -> PathBuf {
        self.root.join("job.lock")
    }

    /// Creates the home and its folders (owner-only permissions on Unix).
    pub fn create_dirs(&self) -> Result<()> {
        for dir in [
            self.root.clone(),
            self.backups_dir(),
            self.documents_dir(),
            self.logs_dir(),
            self.tmp_dir(),
        ] {
            std::fs::create_dir_all(&dir).map_err(|e| Error::io("created", &dir, e))?;
            restrict_to_owner(&dir)?;
        }
        Ok(())
    }
}

#[cfg(unix)]
fn restrict_to_owner(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| Error::io("restricted", dir, e))
}

#[cfg(not(unix))]
fn restrict_to_owner(_dir: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_home_wins() {
        let h = Home::resolve(Some(Path::new("/tmp/x"))).unwrap();
        assert_eq!(h.registry(), Path::new("/tmp/x/registry.sqlite3"));
    }

    #[test]
    fn create_dirs_makes_every_folder() {
        let t = tempfile::tempdir().unwrap();
        let h = Home::at(t.path().join("home"));
        h.create_dirs().unwrap();
        for d in [
            h.backups_dir(),
            h.documents_dir(),
            h.logs_dir(),
            h.tmp_dir(),
        ] {
            assert!(d.is_dir(), "{}", d.display());
        }
    }
}
