//! The server under test as a process: start one (`--spawn-server`, timing it to a ready health
//! check), find one by its listening port, read its CPU time and resident memory from `/proc`
//! (Linux only; elsewhere those figures are simply absent), and the echo server the Pockyt figures
//! are compared with (on the simulator's own edge, through `http::peer`).

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

use crate::http::peer;
use crate::wire::crypto::account::Totals;

/// CPU time (user + system) of a process, in seconds, from `/proc/<pid>/stat`.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces; fields after it start past the last ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 (utime) and 15 (stime) overall = indexes 11 and 12 after the name.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / clock_ticks())
}

fn clock_ticks() -> f64 {
    // sysconf(_SC_CLK_TCK) without libc: `getconf CLK_TCK`, else the universal Linux value.
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// Resident memory of a process in KiB (`VmRSS`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// The process listening on TCP `port` (IPv4 or IPv6), via `/proc/net/tcp*` and fd links.
pub fn pid_listening_on(port: u16) -> Option<u32> {
    let want = format!(":{port:04X}");
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let listening = f.get(3) == Some(&"0A");
            if listening && f.get(1).is_some_and(|local| local.ends_with(&want)) {
                if let Some(inode) = f.get(9) {
                    inodes.push(format!("socket:[{inode}]"));
                }
            }
        }
    }
    if inodes.is_empty() {
        return None;
    }
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(link) = std::fs::read_link(fd.path()) {
                if inodes.iter().any(|i| link.as_os_str() == i.as_str()) {
                    return Some(pid);
                }
            }
        }
    }
    None
}

/// What is wrong with `--server-pid` `pid` as the server listening on `port`, read from `/proc`
/// (Linux; elsewhere nothing can be told and nothing is said): an error when no process has
/// that id; a warning when it is not the process listening on the port, or, when no listener
/// is found (another user's process), when its command line is no whalet-sim `serve` (its
/// memory would be reported next to the server's own CPU count). `this_exe`: the bench's own
/// executable, which a server started from the same build runs.
pub fn check_server_pid(
    pid: u32,
    port: u16,
    this_exe: Option<&std::path::Path>,
) -> Result<Option<String>, String> {
    if !std::path::Path::new("/proc/self/cmdline").exists() {
        return Ok(None);
    }
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return Err(format!(
            "--server-pid {pid}: no process has that id; give the pid of the whalet-sim serve \
             listening on --url's port, or leave --server-pid out to find it by that port"
        ));
    };
    let name = std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|c| c.trim().to_owned())
        .unwrap_or_default();
    let listener = pid_listening_on(port);
    if listener == Some(pid) {
        return Ok(None);
    }
    let what = format!("--server-pid {pid} ({name})");
    let memory = "its memory is reported next to the server's CPU time: give the server's pid, \
                  or leave --server-pid out to find it by its port";
    if let Some(other) = listener {
        return Ok(Some(format!(
            "{what} is not the process listening on port {port} (that is pid {other}); {memory}"
        )));
    }
    let words: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    let program = words
        .first()
        .map(|w| String::from_utf8_lossy(w).into_owned());
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
    let whalet_sim = program.is_some_and(|p| {
        std::path::Path::new(&p)
            .file_name()
            .is_some_and(|f| f.to_string_lossy().starts_with("whalet-sim"))
    }) || (exe.is_some() && exe.as_deref() == this_exe);
    let serving = words.iter().any(|w| *w == b"serve");
    if whalet_sim && serving {
        return Ok(None);
    }
    Ok(Some(format!(
        "{what} is not a whalet-sim serve, and no process was found listening on port {port}; \
         {memory}"
    )))
}

/// A free local port (bound and released; a tiny race is acceptable for a benchmark).
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A child process that is killed when dropped (and, on Linux, when this process dies
/// however it dies: see [`exit_with_parent`]).
pub struct Spawned {
    pub child: Child,
    pub addr: SocketAddr,
    pub startup: Duration,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The last lines a spawned server wrote to stderr, kept to say why it failed to start.
const STDERR_LINES: usize = 20;
/// ... each cut to this many characters.
const STDERR_LINE_CHARS: usize = 300;

/// Starts this binary with `args` (plus `--addr`/an address) and waits until `ready_path`
/// answers 200, at most 30 s. `log` is the child's RUST_LOG. When the child exits or never
/// answers, the error carries the last lines of its stderr.
pub async fn spawn_self(args: &[String], ready_path: &str, log: &str) -> anyhow::Result<Spawned> {
    let exe = std::env::current_exe()?;
    let port = free_port()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let started = Instant::now();
    let mut child = Command::new(exe)
        .arg("--exit-with-parent")
        .arg(std::process::id().to_string())
        .args(args.iter().map(|a| a.replace("{addr}", &addr.to_string())))
        .env("RUST_LOG", log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let tail = child.stderr.take().map(StderrTail::drain);
    let mut spawned = Spawned {
        child,
        addr,
        startup: Duration::ZERO,
    };
    while started.elapsed() < Duration::from_secs(30) {
        if get_status(addr, ready_path).await == Some(200) {
            spawned.startup = started.elapsed();
            return Ok(spawned);
        }
        if let Ok(Some(status)) = spawned.child.try_wait() {
            anyhow::bail!(
                "the server exited during startup ({status}){}",
                StderrTail::finish(tail)
            );
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    drop(spawned);
    anyhow::bail!(
        "the server did not answer GET {ready_path} within 30 s{}",
        StderrTail::finish(tail)
    )
}

/// Reads a child's stderr to its end on a thread of its own (so the child never blocks on a
/// full pipe), keeping only its last [`STDERR_LINES`] lines.
struct StderrTail {
    reader: std::thread::JoinHandle<std::collections::VecDeque<String>>,
}

impl StderrTail {
    fn drain(stderr: std::process::ChildStderr) -> Self {
        use std::io::BufRead;
        let reader = std::thread::spawn(move || {
            let mut last = std::collections::VecDeque::with_capacity(STDERR_LINES);
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if last.len() == STDERR_LINES {
                    last.pop_front();
                }
                last.push_back(line.chars().take(STDERR_LINE_CHARS).collect());
            }
            last
        });
        Self { reader }
    }

    /// The kept lines as the end of an error message (`:` and one indented line each), once the
    /// child has exited (its stderr is then closed); empty when it wrote nothing.
    fn finish(tail: Option<Self>) -> String {
        let lines = tail.and_then(|t| t.reader.join().ok()).unwrap_or_default();
        if lines.is_empty() {
            return String::new();
        }
        let body: Vec<String> = lines.iter().map(|l| format!("  {l}")).collect();
        format!("; its stderr ended with:\n{}", body.join("\n"))
    }
}

/// Run first thing by a process `spawn_self` started (`--exit-with-parent PID`): on Linux, has
/// the kernel send it SIGTERM when the bench dies, so a bench killed by a signal (which skips
/// `Drop for Spawned`) leaves no server behind. A bench that died before the request took effect
/// would never send it, so a process whose parent is already another one exits at once.
#[cfg(target_os = "linux")]
pub fn exit_with_parent(parent: u32) {
    use rustix::process::{getppid, set_parent_process_death_signal, Pid, Signal};
    let armed = set_parent_process_death_signal(Some(Signal::TERM)).is_ok();
    let orphaned =
        getppid().map(Pid::as_raw_nonzero).map(|p| p.get()) != i32::try_from(parent).ok();
    if armed && orphaned {
        std::process::exit(crate::cli::exit::ERROR.into());
    }
}

/// Run by a server `spawn_self` started once it is ready (`serve --quiet-after-ready`): points
/// stderr, where the log goes, at /dev/null, as the bench's servers logged before their stderr
/// was kept. What a server writes before (why it did not start) still reaches the bench.
#[cfg(unix)]
pub fn quiet_stderr() {
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        let _ = rustix::stdio::dup2_stderr(&null);
    }
}

#[cfg(not(unix))]
pub fn quiet_stderr() {}

/// Elsewhere only `Drop for Spawned` stops the child.
#[cfg(not(target_os = "linux"))]
pub fn exit_with_parent(_parent: u32) {}

/// One GET on a fresh connection; None on any failure.
pub async fn get_status(addr: SocketAddr, path: &str) -> Option<u16> {
    get(addr, path).await.map(|(status, _)| status)
}

/// The server's CPU time and crypto counts at one moment; two readings give a window's figures.
#[derive(Debug)]
pub struct Reading {
    /// The server's own process clock (`processCpuNs` of `GET /__sim/crypto`), exact.
    process_cpu_ns: Option<u64>,
    /// From `/proc/<pid>/stat`, in ticks of 10 ms: for a server that does not give its own.
    proc_cpu_s: Option<f64>,
    /// The crypto counts, when the server counts them (`serve --account-crypto`).
    crypto: Option<Totals>,
}

/// Reads the server at `addr` (process `pid`, when known): `GET /__sim/crypto` answered within
/// 2 s, and `/proc`.
pub async fn read(addr: SocketAddr, pid: Option<u32>) -> Reading {
    let answer = tokio::time::timeout(Duration::from_secs(2), get(addr, "/__sim/crypto"));
    let totals = match answer.await {
        Ok(Some((200, body))) => serde_json::from_slice::<Totals>(&body).ok(),
        _ => None,
    };
    Reading {
        process_cpu_ns: totals.as_ref().and_then(|t| t.process_cpu_ns),
        proc_cpu_s: pid.and_then(cpu_seconds),
        crypto: totals.filter(|t| t.accounting),
    }
}

impl Reading {
    /// The server's CPU seconds from `before` to this reading: by its own clock when both
    /// readings have it (a window of a few milliseconds is then still right), else by `/proc`.
    pub fn cpu_s_since(&self, before: &Reading) -> Option<f64> {
        match (before.process_cpu_ns, self.process_cpu_ns) {
            (Some(then), Some(now)) => Some(now.saturating_sub(then) as f64 / 1e9),
            _ => Some(self.proc_cpu_s? - before.proc_cpu_s?),
        }
    }

    /// The server's crypto CPU seconds from `before` to this reading, when it counts them.
    pub fn crypto_s_since(&self, before: &Reading) -> Option<f64> {
        let now = self.crypto.as_ref()?;
        Some(now.cpu_ns_since(Some(before.crypto.as_ref()?)) as f64 / 1e9)
    }
}

/// One GET on a fresh connection: the status and the whole body; None on any failure.
async fn get(addr: SocketAddr, path: &str) -> Option<(u16, Bytes)> {
    let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .ok()?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let request = hyper::Request::get(path)
        .header(hyper::header::HOST, addr.to_string())
        .body(Full::new(Bytes::new()))
        .ok()?;
    let response = sender.send_request(request).await.ok()?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.ok()?.to_bytes();
    Some((status, body))
}

/// A plain hyper HTTP/1.1 server that answers every request with its own body (200,
/// `application/json`): the floor any HTTP service on this machine pays.
pub async fn echo_server(addr: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    say!("echo server on http://{}", listener.local_addr()?);
    let forever = tokio_util::sync::CancellationToken::new();
    peer::serve_bodies(
        listener,
        forever,
        |body| async move { peer::Answer::json(body) },
    )
    .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Reading;

    fn reading(process_cpu_ns: Option<u64>, proc_cpu_s: Option<f64>) -> Reading {
        Reading {
            process_cpu_ns,
            proc_cpu_s,
            crypto: None,
        }
    }

    /// Regression: `bench --server-pid` took any pid, and reported that process's memory next
    /// to the server's CPU. A pid no process has is refused; one that is not the server on the
    /// port is warned about; the listener itself passes.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_server_pid_that_is_not_the_server_is_refused_or_warned_about() {
        use super::check_server_pid;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let me = std::process::id();
        assert_eq!(check_server_pid(me, port, None), Ok(None));
        let why = check_server_pid(999_999_999, port, None).unwrap_err();
        assert!(
            why.starts_with("--server-pid 999999999: no process has that id"),
            "{why}"
        );
        let mut other = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        // Until the child has exec'd, it still bears the test thread's name.
        let comm = format!("/proc/{}/comm", other.id());
        for _ in 0..200 {
            if std::fs::read_to_string(&comm).is_ok_and(|c| c.trim() == "sleep") {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let doubt = check_server_pid(other.id(), port, None);
        let _ = other.kill();
        let _ = other.wait();
        let doubt = doubt.unwrap().unwrap();
        assert!(
            doubt.contains(&format!(
                "(sleep) is not the process listening on port {port} (that is pid {me})"
            )),
            "{doubt}"
        );
        drop(listener);
        let doubt = check_server_pid(1, port, None).unwrap().unwrap();
        assert!(doubt.contains("is not a whalet-sim serve"), "{doubt}");
    }

    /// A window's CPU comes from the server's own clock when both readings carry it, and from
    /// `/proc` only otherwise: never the one at the start and the other at the end.
    #[test]
    fn the_servers_own_clock_goes_before_proc() {
        let before = reading(Some(1_000_000_000), Some(1.0));
        let after = reading(Some(1_054_000_000), Some(1.1));
        assert_eq!(after.cpu_s_since(&before), Some(0.054));
        let old_server = reading(None, Some(1.1));
        assert_eq!(old_server.cpu_s_since(&before), Some(1.1 - 1.0));
        assert_eq!(reading(None, None).cpu_s_since(&before), None);
        assert_eq!(after.crypto_s_since(&before), None);
    }
}
