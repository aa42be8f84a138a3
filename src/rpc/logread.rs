//! Reading log files with the reference's offset/length rules for `read*Log` and `tail*Log`.
//! (Local until the logs area's `logs::read_log`/`tail_log` is on main.)

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// Negative offset with a length, or a negative length → BAD_ARGUMENTS.
    BadArguments,
    /// Open/seek/read failed → FAILED.
    Failed,
}

/// `readLog(offset, length)`: a negative offset reads the last |offset| bytes (length must be 0);
/// otherwise `length` bytes from `offset` (0 = to the end).
pub fn read_log(path: &Path, offset: i64, length: i64) -> Result<Vec<u8>, ReadError> {
    let mut file = File::open(path).map_err(|_| ReadError::Failed)?;
    let mut data = Vec::new();
    if offset < 0 {
        if length != 0 {
            return Err(ReadError::BadArguments);
        }
        let size = file.seek(SeekFrom::End(0)).map_err(|_| ReadError::Failed)?;
        let want = offset.unsigned_abs();
        file.seek(SeekFrom::Start(size.saturating_sub(want)))
            .map_err(|_| ReadError::Failed)?;
        file.take(want)
            .read_to_end(&mut data)
            .map_err(|_| ReadError::Failed)?;
    } else {
        if length < 0 {
            return Err(ReadError::BadArguments);
        }
        file.seek(SeekFrom::Start(offset as u64))
            .map_err(|_| ReadError::Failed)?;
        if length == 0 {
            file.read_to_end(&mut data).map_err(|_| ReadError::Failed)?;
        } else {
            file.take(length as u64)
                .read_to_end(&mut data)
                .map_err(|_| ReadError::Failed)?;
        }
    }
    Ok(data)
}

/// `tail*Log(offset, length)` → (data, new offset = file size, overflow). If the file grew past
/// offset+length, only the last `length` bytes are returned and overflow is set. A file that
/// cannot be read gives `(empty, offset as given, false)` like the reference.
pub fn tail_log(path: &Path, offset: i64, length: i64) -> (Vec<u8>, i64, bool) {
    let Ok(mut file) = File::open(path) else {
        return (Vec::new(), offset, false);
    };
    let Ok(size) = file.seek(SeekFrom::End(0)) else {
        return (Vec::new(), offset, false);
    };
    let sz = i64::try_from(size).unwrap_or(i64::MAX);
    let (mut offset, mut length) = (offset, length);
    let mut overflow = false;
    if sz > offset.saturating_add(length) {
        overflow = true;
        offset = sz - 1;
    }
    if offset.saturating_add(length) > sz {
        if offset > sz - 1 {
            length = 0;
        }
        offset = sz - length;
    }
    let offset = offset.max(0);
    let length = length.max(0);
    let mut data = Vec::new();
    if length > 0 {
        let read = file
            .seek(SeekFrom::Start(offset as u64))
            .and_then(|_| file.take(length as u64).read_to_end(&mut data));
        if read.is_err() {
            return (Vec::new(), offset, false);
        }
    }
    (data, sz, overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(tag: &str, contents: &[u8]) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!(
            "rpc-logread-{}-{}-{}",
            std::process::id(),
            tag,
            contents.len()
        ));
        std::fs::write(&p, contents).unwrap();
        p
    }

    #[test]
    fn read_offsets_follow_the_reference() {
        let p = temp_file("read", b"tick 1\ntick 2\n");
        let ok = |o, l| read_log(&p, o, l).map(|d| String::from_utf8(d).unwrap());
        assert_eq!(ok(0, 5), Ok("tick ".into()));
        assert_eq!(ok(0, 0), Ok("tick 1\ntick 2\n".into()));
        assert_eq!(ok(7, 0), Ok("tick 2\n".into()));
        assert_eq!(ok(100, 0), Ok("".into()));
        assert_eq!(ok(100, 5), Ok("".into()));
        assert_eq!(ok(-3, 0), Ok(" 2\n".into()));
        assert_eq!(ok(-100, 0), Ok("tick 1\ntick 2\n".into()));
        assert_eq!(ok(-3, 1), Err(ReadError::BadArguments));
        assert_eq!(ok(0, -1), Err(ReadError::BadArguments));
        assert_eq!(ok(-1, -1), Err(ReadError::BadArguments));
        std::fs::remove_file(&p).unwrap();
        assert_eq!(read_log(&p, 0, 0), Err(ReadError::Failed));
    }

    #[test]
    fn tail_matches_the_reference_on_a_165_byte_file() {
        let mut contents = Vec::new();
        while contents.len() < 165 {
            contents.extend_from_slice(b"2493\n");
        }
        contents.truncate(165);
        let p = temp_file("tail", &contents);
        let tail = |o, l| {
            let (d, off, ov) = tail_log(&p, o, l);
            (String::from_utf8(d).unwrap(), off, ov)
        };
        let whole = String::from_utf8(contents.clone()).unwrap();
        assert_eq!(tail(0, 5), (whole[160..].to_string(), 165, true));
        assert_eq!(tail(0, 1000), (whole.clone(), 165, false));
        assert_eq!(tail(10000, 5), (String::new(), 165, false));
        assert_eq!(tail(-5, 5), (whole[160..].to_string(), 165, true));
        assert_eq!(tail(0, -5), (String::new(), 165, true));
        assert_eq!(tail(160, 5), (whole[160..].to_string(), 165, false));
        assert_eq!(tail(165, 5), (String::new(), 165, false));
        std::fs::remove_file(&p).unwrap();
        assert_eq!(tail_log(&p, 7, 5), (Vec::new(), 7, false));
    }
}
