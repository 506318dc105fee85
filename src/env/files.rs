//! Which files `file()`, `filesize()` and the file tests (`-d`, `-e`, `-f`,
//! `-s`, `-L`, `-h`, `-x`, `-F`) may see.
//!
//! Apache lets an expression read any file the server can. An expression
//! here may come from a tenant, so the library reads nothing unless the
//! caller allows one directory: [`FileAccess::under`]. Paths are resolved
//! as Apache resolves them (relative to the working directory), must lie in
//! that directory as written, and are then opened *beneath* it through a
//! directory handle (`cap-std`: `openat2(RESOLVE_BENEATH)` where the kernel
//! has it), so a symlink or `..` swapped in between the check and the open
//! cannot lead outside.

use std::fmt;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use cap_std::fs::{Dir, MetadataExt};

use super::bytes_to_path;
use crate::error::ErrorKind;

/// Apache's `file()` refuses files over 10 MiB.
pub const MAX_FILE_SIZE: u64 = 10 << 20;

/// What `stat` (or `lstat`) says about a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileInfo {
    /// What the path names.
    pub kind: FileKind,
    /// Its size in bytes.
    pub len: u64,
    /// Its permission bits (`st_mode & 0o7777`).
    pub mode: u32,
}

/// The kind of a [`FileInfo`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (only from `lstat`).
    Symlink,
    /// Anything else (device, socket, FIFO).
    Other,
}

/// The file system an expression sees through an [`Env`](super::Env).
/// [`FileAccess`] is the real one; a test may answer from memory.
pub trait Files: fmt::Debug + Send + Sync {
    /// The content of `path` for `file()`.
    ///
    /// # Errors
    /// `FileDenied` (E303) outside what is allowed, `FileOpen`,
    /// `FileTooLarge` (over [`MAX_FILE_SIZE`]) or `FileRead`.
    fn read(&self, path: &[u8]) -> Result<Vec<u8>, ErrorKind>;

    /// `stat` (`follow`) or `lstat` of `path` for the file tests and
    /// `filesize()`: `Ok(None)` when the system call fails, which Apache
    /// reads as false / `"0"`.
    ///
    /// # Errors
    /// `FileDenied` (E303) outside what is allowed.
    fn stat(&self, path: &[u8], follow: bool) -> Result<Option<FileInfo>, ErrorKind>;
}

/// The real file system, limited to one directory, or nothing at all (the
/// default). Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct FileAccess {
    root: Option<Arc<Root>>,
}

#[derive(Debug)]
struct Root {
    /// The directory as the caller named it, made absolute.
    given: PathBuf,
    /// The same directory with symlinks resolved.
    canonical: PathBuf,
    dir: Dir,
}

/// Reads nothing: the default of every environment.
pub(crate) static NO_FILES: FileAccess = FileAccess { root: None };

impl FileAccess {
    /// No file may be read or examined (the default).
    pub const fn none() -> FileAccess {
        FileAccess { root: None }
    }

    /// Files inside `dir` (and its subdirectories) may be read and
    /// examined; nothing outside it, whatever symlinks or `..` say.
    ///
    /// ```
    /// use sslrequire::env::FileAccess;
    /// use sslrequire::{Program, VarMap};
    ///
    /// let dir = std::env::temp_dir().join(format!("sslrequire-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// std::fs::write(dir.join("users"), "alice")?;
    /// let mut env = VarMap::new();
    /// env.set_files(FileAccess::under(&dir)?);
    /// let read = format!(r#"file("{}/users") == "alice""#, dir.display());
    /// assert!(Program::new(&read)?.eval(&env)?);
    /// // Outside the directory: refused (E303), which denies.
    /// let outside = Program::new(r#"file("/etc/hostname") == """#)?;
    /// assert_eq!(outside.eval(&env).unwrap_err().code(), "E303");
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// `dir` does not exist, is not a directory or cannot be opened.
    pub fn under(dir: impl AsRef<Path>) -> io::Result<FileAccess> {
        let dir = dir.as_ref();
        let given = std::path::absolute(dir)?;
        let canonical = std::fs::canonicalize(dir)?;
        let handle = Dir::open_ambient_dir(&canonical, cap_std::ambient_authority())?;
        Ok(FileAccess {
            root: Some(Arc::new(Root {
                given: normalize(&given),
                canonical,
                dir: handle,
            })),
        })
    }

    /// The allowed directory (symlinks resolved), if any.
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref().map(|r| r.canonical.as_path())
    }

    /// `path` relative to the root, or why it may not be touched.
    fn locate(&self, path: &[u8]) -> Result<(&Root, PathBuf), ErrorKind> {
        // A C string: the path ends at its first NUL.
        let path = super::cstr(path);
        let shown = || String::from_utf8_lossy(path).into_owned();
        let Some(root) = self.root.as_deref() else {
            return Err(ErrorKind::FileDenied {
                path: shown(),
                reason: "file access is off; allow a directory (FileAccess::under, \
                         or the CLI's --file-root DIR)"
                    .into(),
            });
        };
        let p = bytes_to_path(path);
        // As Apache: relative to the working directory.
        let absolute = normalize(&std::env::current_dir().unwrap_or_default().join(&p));
        let relative = [&root.canonical, &root.given]
            .iter()
            .find_map(|r| absolute.strip_prefix(r).ok());
        match relative {
            Some(r) if r.as_os_str().is_empty() => Ok((root, PathBuf::from("."))),
            Some(r) => {
                // `five/` is not `five`: a trailing slash asks for a
                // directory, which normalizing dropped.
                let mut r = r.as_os_str().to_os_string();
                if path.ends_with(b"/") {
                    r.push("/");
                }
                Ok((root, PathBuf::from(r)))
            }
            None => Err(ErrorKind::FileDenied {
                path: shown(),
                reason: format!("outside the allowed directory {}", root.canonical.display()),
            }),
        }
    }

    /// An error of the beneath-the-root open: an escape (a symlink leading
    /// out) is a refusal, anything else the system's own error.
    fn escaped(root: &Root, rel: &Path, e: &io::Error) -> bool {
        e.kind() == io::ErrorKind::PermissionDenied
            && std::fs::canonicalize(root.canonical.join(rel))
                .is_ok_and(|real| !real.starts_with(&root.canonical))
    }
}

impl Files for FileAccess {
    fn read(&self, path: &[u8]) -> Result<Vec<u8>, ErrorKind> {
        let (root, rel) = self.locate(path)?;
        let shown = || String::from_utf8_lossy(path).into_owned();
        let file = root.dir.open(&rel).map_err(|e| {
            if FileAccess::escaped(root, &rel, &e) {
                ErrorKind::FileDenied {
                    path: shown(),
                    reason: format!("it leads outside {}", root.canonical.display()),
                }
            } else {
                ErrorKind::FileOpen {
                    path: shown(),
                    reason: e.to_string(),
                }
            }
        })?;
        let read_error = |e: io::Error| ErrorKind::FileRead {
            path: shown(),
            reason: e.to_string(),
        };
        let size = file.metadata().map_err(read_error)?.len();
        if size > MAX_FILE_SIZE {
            return Err(ErrorKind::FileTooLarge { path: shown() });
        }
        // Apache reads the size `stat` reported, no more: a file that grew
        // meanwhile is cut there, and one that reports 0 (procfs) reads as "".
        let mut buf = Vec::with_capacity(size as usize);
        file.take(size).read_to_end(&mut buf).map_err(read_error)?;
        Ok(buf)
    }

    fn stat(&self, path: &[u8], follow: bool) -> Result<Option<FileInfo>, ErrorKind> {
        if super::cstr(path).is_empty() {
            return Ok(None);
        }
        let (root, rel) = self.locate(path)?;
        let meta = if follow {
            root.dir.metadata(&rel)
        } else {
            root.dir.symlink_metadata(&rel)
        };
        match meta {
            Ok(m) => {
                let t = m.file_type();
                let kind = if t.is_symlink() {
                    FileKind::Symlink
                } else if t.is_dir() {
                    FileKind::Dir
                } else if t.is_file() {
                    FileKind::File
                } else {
                    FileKind::Other
                };
                Ok(Some(FileInfo {
                    kind,
                    len: m.len(),
                    mode: m.mode() & 0o7777,
                }))
            }
            Err(e) if FileAccess::escaped(root, &rel, &e) => Err(ErrorKind::FileDenied {
                path: String::from_utf8_lossy(path).into_owned(),
                reason: format!("it leads outside {}", root.canonical.display()),
            }),
            Err(_) => Ok(None),
        }
    }
}

/// `a/./b/../c` → `a/c`, without touching the file system: only to compare
/// the path as written with the root; the open itself resolves `..` beneath
/// the root handle.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}
