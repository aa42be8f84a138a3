//! Which processes' child logs hold bytes queued for a full pipe/tty target
//! (`stdout_logfile=/dev/stdout`), keyed by (group index, slot index): the loop retries and waits
//! on only these instead of visiting every process's two logs each pass. An entry is added
//! wherever output is written (a drain, a pipe's close) and dropped once its logs are empty
//! again; indexes move when groups are added or removed, and the owner then lists them anew.

use std::collections::BTreeSet;

#[derive(Debug, Default)]
pub struct PendingLogs {
    /// Ordered so retries go out in table order, as when every slot was visited.
    slots: BTreeSet<(usize, usize)>,
}

impl PendingLogs {
    /// Lists the process if `pending` (one of its logs still holds queued bytes). An entry
    /// whose logs drained meanwhile is harmless: the next retry drops it.
    pub fn note(&mut self, gi: usize, pi: usize, pending: bool) {
        if pending {
            self.slots.insert((gi, pi));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The listed processes, in table order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.slots.iter().copied()
    }

    /// Takes every entry (for a retry; the owner notes again those still pending).
    pub fn take(&mut self) -> Vec<(usize, usize)> {
        std::mem::take(&mut self.slots).into_iter().collect()
    }

    /// Lists anew from every process's state (after group indexes moved).
    pub fn rebuild(&mut self, pending: impl IntoIterator<Item = (usize, usize)>) {
        self.slots = pending.into_iter().collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noted_slots_come_back_in_table_order_once() {
        let mut p = PendingLogs::default();
        assert!(p.is_empty());
        p.note(2, 0, true);
        p.note(0, 3, true);
        p.note(1, 1, false);
        p.note(0, 3, true);
        assert_eq!(p.iter().collect::<Vec<_>>(), vec![(0, 3), (2, 0)]);
        assert_eq!(p.take(), vec![(0, 3), (2, 0)]);
        assert!(p.is_empty());
        // A group was inserted before the others: entries are listed at their new indexes.
        p.note(0, 0, true);
        p.rebuild([(1, 0), (0, 2)]);
        assert_eq!(p.iter().collect::<Vec<_>>(), vec![(0, 2), (1, 0)]);
    }

    /// A child's output to a pipe nobody reads queues up: its process is listed (and only it),
    /// keeps being listed at its new index when an earlier group goes and comes back, and is
    /// dropped once a reader took every byte, in order.
    #[test]
    fn a_process_with_queued_output_is_listed_until_its_queue_is_written() {
        use crate::daemon::Overrides;
        use crate::daemon::child_io::{READS_AT_EXIT, Stream};
        use crate::daemon::process_table::ProcessTable;
        use std::time::{Duration, Instant};

        const TOTAL: usize = 400_000;
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills the two descriptors this test owns (closed at the end).
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        let (reader, writer) = (fds[0], fds[1]);
        let dir = crate::testutil::TempDir::new("pending-logs");
        let d = dir.path().display();
        let conf = dir.join("supervisord.conf");
        let text = format!(
            "[supervisord]\nlogfile={d}/main.log\nchildlogdir={d}\n\n\
             [program:early]\ncommand=true\nautostart=false\npriority=1\n\n\
             [program:chatty]\ncommand=sh -c \"head -c {TOTAL} /dev/zero; exec sleep 30\"\nautostart=false\n\
             priority=999\nstartsecs=0\nstdout_logfile=/proc/self/fd/{writer}\n\
             stdout_logfile_maxbytes=0\nstderr_logfile=NONE\n"
        );
        std::fs::write(&conf, text).unwrap();
        let overrides = Overrides {
            configuration: Some(conf),
            ..Overrides::default()
        };
        let config = crate::daemon::load_config(&overrides).unwrap();
        let early = config.groups[0].clone();
        let poll = mio::Poll::new().unwrap();
        let registry = poll.registry().try_clone().unwrap();
        let mut table = ProcessTable::new(config, registry, overrides, 0);
        assert!(
            !table.flush_pending_logs(),
            "nothing written, nothing queued"
        );
        let (gi, pi) = table.find("chatty", "chatty").unwrap();
        assert_eq!((gi, pi), (1, 0));
        table.start_process(gi, pi, Instant::now()).unwrap();
        let pid = table.slot(gi, pi).process.pid;
        assert!(pid > 0, "the child did not start");
        // Read the child's output (it keeps its stdout open): the pipe it goes to fills, the
        // rest queues.
        let until = Instant::now() + Duration::from_secs(10);
        while table.slot(gi, pi).log_bytes[0] < TOTAL as u64 && Instant::now() < until {
            table.drain_pipe(gi, pi, Stream::Stdout, READS_AT_EXIT);
            std::thread::sleep(Duration::from_millis(2));
        }
        assert!(table.slot(gi, pi).stdout_log.has_pending());
        assert_eq!(table.pending_logs.iter().collect::<Vec<_>>(), vec![(1, 0)]);
        let mut fds = Vec::new();
        table.pending_log_fds(&mut fds);
        assert_eq!(fds.len(), 1, "one target waits");
        // Indexes move with the groups; the list follows.
        table.remove_group("early").unwrap();
        assert_eq!(table.pending_logs.iter().collect::<Vec<_>>(), vec![(0, 0)]);
        assert!(table.add_group(early));
        assert_eq!(table.pending_logs.iter().collect::<Vec<_>>(), vec![(1, 0)]);
        // A reader comes: retries write the queue out, then the process leaves the list.
        // SAFETY: fcntl and read on the pipe's read end this test owns.
        unsafe { libc::fcntl(reader, libc::F_SETFL, libc::O_NONBLOCK) };
        let mut got = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let n = unsafe { libc::read(reader, buf.as_mut_ptr().cast(), buf.len()) };
            if n > 0 {
                got.extend_from_slice(&buf[..n as usize]);
                continue;
            }
            if !table.flush_pending_logs() || Instant::now() > until {
                break;
            }
        }
        // The last retry may have written bytes after the final read.
        loop {
            let n = unsafe { libc::read(reader, buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                break;
            }
            got.extend_from_slice(&buf[..n as usize]);
        }
        assert!(table.pending_logs.is_empty());
        assert!(!table.slot(gi, pi).stdout_log.has_pending());
        assert_eq!(got.len(), TOTAL);
        assert!(got.iter().all(|&b| b == 0));
        // SAFETY: kill and reap the child this test started, close the pipe it owns.
        unsafe {
            libc::kill(pid as i32, libc::SIGKILL);
            libc::waitpid(pid as i32, std::ptr::null_mut(), 0);
            libc::close(reader);
            libc::close(writer);
        }
    }
}
