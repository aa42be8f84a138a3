//! Where one child output channel goes: a stand-in for `logs::OutputChannel` (no rotation, no
//! capture mode) until the logs area lands; AUTO files are created when the group is created.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::config::model::{LogChannel, LogTarget};

pub struct ChildLog {
    pub path: Option<PathBuf>,
    file: Option<File>,
}

fn random_suffix() -> String {
    let mut bytes = [0u8; 8];
    if let Ok(mut f) = File::open("/dev/urandom") {
        let _ = io::Read::read_exact(&mut f, &mut bytes);
    }
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

impl ChildLog {
    /// Resolves the channel's target; AUTO creates `<name>-<channel>---<identifier>-XXXXXXXX.log`.
    pub fn new(
        channel: &LogChannel,
        process_name: &str,
        channel_name: &str,
        childlogdir: &Path,
        identifier: &str,
    ) -> io::Result<ChildLog> {
        let path = match &channel.logfile {
            LogTarget::Auto => {
                let mut last = io::Error::from(io::ErrorKind::AlreadyExists);
                let mut created = None;
                for _ in 0..100 {
                    let p = childlogdir.join(format!(
                        "{process_name}-{channel_name}---{identifier}-{}.log",
                        random_suffix()
                    ));
                    match OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .mode(0o600)
                        .custom_flags(libc::O_CLOEXEC)
                        .open(&p)
                    {
                        Ok(_) => {
                            created = Some(p);
                            break;
                        }
                        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
                        Err(e) => return Err(e),
                    }
                }
                Some(created.ok_or(last)?)
            }
            LogTarget::File(p) => Some(p.clone()),
            LogTarget::None | LogTarget::Syslog => None,
        };
        Ok(ChildLog { path, file: None })
    }

    /// Opens the file (append) if it is not open yet; called at spawn.
    pub fn open(&mut self) -> io::Result<()> {
        if self.file.is_none()
            && let Some(p) = &self.path
        {
            self.file = Some(
                OpenOptions::new()
                    .append(true)
                    .create(true)
                    .custom_flags(libc::O_CLOEXEC)
                    .open(p)?,
            );
        }
        Ok(())
    }

    pub fn write(&mut self, data: &[u8]) {
        if let Some(f) = &mut self.file {
            let _ = f.write_all(data);
        }
    }

    /// Deletes the file and reopens it empty (clearProcessLogs).
    pub fn clear(&mut self) -> io::Result<()> {
        if let Some(p) = &self.path {
            match std::fs::remove_file(p) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            let was_open = self.file.take().is_some();
            if was_open {
                self.open()?;
            } else {
                OpenOptions::new().append(true).create(true).open(p)?;
            }
        }
        Ok(())
    }

    pub fn reopen(&mut self) {
        if self.file.is_some() {
            self.file = None;
            let _ = self.open();
        }
    }
}

impl ChildLog {
    /// A channel that writes nowhere.
    pub fn discard() -> ChildLog {
        ChildLog {
            path: None,
            file: None,
        }
    }
}
