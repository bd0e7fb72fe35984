//! A `whalet-sim serve` child process and its log lines as they come: for the tests of what the
//! binary itself logs and does (its start, a SIGTERM, a `kill -9`).

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct Served {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Served {
    /// `command` started with its stderr read line by line (its stdout is dropped).
    pub fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// `whalet-sim serve` on a free port without SFTP, logging at `info` without colour, with
    /// `args`.
    pub fn start(args: &[&str]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_whalet-sim"));
        command
            .arg("serve")
            .args(["--addr", "127.0.0.1:0", "--sftp-addr", "off"])
            .args(args)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1");
        Self::spawn(command)
    }

    /// The lines up to and including the first that contains `needle` (at most a minute).
    pub fn until(&self, needle: &str) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    let done = line.contains(needle);
                    seen.push(line);
                    if done {
                        return seen;
                    }
                }
                Err(_) => panic!("no line with {needle:?}; saw {seen:?}"),
            }
        }
    }

    /// The lines up to the ready line.
    pub fn ready(&self) -> Vec<String> {
        self.until("ready on")
    }

    /// How the start ends: `Ok` with the lines up to the ready line (the server is then stopped
    /// as SIGTERM does), or `Err` with its exit code and every line when it exits first (a
    /// refused start). Neither within a minute is a failed test.
    pub fn ready_or_exit(mut self) -> Result<Vec<String>, (Option<i32>, Vec<String>)> {
        let mut seen = Vec::new();
        loop {
            match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    let ready = line.contains("ready on");
                    seen.push(line);
                    if ready {
                        self.stop();
                        return Ok(seen);
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().unwrap();
                    return Err((status.code(), seen));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    panic!("neither refused nor ready in 60 s; saw {seen:?}");
                }
            }
        }
    }

    /// The lines up to the ready line; the server is then stopped as SIGTERM does.
    pub fn until_ready(self) -> Vec<String> {
        let seen = self.ready();
        self.stop();
        seen
    }

    /// Stops it as SIGTERM does (a graceful stop writes what is left).
    pub fn stop(mut self) {
        self.terminate();
        let _ = self.child.wait();
    }

    /// Stops it as SIGTERM does, checks that it exited cleanly, and returns its remaining lines.
    pub fn stop_cleanly(mut self) -> Vec<String> {
        self.terminate();
        let exit = self.child.wait().unwrap();
        assert!(exit.success(), "{exit:?}");
        self.lines.iter().collect()
    }

    /// Kills it as `kill -9` does: nothing more is written.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        let _ = self.child.wait();
    }

    fn terminate(&self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
    }
}
