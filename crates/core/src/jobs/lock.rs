//! One job at a time per station home: an exclusive advisory lock on `<home>/job.lock`, held
//! for the life of a [`JobLock`]. The OS releases it when the process dies, so a crash never
//! leaves the home locked.

use std::fs::{File, OpenOptions};

use fs4::fs_std::FileExt;

use crate::paths::Home;
use crate::{Error, Result};

#[derive(Debug)]
pub struct JobLock {
    _file: File,
}

impl JobLock {
    /// Takes the lock, or fails at once with [`Error::Busy`] when another job holds it.
    pub fn acquire(home: &Home) -> Result<Self> {
        let path = home.lock_file();
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io("opened", &path, e))?;
        match file.try_lock_exclusive() {
            Ok(true) => Ok(Self { _file: file }),
            Ok(false) => Err(Error::Busy),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Err(Error::Busy),
            Err(e) => Err(Error::io("locked", &path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_job_on_the_same_home_is_busy_until_the_first_ends() {
        let t = tempfile::tempdir().unwrap();
        let home = Home::at(t.path());
        let first = JobLock::acquire(&home).unwrap();
        assert_eq!(JobLock::acquire(&home).unwrap_err().code(), "busy");
        drop(first);
        JobLock::acquire(&home).expect("free again after the first job ended");
    }
}
