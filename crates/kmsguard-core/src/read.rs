//! The one way kmsguard reads an input: bounded in bytes actually read,
//! never blocking on a FIFO or a device, and saying clearly why a file was
//! not read.

use std::path::Path;

/// Why a file was not read. The texts are what users see after the path.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    /// A FIFO, a device, a socket or a directory ([`special_kind`]).
    #[error("{0}; not read")]
    NotRegular(&'static str),
    /// Over the limit; `len` is the size the file system reports, `None`
    /// when the file held more than it reported.
    #[error("file is {}, over the {max} byte limit; raise it with --max-file-size", size(*.len))]
    TooLarge { len: Option<u64>, max: u64 },
    #[error("binary file (NUL byte on line {line}); not checked")]
    Binary { line: usize },
    #[error("file is not valid UTF-8 (line {line}, column {column}); save it as UTF-8")]
    NotUtf8 { line: usize, column: usize },
}

fn size(len: Option<u64>) -> String {
    match len {
        Some(n) => format!("{n} bytes"),
        None => "larger than it reports".into(),
    }
}

/// "a FIFO", "a device"…: for files that are not regular files and must never be opened.
pub fn special_kind(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe), not a regular file";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device, not a regular file";
        }
        if t.is_socket() {
            return "a socket, not a regular file";
        }
    }
    if t.is_dir() {
        "a directory, not a regular file"
    } else {
        "not a regular file"
    }
}

/// Opens `path` for reading only if it is a regular file, never blocking:
/// a FIFO, a device or a socket in the tree (or reached through a link) is
/// refused with a message, not opened (a FIFO blocks its reader, `/dev/zero`
/// never ends).
fn open_regular(path: &Path) -> Result<(std::fs::File, u64), ReadError> {
    // Checked before opening too: opening some devices has effects of its own.
    let before = std::fs::metadata(path)?;
    if !before.is_file() {
        return Err(ReadError::NotRegular(special_kind(&before.file_type())));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Should the file be swapped for a FIFO between the check and the open,
        // the open still returns at once (and the check below refuses it).
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(special_kind(&meta.file_type())));
    }
    Ok((file, meta.len()))
}

/// Reads at most `max_bytes` of a regular file. The bound is on bytes
/// actually read, not on the size the file system reports: files under
/// `/proc` report 0 bytes and hold gigabytes.
pub fn read_bounded(path: &Path, max_bytes: u64) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    let (file, len) = open_regular(path)?;
    if len > max_bytes {
        return Err(ReadError::TooLarge {
            len: Some(len),
            max: max_bytes,
        });
    }
    let mut file = file;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    // Whole chunks, not `take(max + 1)`: some kernel files refuse reads of
    // odd sizes (`/proc/self/pagemap` wants multiples of 8). At most one
    // chunk past the limit is read before the file is refused.
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match file.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        bytes.extend_from_slice(chunk.get(..n).unwrap_or_default());
        if bytes.len() as u64 > max_bytes {
            return Err(ReadError::TooLarge { len: None, max: max_bytes });
        }
    }
    Ok(bytes)
}

/// Reads a file as UTF-8 text within `max_bytes`, or says clearly why not.
/// Every input kmsguard reads goes through here ([`read_bounded`]).
pub fn read_text(path: &Path, max_bytes: u64) -> Result<String, ReadError> {
    let bytes = read_bounded(path, max_bytes)?;
    if let Some(pos) = bytes.iter().position(|b| *b == 0) {
        let line = bytes.get(..pos).map(|b| b.iter().filter(|c| **c == b'\n').count()).unwrap_or(0) + 1;
        return Err(ReadError::Binary { line });
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let prefix = e.as_bytes().get(..valid).unwrap_or_default();
        let line = prefix.iter().filter(|c| **c == b'\n').count() + 1;
        let col = prefix.iter().rev().take_while(|c| **c != b'\n').count() + 1;
        ReadError::NotUtf8 { line, column: col }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounded_by_bytes_read_and_refuse_special_files() {
        let scratch = tempfile::tempdir().expect("tempdir");
        let small = scratch.path().join("a.tf");
        std::fs::write(&small, "x = 1\n").expect("write");
        assert_eq!(read_text(&small, 6).ok().as_deref(), Some("x = 1\n"));
        assert!(read_text(&small, 5).is_err_and(|e| e.to_string().contains("--max-file-size")));
        assert!(read_text(scratch.path(), 5).is_err_and(|e| e.to_string().contains("directory")));
        #[cfg(target_os = "linux")]
        {
            // Reports 0 bytes, holds far more.
            assert!(read_bounded(Path::new("/proc/self/pagemap"), 1 << 20).is_err_and(|e| e.to_string().contains("--max-file-size")));
            assert!(read_bounded(Path::new("/dev/zero"), 1 << 20).is_err_and(|e| e.to_string().contains("device")));
        }
    }

    /// The messages users see after the path stay what they were when
    /// these errors were strings.
    #[test]
    fn messages_read_as_before() {
        assert_eq!(
            ReadError::TooLarge { len: Some(7), max: 5 }.to_string(),
            "file is 7 bytes, over the 5 byte limit; raise it with --max-file-size"
        );
        assert_eq!(
            ReadError::TooLarge { len: None, max: 5 }.to_string(),
            "file is larger than it reports, over the 5 byte limit; raise it with --max-file-size"
        );
        assert_eq!(
            ReadError::Binary { line: 3 }.to_string(),
            "binary file (NUL byte on line 3); not checked"
        );
        assert_eq!(
            ReadError::NotUtf8 { line: 2, column: 4 }.to_string(),
            "file is not valid UTF-8 (line 2, column 4); save it as UTF-8"
        );
        assert_eq!(
            ReadError::NotRegular("a device, not a regular file").to_string(),
            "a device, not a regular file; not read"
        );
    }
}
