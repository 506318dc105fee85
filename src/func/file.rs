//! The file tests (`-d -e -f -s -L -h -x`) and `filesize()` over what
//! `stat`/`lstat` said (through [`Files`](crate::env::Files), which decides
//! what may be seen).

use crate::env::{FileInfo, FileKind};

// ---------------------------------------------------------------------------
// file tests
// ---------------------------------------------------------------------------

/// Unary file operators, as `op_file_min`, `op_file_link` and
/// `op_file_xbit` do them:
/// * `d`, `e`, `f`, `s` use `stat` (symlinks followed): `-d` directory,
///   `-e` exists (a dangling symlink does not), `-f` regular file, `-s`
///   regular file with size > 0;
/// * `L`, `h` use `lstat`: the path itself is a symlink (dangling or not);
/// * `x` uses `lstat` too (`APR_FINFO_LINK`): true if the path itself has
///   any of the user/group/other execute bits — the caller's own access is
///   not checked, directories count, and **every symlink is "executable"**
///   (Linux symlinks are mode 0777), even a dangling one.
///
/// Any other `op` byte is false (Apache would abort). An empty path or a
/// failed `stat` is false.
pub fn file_test(op: u8, info: Option<FileInfo>) -> bool {
    let Some(info) = info else {
        return false;
    };
    match op {
        b'd' => info.kind == FileKind::Dir,
        b'e' => true,
        b'f' => info.kind == FileKind::File,
        b's' => info.kind == FileKind::File && info.len > 0,
        b'L' | b'h' => info.kind == FileKind::Symlink,
        b'x' => info.mode & 0o111 != 0,
        _ => false,
    }
}

/// `filesize()`: `stat` (symlinks followed); the decimal size of a regular
/// file whose size is > 0, else `"0"` (directories, missing files, ...).
pub fn filesize(info: Option<FileInfo>) -> Vec<u8> {
    match info {
        Some(i) if i.kind == FileKind::File && i.len > 0 => i.len.to_string().into_bytes(),
        _ => b"0".to_vec(),
    }
}

#[cfg(test)]
mod tests {
    //! Expected values come from running the real thing on this machine
    //! (Debian 12: Apache httpd 2.4.67, libapr1 1.7.2, libaprutil1 1.6.3,
    //! glibc 2.36) or from coreutils / OpenSSL / Python, as each comment says.
    //! "apr_oracle" is a 60-line C program linked against the real libapr-1
    //! and libaprutil-1 that prints `apr_fnmatch(...) == APR_SUCCESS`,
    //! `apr_ipsubnet_create` + `apr_sockaddr_info_get(APR_UNSPEC)` +
    //! `apr_ipsubnet_test`, and `apr_base64_decode` for its input lines.
    //! "httpd" means Apache 2.4.67 evaluating `Header always set X
    //! "expr=..."` for a request carrying the input in a header.
    use super::*;
    use crate::env::{FileAccess, Files};
    use std::fs;
    use std::path::{Path, PathBuf};

    /// A unique scratch directory under the system temp dir.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "sslrequire-library-test-{}-{name}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[cfg(unix)]
    #[test]
    fn file_tests_like_httpd() {
        use std::os::unix::fs::{symlink, PermissionsExt};
        let d = scratch("files");
        let mode =
            |p: &Path, m: u32| fs::set_permissions(p, fs::Permissions::from_mode(m)).unwrap();
        fs::write(d.join("empty"), b"").unwrap();
        fs::write(d.join("five"), b"hello").unwrap();
        fs::create_dir(d.join("dir")).unwrap();
        symlink("five", d.join("link_five")).unwrap();
        symlink("dir", d.join("link_dir")).unwrap();
        symlink("nowhere", d.join("dangling")).unwrap();
        symlink("empty", d.join("link_empty")).unwrap();
        fs::write(d.join("exe"), b"#!/bin/sh\n").unwrap();
        mode(&d.join("exe"), 0o755);
        fs::write(d.join("noexe"), b"x").unwrap();
        mode(&d.join("noexe"), 0o644);
        symlink("noexe", d.join("link_noexe")).unwrap();
        fs::write(d.join("gexe"), b"g").unwrap();
        mode(&d.join("gexe"), 0o610);
        fs::write(d.join("oexe"), b"o").unwrap();
        mode(&d.join("oexe"), 0o601);
        fs::create_dir(d.join("dir_nox")).unwrap();
        mode(&d.join("dir_nox"), 0o600);
        symlink("link_five", d.join("link_link")).unwrap();
        fs::write(d.join("big"), vec![0u8; 123_457]).unwrap();

        // The same tree was built under /tmp/ap/ft and httpd 2.4.67 answered
        // %{filesize:..} | -d | -e | -f | -s | -L | -h | -x:
        let expected = [
            ("empty", "0|0|1|1|0|0|0|0"),
            ("five", "5|0|1|1|1|0|0|0"),
            ("dir", "0|1|1|0|0|0|0|1"),
            ("link_five", "5|0|1|1|1|1|1|1"),
            ("link_dir", "0|1|1|0|0|1|1|1"),
            ("dangling", "0|0|0|0|0|1|1|1"),
            ("link_empty", "0|0|1|1|0|1|1|1"),
            ("exe", "10|0|1|1|1|0|0|1"),
            ("noexe", "1|0|1|1|1|0|0|0"),
            ("link_noexe", "1|0|1|1|1|1|1|1"),
            ("gexe", "1|0|1|1|1|0|0|1"),
            ("oexe", "1|0|1|1|1|0|0|1"),
            ("dir_nox", "0|1|1|0|0|0|0|0"),
            ("link_link", "5|0|1|1|1|1|1|1"),
            ("big", "123457|0|1|1|1|0|0|0"),
            ("missing", "0|0|0|0|0|0|0|0"),
            ("five/", "0|0|0|0|0|0|0|0"),
            ("dir/", "0|1|1|0|0|0|0|1"),
            ("link_dir/", "0|1|1|0|0|0|0|1"),
            ("dangling/", "0|0|0|0|0|0|0|0"),
        ];
        // Through the library's file access, allowed everywhere.
        let files = FileAccess::under("/").unwrap();
        let stat = |p: &Path, follow: bool| {
            use std::os::unix::ffi::OsStrExt;
            files.stat(p.as_os_str().as_bytes(), follow).unwrap()
        };
        let row = |p: &Path| -> String {
            let mut fields = vec![String::from_utf8(filesize(stat(p, true))).unwrap()];
            for op in *b"defsLhx" {
                let follow = matches!(op, b'd' | b'e' | b'f' | b's');
                fields.push(u8::from(file_test(op, stat(p, follow))).to_string());
            }
            fields.join("|")
        };
        for (name, want) in expected {
            let p = PathBuf::from(format!("{}/{name}", d.display()));
            assert_eq!(row(&p), want, "{name}");
        }
        assert_eq!(row(Path::new("")), "0|0|0|0|0|0|0|0");
        assert_eq!(row(Path::new("/")), "0|1|1|0|0|0|0|1"); // httpd: same
                                                            // unknown operator
        assert!(!file_test(b'z', stat(&d.join("five"), true)));
        // C string: the path ends at the first NUL
        {
            use std::ffi::OsStr;
            use std::os::unix::ffi::{OsStrExt, OsStringExt};
            let mut bytes = d.join("five").into_os_string().into_vec();
            bytes.extend_from_slice(b"\0garbage");
            let p = Path::new(OsStr::from_bytes(&bytes));
            assert_eq!(row(p), "5|0|1|1|1|0|0|0");
            // non-UTF-8 file name
            let q = d.join(OsStr::from_bytes(b"\xff\xfe"));
            fs::write(&q, b"abc").unwrap();
            assert_eq!(row(&q), "3|0|1|1|1|0|0|0");
        }
        mode(&d.join("dir_nox"), 0o700);
        fs::remove_dir_all(&d).unwrap();
    }
}
