//! Ctrl-C while a job runs, without taking the interpreter lock to look for it.
//!
//! Python's own C-level signal handler writes a byte to the "wakeup fd" when a signal arrives
//! (`signal.set_wakeup_fd`). While `execute()` waits for a job, a pipe of ours is that fd: the
//! waiting thread reads it without the interpreter, and only when a byte arrived does it take the
//! interpreter to run the Python handlers (which raise KeyboardInterrupt for Ctrl-C). Checking
//! with the interpreter every few milliseconds instead would slow the job's own threads.

use std::fs::File;
use std::io::Read;
use std::os::fd::FromRawFd;

use pyo3::prelude::*;
use pyo3::types::PyDict;

pub struct SignalWakeup {
    read: File,
    write_fd: i32,
    /// The wakeup fd that was set before (-1: none); restored afterwards, and sent the signal
    /// bytes that arrived meanwhile.
    previous: i32,
    received: Vec<u8>,
}

impl SignalWakeup {
    /// Installs the pipe as the wakeup fd. None when this is not the main thread, where Python
    /// does not handle signals at all.
    pub fn install(py: Python<'_>) -> PyResult<Option<SignalWakeup>> {
        let threading = py.import("threading")?;
        let main = threading.call_method0("main_thread")?;
        if !threading.call_method0("current_thread")?.is(&main) {
            return Ok(None);
        }
        let os = py.import("os")?;
        let (read_fd, write_fd): (i32, i32) = os.call_method0("pipe")?.extract()?;
        // SAFETY: `os.pipe()` just created `read_fd` and nothing else owns it; the File closes it.
        let read = unsafe { File::from_raw_fd(read_fd) };
        let previous = (|| {
            os.call_method1("set_blocking", (read_fd, false))?;
            os.call_method1("set_blocking", (write_fd, false))?;
            let kwargs = PyDict::new(py);
            kwargs.set_item("warn_on_full_buffer", false)?;
            py.import("signal")?
                .call_method("set_wakeup_fd", (write_fd,), Some(&kwargs))?
                .extract::<i32>()
        })();
        match previous {
            Ok(previous) => Ok(Some(SignalWakeup {
                read,
                write_fd,
                previous,
                received: Vec::new(),
            })),
            Err(e) => {
                let _ = os.call_method1("close", (write_fd,));
                Err(e)
            }
        }
    }

    /// Whether a signal arrived since the last call. Needs no interpreter.
    pub fn triggered(&mut self) -> bool {
        let mut buf = [0u8; 64];
        let mut any = false;
        while let Ok(n) = self.read.read(&mut buf) {
            if n == 0 {
                break;
            }
            self.received.extend_from_slice(&buf[..n]);
            any = true;
        }
        any
    }

    /// Puts the previous wakeup fd back and hands it the signals that arrived meanwhile.
    pub fn restore(mut self, py: Python<'_>) {
        self.triggered();
        if let Ok(signal) = py.import("signal") {
            let _ = signal.call_method1("set_wakeup_fd", (self.previous,));
        }
        if let Ok(os) = py.import("os") {
            if self.previous >= 0 && !self.received.is_empty() {
                let bytes = pyo3::types::PyBytes::new(py, &self.received);
                let _ = os.call_method1("write", (self.previous, bytes));
            }
            let _ = os.call_method1("close", (self.write_fd,));
        }
    }
}
