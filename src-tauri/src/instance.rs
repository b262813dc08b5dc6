//! One app per station home: an exclusive lock on `<home>/app/instance.lock` for the life of
//! the process (the OS drops it when the process dies, so a crash never blocks the next start).

use std::fs::{File, OpenOptions};

use fs4::fs_std::FileExt;
use strongroom_core::paths::Home;
use strongroom_core::{Error, Result};

pub struct Instance {
    _file: File,
}

impl Instance {
    pub fn claim(home: &Home) -> Result<Self> {
        let dir = home.root().join("app");
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("created", &dir, e))?;
        let path = dir.join("instance.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io("opened", &path, e))?;
        match file.try_lock_exclusive() {
            Ok(true) => Ok(Self { _file: file }),
            Ok(false) => Err(already_running(home)),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Err(already_running(home)),
            Err(e) => Err(Error::io("locked", &path, e)),
        }
    }
}

fn already_running(home: &Home) -> Error {
    Error::Invalid {
        code: "app_already_running",
        field: "home",
        message: format!(
            "Strongroom is already open for {}; use the window that is open",
            home.root().display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_app_on_the_same_home_is_refused_until_the_first_ends() {
        let t = tempfile::tempdir().unwrap();
        let home = Home::at(t.path());
        let first = Instance::claim(&home).unwrap();
        let second = Instance::claim(&home)
            .err()
            .expect("refused while the first runs");
        assert_eq!(second.code(), "app_already_running");
        drop(first);
        Instance::claim(&home).expect("free again after the first ended");
    }
}
