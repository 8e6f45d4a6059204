//! Temporary folders for tests: deleted when dropped, kept (and their place printed) when
//! the test is failing, so that what the tools wrote can be inspected.

use std::path::{Path, PathBuf};

/// A temporary folder, deleted on drop unless the thread is panicking.
pub struct Scratch {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl Scratch {
    /// A new empty folder whose name starts with `ecert-{name}-`.
    pub fn new(name: &str) -> Scratch {
        let dir = tempfile::Builder::new()
            .prefix(&format!("ecert-{name}-"))
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a scratch folder for {name}: {e}"));
        Scratch {
            path: dir.path().to_path_buf(),
            dir: Some(dir),
        }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.path
    }

    /// `name` inside the folder (not created).
    pub fn path(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Writes `bytes` to `name` inside the folder and returns its path.
    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        path
    }
}

/// Sets the permission bits of `path` (Unix), as `chmod` does: for the tests of secret
/// files and folders open to other users.
#[cfg(unix)]
pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

/// The permission bits of `path` (Unix), e.g. `0o600`.
#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Some(dir) = self.dir.take() {
                let kept = dir.keep();
                eprintln!("test files kept for inspection in {}", kept.display());
            }
        }
    }
}
