//! Temporary folders that must not outlive the process however it ends: by
//! `q`, by a signal (the terminal closed under it), or by a panic. Each is
//! registered while it exists; `remove_all` is called from the paths that
//! may never reach the folder's own `Drop`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

static FOLDERS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn folders() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    FOLDERS.lock().unwrap_or_else(|e| e.into_inner())
}

/// A folder removed with everything in it when this is dropped, or earlier
/// by `remove_all`.
#[derive(Debug)]
pub struct Scratch(PathBuf);

impl Scratch {
    /// Creates `path` (and its parents) and registers it.
    pub fn create(path: PathBuf) -> std::io::Result<Scratch> {
        std::fs::create_dir_all(&path)?;
        folders().push(path.clone());
        Ok(Scratch(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        folders().retain(|p| *p != self.0);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Removes every registered folder now: for a signal that ends the session
/// (the terminal may be gone, and what follows may not get far) and for a
/// panic. They stay registered: a write still under way may make one
/// again, and the last call before the process ends removes it once more.
pub fn remove_all() {
    for path in folders().iter() {
        let _ = std::fs::remove_dir_all(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_goes_on_drop_or_on_remove_all() {
        let base = std::env::temp_dir().join(format!("gonogo-scratch-{}", std::process::id()));
        let one = Scratch::create(base.join("one")).expect("created");
        std::fs::write(one.path().join("f"), "x").expect("written");
        let two = Scratch::create(base.join("two")).expect("created");
        drop(one);
        assert!(!base.join("one").exists());
        assert!(base.join("two").exists());
        remove_all();
        assert!(!base.join("two").exists());
        // Dropped afterwards, it has nothing left to do.
        drop(two);
        let _ = std::fs::remove_dir_all(&base);
    }
}
