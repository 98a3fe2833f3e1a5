//! The one way powersweep reads a file a user named (`@payload.json`, a state machine, a
//! results file, a component, a latency table): a regular file, at most a limit the caller
//! states with its reason, and for text, UTF-8 or an error naming the first bad byte.
//!
//! `/dev/zero` would otherwise grow memory until the machine kills the process, and a FIFO
//! with no writer would block forever in `open`; a lossy UTF-8 conversion would silently turn
//! a payload into another one. This crate must not parse what it reads nor choose limits:
//! each caller owns its limit (AWS's, where AWS has one).

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// How much a caller reads, and why that much (said in the error).
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// The most bytes the file may have.
    pub bytes: u64,
    /// Whose limit it is, e.g. "Lambda's limit for an invocation payload".
    pub why: &'static str,
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Opening or reading failed (the reason is the source: print the chain).
    #[error("cannot read `{}`", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// A FIFO, a device, a socket or a folder: reading it could block or never end.
    #[error("`{}` is not a regular file (it is {kind}); give a file", path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// Longer than the caller's limit.
    #[error("`{}` is larger than {limit} bytes, {why}", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// [`Limit::bytes`].
        limit: u64,
        /// [`Limit::why`].
        why: &'static str,
    },
    /// Text that is not UTF-8.
    #[error("`{}` is not UTF-8 text: the byte at offset {offset} is not valid", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// Where the first invalid sequence starts.
        offset: usize,
    },
}

/// Reads `path` (after links) if it is a regular file of at most `limit.bytes`.
///
/// # Errors
/// [`ReadError::NotAFile`], [`ReadError::TooLarge`], or [`ReadError::Io`].
pub fn read(path: &Path, limit: Limit) -> Result<Vec<u8>, ReadError> {
    let (file, length) = open(path, limit)?;
    // A regular file can still grow while it is read (or lie about its length, as in /proc):
    // read one byte past the limit to tell.
    let mut bytes = Vec::with_capacity(usize::try_from(length).unwrap_or(0));
    file.take(limit.bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| ReadError::Io {
            path: path.into(),
            source,
        })?;
    if bytes.len() as u64 > limit.bytes {
        return Err(too_large(path, limit));
    }
    Ok(bytes)
}

/// What [`read`] checks before reading, for a reader that is not ours (wasmtime maps a
/// precompiled component itself): a regular file of at most `limit.bytes`, now.
///
/// # Errors
/// As [`read`].
pub fn check(path: &Path, limit: Limit) -> Result<(), ReadError> {
    open(path, limit).map(drop)
}

/// Opens `path` if it is a regular file within `limit`; its length.
fn open(path: &Path, limit: Limit) -> Result<(File, u64), ReadError> {
    let io = |source| ReadError::Io {
        path: path.into(),
        source,
    };
    // Non-blocking, so that a FIFO's `open` returns; the handle's own metadata then decides,
    // not a path that could be swapped between a check and the open.
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(ReadError::NotAFile {
            path: path.into(),
            kind: kind(&meta.file_type()),
        });
    }
    if meta.len() > limit.bytes {
        return Err(too_large(path, limit));
    }
    Ok((file, meta.len()))
}

fn too_large(path: &Path, limit: Limit) -> ReadError {
    ReadError::TooLarge {
        path: path.into(),
        limit: limit.bytes,
        why: limit.why,
    }
}

/// [`read`], then UTF-8 (never replaced: a changed byte would be a different input).
///
/// # Errors
/// As [`read`], and [`ReadError::NotUtf8`].
pub fn read_text(path: &Path, limit: Limit) -> Result<String, ReadError> {
    String::from_utf8(read(path, limit)?).map_err(|e| ReadError::NotUtf8 {
        path: path.into(),
        offset: e.utf8_error().valid_up_to(),
    })
}

fn kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    const SMALL: Limit = Limit {
        bytes: 8,
        why: "the test's limit",
    };

    #[test]
    fn a_file_within_the_limit_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "12345678").unwrap();
        assert_eq!(read_text(&file, SMALL).unwrap(), "12345678");
    }

    #[test]
    fn a_file_past_the_limit_is_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "123456789").unwrap();
        let err = read(&file, SMALL).unwrap_err().to_string();
        assert!(
            err.ends_with("is larger than 8 bytes, the test's limit"),
            "{err}"
        );
    }

    #[test]
    fn devices_folders_and_fifos_are_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        let started = Instant::now();
        for (path, kind) in [
            (Path::new("/dev/zero"), "a character device"),
            (dir.path(), "a folder"),
            (fifo.as_path(), "a FIFO"),
        ] {
            let err = read(path, SMALL).unwrap_err();
            assert!(
                matches!(&err, ReadError::NotAFile { kind: k, .. } if *k == kind),
                "{err}"
            );
        }
        // Nobody writes to the FIFO: a blocking open would never return.
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_missing_file_is_an_io_error_naming_it() {
        let err = read(Path::new("/no/such/file"), SMALL).unwrap_err();
        assert!(matches!(err, ReadError::Io { .. }));
        assert!(err.to_string().starts_with("cannot read `/no/such/file`"));
    }

    #[test]
    fn invalid_utf8_is_refused_naming_the_offset() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"{\"a\":\"\xff\"}").unwrap();
        let err = read_text(&file, SMALL.with_bytes(64)).unwrap_err();
        assert!(matches!(err, ReadError::NotUtf8 { offset: 6, .. }), "{err}");
        assert!(err.to_string().contains("the byte at offset 6"));
    }

    impl Limit {
        fn with_bytes(self, bytes: u64) -> Self {
            Self { bytes, ..self }
        }
    }
}
