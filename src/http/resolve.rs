//! Host-name lookups for outgoing requests, kept off the runtime's shared blocking pool.
//!
//! The default resolver runs the system's `getaddrinfo` on tokio's blocking pool, which also
//! seals notifications and commits the data directory before each reply. A lookup cannot be
//! cancelled: when a receiver's DNS server never answers, the call holds its thread until the
//! system resolver gives up (about 10 s with glibc's defaults), long after the attempt's own
//! timeout ended it, and the retries start more. A few notifications to such a host took every
//! thread of the pool, and every reply waited (docs/RELIABILITY.md).
//!
//! So each lookup here runs on a thread of its own, at most [`Resolver::new`]'s `limit` at once
//! (`[notify] dns_lookups`): a lookup past the bound waits for a place, within its attempt's
//! timeout. Lookups of one name while one is running share it, so retries to a host whose DNS
//! hangs hold one thread, not one per attempt. `localhost` is answered without asking the
//! system, as loopback, so a local receiver never waits behind a hung lookup; an address given
//! as digits never reaches a resolver.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use futures_util::future::{BoxFuture, FutureExt, Shared};
use parking_lot::Mutex;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tokio::sync::Semaphore;

/// The default of `[notify] dns_lookups`: host-name lookups running at once.
pub const DEFAULT_LOOKUPS: usize = 8;

/// A lookup's outcome, shared by every request that asked for the name while it ran.
type Outcome = Result<Arc<[SocketAddr]>, Arc<str>>;

/// Resolves host names on bounded threads of its own (see the module docs).
pub struct Resolver {
    /// Places for lookup threads; a thread holds its place until the system answers.
    places: Arc<Semaphore>,
    /// The lookups running, by name.
    running: Arc<Mutex<HashMap<String, Shared<BoxFuture<'static, Outcome>>>>>,
    /// How a name is looked up on a lookup thread: the system's resolver ([`system_lookup`]).
    system: fn(&str) -> Outcome,
}

impl Resolver {
    /// A resolver running at most `limit` lookups at once (at least one).
    pub fn new(limit: usize) -> Self {
        Self {
            places: Arc::new(Semaphore::new(limit.max(1))),
            running: Arc::default(),
            system: system_lookup,
        }
    }

    /// The addresses of `host` (ports 0: the connector sets the URL's).
    pub fn lookup(&self, host: &str) -> impl std::future::Future<Output = Outcome> + Send {
        let host = host.to_ascii_lowercase();
        let shared = match loopback(&host) {
            Some(addrs) => futures_util::future::ready(Ok(addrs)).boxed().shared(),
            None => self.running(host),
        };
        shared
    }

    /// The lookup of `host` running, or a new one. It runs as a task of its own, whether or not
    /// anyone still waits for it (an attempt that timed out stops waiting), and leaves the table
    /// when the system answered, so nothing stays listed.
    fn running(&self, host: String) -> Shared<BoxFuture<'static, Outcome>> {
        let mut running = self.running.lock();
        if let Some(shared) = running.get(&host) {
            return shared.clone();
        }
        let places = self.places.clone();
        let table = self.running.clone();
        let name = host.clone();
        let system = self.system;
        let task = tokio::spawn(async move {
            let outcome = match places.acquire_owned().await {
                Ok(place) => {
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    let asked = name.clone();
                    let spawned =
                        std::thread::Builder::new()
                            .name("dns-lookup".into())
                            .spawn(move || {
                                let _place = place;
                                let _ = tx.send(system(&asked));
                            });
                    match spawned {
                        Ok(_) => rx
                            .await
                            .unwrap_or_else(|_| Err("the lookup thread ended".into())),
                        Err(e) => Err(format!("no thread for the lookup: {e}").into()),
                    }
                }
                Err(_) => Err("the resolver is closed".into()),
            };
            table.lock().remove(&name);
            outcome
        });
        let shared = task
            .map(|joined| joined.unwrap_or_else(|e| Err(format!("the lookup failed: {e}").into())))
            .boxed()
            .shared();
        running.insert(host, shared.clone());
        shared
    }
}

/// The system's answer for `host` (`getaddrinfo`), or why there is none.
fn system_lookup(host: &str) -> Outcome {
    match (host, 0).to_socket_addrs() {
        Ok(addrs) => {
            let addrs: Vec<SocketAddr> = addrs.collect();
            if addrs.is_empty() {
                Err(format!("no address for {host}").into())
            } else {
                Ok(addrs.into())
            }
        }
        Err(e) => Err(e.to_string().into()),
    }
}

/// `localhost` and its subdomains (RFC 6761): loopback, as the system's hosts file has it.
fn loopback(host: &str) -> Option<Arc<[SocketAddr]>> {
    let host = host.strip_suffix('.').unwrap_or(host);
    (host == "localhost" || host.ends_with(".localhost")).then(|| {
        [
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 0),
        ]
        .into()
    })
}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let lookup = self.lookup(name.as_str());
        Box::pin(async move {
            match lookup.await {
                Ok(addrs) => {
                    let owned: Vec<SocketAddr> = addrs.iter().copied().collect();
                    Ok(Box::new(owned.into_iter()) as Addrs)
                }
                Err(why) => Err(why.to_string().into()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn localhost_is_loopback_without_asking_the_system() {
        // No place at all: a lookup that reached the system would wait for ever.
        let resolver = Resolver::new(1);
        let _taken = resolver.places.clone().try_acquire_owned().unwrap();
        for name in ["localhost", "LOCALHOST", "receiver.localhost", "localhost."] {
            let addrs = tokio::time::timeout(Duration::from_secs(1), resolver.lookup(name))
                .await
                .unwrap_or_else(|_| panic!("{name} waited"))
                .unwrap();
            assert!(
                addrs.iter().all(|a| a.ip().is_loopback()),
                "{name}: {addrs:?}"
            );
        }
    }

    /// Lookups of one name while one runs share it; past the bound, a lookup of another name
    /// waits for a place instead of starting a thread.
    #[tokio::test]
    async fn lookups_of_one_name_share_a_thread_and_the_bound_holds() {
        // No DNS asked in a test: every name is unknown at once.
        let resolver = Resolver {
            system: |host| Err(format!("no address for {host}").into()),
            ..Resolver::new(1)
        };
        // Hold the only place, as a thread stuck in the system would.
        let place = resolver.places.clone().acquire_owned().await.unwrap();
        let first = resolver.running("hung.invalid".into());
        let again = resolver.running("hung.invalid".into());
        assert!(first.ptr_eq(&again), "a second lookup of the name started");
        assert_eq!(resolver.running.lock().len(), 1);
        let other = resolver.lookup("other.invalid");
        tokio::pin!(other);
        assert!(
            tokio::time::timeout(Duration::from_millis(200), &mut other)
                .await
                .is_err(),
            "a lookup past the bound did not wait"
        );
        drop(place);
        // Given its place, it runs.
        let outcome = tokio::time::timeout(Duration::from_secs(30), other)
            .await
            .expect("the lookup ran once it had a place");
        assert_eq!(
            outcome.unwrap_err().as_ref(),
            "no address for other.invalid"
        );
        // Nobody waits for the first lookup: it runs all the same and leaves the table.
        drop((first, again));
        tokio::time::timeout(Duration::from_secs(30), async {
            while !resolver.running.lock().is_empty() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("finished lookups leave the table");
    }
}
