//! Reading log files for the RPC read*/tail* methods with the reference's offset/length rules.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

/// Why a read*Log call fails; maps one-to-one to the RPC faults of the same names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    /// The file does not exist (fault NO_FILE).
    NoFile,
    /// Negative offset with a length, or negative length (fault BAD_ARGUMENTS).
    BadArguments,
    /// The file could not be read (fault FAILED).
    Failed,
}

fn read_up_to(file: &mut File, limit: Option<u64>) -> io::Result<Vec<u8>> {
    let mut data = Vec::new();
    match limit {
        Some(n) => {
            file.take(n).read_to_end(&mut data)?;
        }
        None => {
            file.read_to_end(&mut data)?;
        }
    }
    Ok(data)
}

/// readLog / readProcessStdoutLog / readProcessStderrLog:
/// offset < 0 and length 0: the last |offset| bytes; offset < 0 with a length: BAD_ARGUMENTS;
/// length < 0: BAD_ARGUMENTS; length 0: offset to EOF; otherwise up to length bytes from offset.
/// The caller decodes the bytes (strict UTF-8 in the reference).
pub fn read_log(path: &Path, offset: i64, length: i64) -> Result<Vec<u8>, ReadError> {
    if !path.exists() {
        return Err(ReadError::NoFile);
    }
    // The reference opens the file before checking the arguments: an unreadable file is FAILED
    // even with bad arguments.
    let mut file = File::open(path).map_err(|_| ReadError::Failed)?;
    let data = if offset < 0 {
        if length != 0 {
            return Err(ReadError::BadArguments);
        }
        let back = offset.unsigned_abs();
        let size = file.seek(SeekFrom::End(0)).map_err(|_| ReadError::Failed)?;
        file.seek(SeekFrom::Start(size.saturating_sub(back)))
            .map_err(|_| ReadError::Failed)?;
        read_up_to(&mut file, Some(back))
    } else {
        if length < 0 {
            return Err(ReadError::BadArguments);
        }
        file.seek(SeekFrom::Start(offset as u64))
            .map_err(|_| ReadError::Failed)?;
        read_up_to(&mut file, (length > 0).then_some(length as u64))
    };
    data.map_err(|_| ReadError::Failed)
}

/// What tail*Log returns: `[data, newoffset, overflow]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tail {
    pub data: Vec<u8>,
    /// Always the file size at the time of the call (0 for a missing file).
    pub offset: i64,
    pub overflow: bool,
}

/// tailProcessStdoutLog / tailProcessStderrLog (the reference's tailFile):
/// 1. if size > offset+length: overflow, offset = size-1;
/// 2. if offset+length > size: (if offset > size-1: length = 0); offset = size-length;
/// 3. clamp offset and length at 0; read length bytes at offset; newoffset = size.
///
/// A missing file gives `('', 0, false)`; a file that cannot be opened `('', offset, false)`.
pub fn tail_log(path: &Path, offset: i64, length: i64) -> Tail {
    if !path.exists() {
        return Tail {
            data: Vec::new(),
            offset: 0,
            overflow: false,
        };
    }
    let failed = |offset: i64| Tail {
        data: Vec::new(),
        offset,
        overflow: false,
    };
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(_) => return failed(offset),
    };
    let size = match file.seek(SeekFrom::End(0)) {
        Ok(s) => s as i128,
        Err(_) => return failed(offset),
    };
    // Python integers do not overflow: compute in i128.
    let (mut offset, mut length) = (offset as i128, length as i128);
    let mut overflow = false;
    if size > offset + length {
        overflow = true;
        offset = size - 1;
    }
    if offset + length > size {
        if offset > size - 1 {
            length = 0;
        }
        offset = size - length;
    }
    offset = offset.max(0);
    length = length.max(0);
    let data = if length == 0 {
        Vec::new()
    } else {
        let read = file
            .seek(SeekFrom::Start(offset as u64))
            .and_then(|_| read_up_to(&mut file, Some(length as u64)));
        match read {
            Ok(d) => d,
            Err(_) => return failed(offset as i64),
        }
    };
    Tail {
        data,
        offset: size as i64,
        overflow,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::testutil::TempDir;

    /// 165 bytes like the verified sample: "tick 0\n" ... numbered ticks, ending with "2493\n".
    fn sample(dir: &TempDir) -> (std::path::PathBuf, Vec<u8>) {
        let path = dir.join("sample.log");
        let mut content: Vec<u8> = (0..160u8).map(|i| b'a' + i % 26).collect();
        content.extend(b"2493\n");
        std::fs::write(&path, &content).unwrap();
        (path, content)
    }

    #[test]
    fn read_rules_table() {
        let dir = TempDir::new("read");
        let (path, content) = sample(&dir);
        let c = |range: std::ops::Range<usize>| Ok(content[range].to_vec());
        let cases: Vec<(i64, i64, Result<Vec<u8>, ReadError>)> = vec![
            (0, 5, c(0..5)),
            (0, 0, c(0..165)),
            (10, 0, c(10..165)),
            (160, 100, c(160..165)),
            (165, 0, Ok(vec![])),
            (10_000, 0, Ok(vec![])),
            (10_000, 5, Ok(vec![])),
            (-5, 0, c(160..165)),
            (-1000, 0, c(0..165)),
            (-5, 5, Err(ReadError::BadArguments)),
            (0, -5, Err(ReadError::BadArguments)),
            (i64::MIN, 0, c(0..165)),
        ];
        for (offset, length, expected) in cases {
            assert_eq!(
                read_log(&path, offset, length),
                expected,
                "({offset}, {length})"
            );
        }
        assert_eq!(read_log(&dir.join("missing"), 0, 0), Err(ReadError::NoFile));
        assert_eq!(read_log(dir.path(), 0, 0), Err(ReadError::Failed));
    }

    #[test]
    fn tail_rules_table() {
        let dir = TempDir::new("tail");
        let (path, content) = sample(&dir);
        let t = |range: std::ops::Range<usize>, overflow: bool| Tail {
            data: content[range].to_vec(),
            offset: 165,
            overflow,
        };
        let cases = [
            // The verified reference results on a 165-byte file.
            (0, 5, t(160..165, true)),
            (0, 1000, t(0..165, false)),
            (10_000, 5, t(0..0, false)),
            (-5, 5, t(160..165, true)),
            (0, -5, t(0..0, true)),
            // Verified with the reference's tailFile on the same content.
            (100, 65, t(100..165, false)),
            // offset+length beyond the size moves the start back to size-length (clamped at 0).
            (100, 1000, t(0..165, false)),
            (165, 1000, t(0..0, false)),
            (0, 1, t(164..165, true)),
            (0, 0, t(0..0, true)),
            (165, 0, t(0..0, false)),
            (i64::MAX, i64::MAX, t(0..0, false)),
            (i64::MIN, 10, t(155..165, true)),
        ];
        for (offset, length, expected) in cases {
            assert_eq!(
                tail_log(&path, offset, length),
                expected,
                "({offset}, {length})"
            );
        }
    }

    #[test]
    fn tail_of_missing_or_empty_file() {
        let dir = TempDir::new("tailmissing");
        let missing = Tail {
            data: vec![],
            offset: 0,
            overflow: false,
        };
        assert_eq!(tail_log(&dir.join("missing"), 50, 100), missing);
        let empty = dir.join("empty");
        std::fs::write(&empty, b"").unwrap();
        assert_eq!(tail_log(&empty, 0, 100), missing);
    }
}
