//! Outgoing HTTP (notifications to partners, the `call` and `bench` commands): one pooled client,
//! a wall-clock timeout per request, and errors as plain text for the delivery ledger.
//!
//! A proxy named in the environment (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, with `NO_PROXY`) is
//! used for other hosts, never for this machine (`localhost`, `127.0.0.0/8`, `::1`): a partner's
//! receiver or a simulator on loopback is reached directly, as a corporate proxy could not
//! reach it anyway.

use std::time::{Duration, Instant};

use bytes::Bytes;

/// What came back from a POST.
#[derive(Debug, Clone)]
pub struct ClientResponse {
    pub status: u16,
    /// The answer's body, at most the client's answer limit of it ([`MAX_ANSWER_BYTES`] unless
    /// [`HttpClient::with_answer_limit`] set another).
    pub body: Bytes,
    pub latency: Duration,
    /// The `Location` of a redirect (redirects are never followed).
    pub location: Option<String>,
    /// The answer's header fields (the CLI reads the simulator's `X-Whalet-Sim-Diagnostic`).
    pub headers: reqwest::header::HeaderMap,
    /// The body was longer than the client's answer limit; the rest was not read.
    pub truncated: bool,
    /// Why the body broke off after the status came (the peer closed early, a malformed chunk,
    /// the timeout); `body` holds what came before. Only [`HttpClient::post_keeping_status`]
    /// answers with it; the other methods make it their error.
    pub broken: Option<String>,
}

impl ClientResponse {
    /// The response if its body came whole, else why it broke off.
    fn whole(self) -> Result<Self, String> {
        match self.broken {
            Some(why) => Err(why),
            None => Ok(self),
        }
    }
}

/// How much of an answer is read by default: a partner's acknowledgement is a few hundred bytes,
/// and a hostile or broken endpoint must not make the simulator buffer more. A client that reads
/// the provider's replies (the CLI) sets its own limit with [`HttpClient::with_answer_limit`].
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// A URL read once for many requests (a notification destination's): given its text, the client
/// would parse it again for every request.
#[derive(Debug, Clone)]
pub struct Target {
    text: String,
    /// `None` when the text is not a URL: the request is then given the text, and fails as it
    /// would have.
    url: Option<reqwest::Url>,
    loopback: bool,
}

impl Target {
    pub fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            url: reqwest::Url::parse(text).ok(),
            loopback: is_loopback(text),
        }
    }

    /// The URL as it was given.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The parsed URL, if the text is one.
    pub fn url(&self) -> Option<&reqwest::Url> {
        self.url.as_ref()
    }
}

/// A cloneable, pooled HTTP client.
#[derive(Clone)]
pub struct HttpClient {
    /// For other hosts: honours the proxy settings of the environment.
    inner: reqwest::Client,
    /// For loopback destinations: never a proxy.
    direct: reqwest::Client,
    /// The proxy variables set in the environment, with the scheme each is for (named in
    /// connection errors to other hosts).
    proxy_variables: Vec<ProxyVariable>,
    /// Sent as `Authorization: Bearer …` with every request (the CLI's admin token).
    bearer: Option<String>,
    /// The most bytes of an answer's body read ([`ClientResponse::truncated`] past it).
    answer_limit: usize,
    /// Who answers this client's requests, as its failures name them: "the receiver" (a
    /// partner's notification receiver) unless [`HttpClient::answered_by`] set another.
    peer: &'static str,
}

impl Default for HttpClient {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpClient {
    pub fn new() -> Self {
        Self::build(None, super::resolve::DEFAULT_LOOKUPS)
    }

    /// A client looking host names up at most `lookups` at a time, on threads of their own
    /// (`[notify] dns_lookups`, [`super::resolve`]).
    pub fn with_dns_lookups(lookups: usize) -> Self {
        Self::build(None, lookups)
    }

    /// With `proxy`, other hosts go through it instead of the environment's proxy, as if it
    /// were set in `ALL_PROXY`. Host names are looked up by one [`super::resolve::Resolver`]
    /// of at most `lookups` threads, shared by both inner clients.
    fn build(proxy: Option<reqwest::Proxy>, lookups: usize) -> Self {
        let resolver = std::sync::Arc::new(super::resolve::Resolver::new(lookups));
        let builder = || {
            reqwest::Client::builder()
                .dns_resolver(resolver.clone())
                // A redirect answer is the partner's answer: judged (a failed attempt), not followed.
                .redirect(reqwest::redirect::Policy::none())
                .pool_idle_timeout(Duration::from_secs(30))
                .tcp_nodelay(true)
        };
        let proxy_variables = match proxy {
            Some(_) => vec![("ALL_PROXY", None)],
            None => PROXY_VARIABLES
                .into_iter()
                .filter(|(name, _)| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
                .collect(),
        };
        let inner = match proxy {
            Some(proxy) => builder().proxy(proxy),
            None => builder(),
        };
        Self {
            inner: inner.build().unwrap_or_default(),
            direct: builder().no_proxy().build().unwrap_or_default(),
            proxy_variables,
            bearer: None,
            answer_limit: MAX_ANSWER_BYTES,
            peer: "the receiver",
        }
    }

    /// The client for `url`: direct to a loopback host, else through the environment's proxy.
    fn for_url(&self, url: &str) -> &reqwest::Client {
        self.for_loopback(is_loopback(url))
    }

    fn for_loopback(&self, loopback: bool) -> &reqwest::Client {
        if loopback {
            &self.direct
        } else {
            &self.inner
        }
    }

    /// What a transport failure on the way to `url` says, naming the proxy variables that apply
    /// to it (those of its scheme and `ALL_PROXY`), if any is set.
    fn failure(&self, url: &str, e: &reqwest::Error, timeout: Duration) -> String {
        let why = describe(e, timeout, self.peer);
        let scheme = url.split_once("://").map_or("", |(scheme, _)| scheme);
        let applying: Vec<&str> = self
            .proxy_variables
            .iter()
            .filter(|(_, only)| only.is_none_or(|only| only == scheme))
            .map(|(name, _)| *name)
            .collect();
        if applying.is_empty() || is_loopback(url) || !(e.is_connect() || e.is_timeout()) {
            return why;
        }
        format!(
            "{why} (the environment sets a proxy, {}: unless NO_PROXY names this host, the \
             connection went through it)",
            applying.join(", ")
        )
    }

    /// The same client, sending `Authorization: Bearer {token}` with every request.
    pub fn with_bearer(self, token: &str) -> Self {
        Self {
            bearer: Some(format!("Bearer {token}")),
            ..self
        }
    }

    /// The same client, reading at most `bytes` of an answer's body instead of
    /// [`MAX_ANSWER_BYTES`]: a provider's reply (a page of 100 records, a long message echoed)
    /// is far longer than a partner's acknowledgement.
    pub fn with_answer_limit(self, bytes: usize) -> Self {
        Self {
            answer_limit: bytes,
            ..self
        }
    }

    /// The same client, naming `who` ("the server") where its failures describe an answer it
    /// could not read, instead of "the receiver" of a notification.
    pub fn answered_by(self, who: &'static str) -> Self {
        Self { peer: who, ..self }
    }

    /// The most bytes of an answer's body this client reads.
    pub fn answer_limit(&self) -> usize {
        self.answer_limit
    }

    fn authorize(&self, builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.bearer {
            Some(value) => builder.header("authorization", value),
            None => builder,
        }
    }

    /// POSTs `body`; any transport failure or a timeout is an `Err` with the reason.
    pub async fn post(
        &self,
        url: &str,
        content_type: &str,
        body: Bytes,
        timeout: Duration,
    ) -> Result<ClientResponse, String> {
        self.post_keeping_status(&Target::new(url), content_type, body, timeout)
            .await
            .and_then(ClientResponse::whole)
    }

    /// [`post`](Self::post), but a body that breaks off after the status came is still an
    /// answer, with its status and [`ClientResponse::broken`] set: a notification attempt
    /// records the status the receiver sent before it failed.
    pub async fn post_keeping_status(
        &self,
        target: &Target,
        content_type: &str,
        body: Bytes,
        timeout: Duration,
    ) -> Result<ClientResponse, String> {
        let started = Instant::now();
        let client = self.for_loopback(target.loopback);
        let url = target.text();
        let builder = match target.url() {
            Some(parsed) => client.post(parsed.clone()),
            None => client.post(url),
        };
        let sent = self
            .authorize(builder)
            .header("content-type", content_type)
            .body(body)
            .timeout(timeout)
            .send();
        self.read(url, sent.await, started, timeout).await
    }

    /// GET, for the CLI and tests.
    pub async fn get(&self, url: &str, timeout: Duration) -> Result<ClientResponse, String> {
        let started = Instant::now();
        let sent = self
            .authorize(self.for_url(url).get(url))
            .timeout(timeout)
            .send()
            .await;
        self.read(url, sent, started, timeout)
            .await
            .and_then(ClientResponse::whole)
    }

    /// Reads the answer to a request to `url` sent at `started`.
    async fn read(
        &self,
        url: &str,
        sent: Result<reqwest::Response, reqwest::Error>,
        started: Instant,
        timeout: Duration,
    ) -> Result<ClientResponse, String> {
        let mut response = sent.map_err(|e| self.failure(url, &e, timeout))?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let headers = response.headers().clone();
        let mut body = Vec::new();
        let mut truncated = false;
        let mut broken = None;
        loop {
            let chunk = match response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(e) => {
                    broken = Some(self.failure(url, &e, timeout));
                    break;
                }
            };
            let room = self.answer_limit.saturating_sub(body.len());
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok(ClientResponse {
            status,
            body: body.into(),
            latency: started.elapsed(),
            location,
            headers,
            truncated,
            broken,
        })
    }
}

/// An environment variable that sets a proxy, and the URL scheme it is for (None: every scheme).
type ProxyVariable = (&'static str, Option<&'static str>);

/// The environment variables that set a proxy for reqwest (either case).
const PROXY_VARIABLES: [ProxyVariable; 6] = [
    ("HTTP_PROXY", Some("http")),
    ("http_proxy", Some("http")),
    ("HTTPS_PROXY", Some("https")),
    ("https_proxy", Some("https")),
    ("ALL_PROXY", None),
    ("all_proxy", None),
];

/// Whether `url`'s host is this machine: `localhost` (or a name under it), an address in
/// `127.0.0.0/8`, or `::1`.
fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => host_port.split(':').next().unwrap_or(host_port),
    };
    let host = host.trim_end_matches('.');
    const UNDER: &str = ".localhost";
    host.eq_ignore_ascii_case("localhost")
        || host
            .len()
            .checked_sub(UNDER.len())
            .and_then(|at| host.get(at..))
            .is_some_and(|tail| tail.eq_ignore_ascii_case(UNDER))
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The most bytes of an answer's head (status line and header fields) hyper's HTTP/1 parser
/// buffers before the blank line that ends it: its default read-buffer bound (8 KiB + 100 ×
/// 4 KiB), which reqwest offers no setting for. Its bound on the head's header fields is
/// [`super::HYPER_MAX_HEADERS`], fixed likewise.
const HYPER_MAX_HEAD_BYTES: usize = 8192 + 4096 * 100;

/// Why a request failed, as the delivery ledger and the CLI say it; `peer` names who answered
/// ("the receiver").
fn describe(e: &reqwest::Error, timeout: Duration, peer: &str) -> String {
    if e.is_timeout() {
        format!("timed out after {} ms", timeout.as_millis())
    } else if e.is_connect() {
        format!("connection failed: {}", root_cause(e))
    } else if let Some(why) = unreadable_answer(e, peer) {
        why
    } else {
        root_cause(e)
    }
}

/// What was wrong with an answer hyper could not read as HTTP/1 (a head over its limits, a
/// first line that is not an HTTP status line, a malformed header field), or that ended before
/// it was complete, naming `peer` and the limit; hyper's own words close it in parentheses.
/// Alone they name neither who sent the answer nor which limit it went over ("message head is
/// too large" for 101 header fields of a kilobyte in all). None for any other failure.
fn unreadable_answer(e: &(dyn std::error::Error + 'static), peer: &str) -> Option<String> {
    let hyper = std::iter::successors(Some(e), |cause| cause.source())
        .filter_map(|cause| cause.downcast_ref::<hyper::Error>())
        .find(|h| h.is_parse() || h.is_incomplete_message())?;
    let words = hyper.to_string();
    let why = if hyper.is_incomplete_message() {
        format!(
            "{peer} closed the connection before its answer was complete, or before it \
             answered at all (a server that closes connections after answering must say so with \
             `Connection: close`: a kept-alive connection closed unannounced fails the next \
             request sent on it)"
        )
    } else if hyper.is_parse_too_large() {
        format!(
            "{peer}'s answer head is over the client's limits: more than {} header fields, or \
             more than {} bytes of status line and header fields (both fixed: the HTTP \
             parser's defaults, and it reports either this way); answer with fewer, shorter \
             header fields",
            super::HYPER_MAX_HEADERS,
            HYPER_MAX_HEAD_BYTES
        )
    } else if hyper.is_parse_status() {
        format!(
            "{peer}'s answer has a malformed status line: its status code must be three digits, \
             as in `HTTP/1.1 200 OK`"
        )
    } else if words.starts_with("invalid HTTP version") {
        format!(
            "{peer}'s answer is not HTTP/1.x: it must begin with a status line such as \
             `HTTP/1.1 200 OK` (is another protocol listening on that port, or an https:// \
             server addressed with http://?)"
        )
    } else if words.starts_with("invalid HTTP header") {
        format!(
            "{peer}'s answer has a malformed header field: a name or value with a character \
             HTTP does not allow, a line without a colon, or a carriage return without its \
             line feed"
        )
    } else if words.contains("content-length") {
        format!(
            "{peer}'s answer has an invalid Content-Length: not a number, or several that differ"
        )
    } else if words.contains("transfer-encoding") {
        format!("{peer}'s answer is HTTP/1.0, which has no Transfer-Encoding, yet carries one")
    } else {
        format!("{peer}'s answer is not valid HTTP/1")
    };
    Some(format!("{why} ({words})"))
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn loopback_hosts_are_told_apart_from_others() {
        for url in [
            "http://127.0.0.1:8080/notify",
            "http://127.9.8.7/x",
            "http://localhost/",
            "https://LOCALHOST.:9443",
            "http://api.localhost:81/a?b",
            "http://[::1]:8080/notify",
            "http://user:secret@127.0.0.1:1/x",
            "http://Api.LocalHost/",
        ] {
            assert!(is_loopback(url), "{url} is this machine");
        }
        for url in [
            "https://test-open.whalet.com/api",
            "http://10.0.0.2:8080/notify",
            "http://[2001:db8::1]:80/",
            "http://localhost.example.com/",
            "http://127.0.0.1.example.com/",
            "http://evil.com#@127.0.0.1/",
            "http://xn--localhost-é.com/",
            "http://é.localhos/",
            "http://localhostx/",
        ] {
            assert!(!is_loopback(url), "{url} is another host");
        }
    }

    /// An HTTP server on loopback that answers every request with `text` and the request line
    /// it received.
    async fn answering(text: &'static str) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let n = stream.read(&mut buf).await.unwrap_or(0);
                    let head = String::from_utf8_lossy(&buf[..n]);
                    let line = head.lines().next().unwrap_or_default().to_owned();
                    let body = format!("{text} {line}");
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(reply.as_bytes()).await;
                });
            }
        });
        addr
    }

    /// A loopback destination is reached directly although a proxy is set; another host goes
    /// through the proxy (here a local stand-in that answers for it).
    #[tokio::test]
    async fn a_proxy_serves_other_hosts_and_never_loopback() {
        let proxy = answering("proxied").await;
        let target = answering("direct").await;
        let client = HttpClient::build(
            Some(reqwest::Proxy::all(format!("http://{proxy}")).unwrap()),
            crate::http::resolve::DEFAULT_LOOKUPS,
        );
        let timeout = Duration::from_secs(5);

        let local = client
            .get(&format!("http://{target}/notify"), timeout)
            .await
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&local.body),
            "direct GET /notify HTTP/1.1"
        );

        let remote = client
            .get("http://partner.example/notify", timeout)
            .await
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&remote.body),
            "proxied GET http://partner.example/notify HTTP/1.1"
        );
    }

    /// A body that stops short of its `Content-Length`: `post` fails with why, and
    /// `post_keeping_status` keeps the status and what came.
    #[tokio::test]
    async fn a_body_cut_short_keeps_its_status_only_where_asked() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/notify", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buf = vec![0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let reply = "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nSUCC";
                let _ = stream.write_all(reply.as_bytes()).await;
            }
        });
        let client = HttpClient::new();
        let timeout = Duration::from_secs(5);
        let body = || Bytes::from_static(b"{}");
        let why = client
            .post(&url, "application/json", body(), timeout)
            .await
            .unwrap_err();
        let kept = client
            .post_keeping_status(&Target::new(&url), "application/json", body(), timeout)
            .await
            .unwrap();
        assert_eq!(kept.status, 200);
        assert_eq!(&kept.body[..], b"SUCC");
        assert_eq!(kept.broken.as_deref(), Some(why.as_str()));
    }

    /// An answer past the client's limit is cut there and marked truncated: the default limit
    /// is a partner acknowledgement's, and `with_answer_limit` reads a longer one whole.
    #[tokio::test]
    async fn an_answer_is_read_up_to_the_clients_limit() {
        let long: &'static str = Box::leak("x".repeat(MAX_ANSWER_BYTES + 100).into_boxed_str());
        let url = format!("http://{}/reply", answering(long).await);
        let timeout = Duration::from_secs(5);
        let cut = HttpClient::new().get(&url, timeout).await.unwrap();
        assert!(cut.truncated);
        assert_eq!(cut.body.len(), MAX_ANSWER_BYTES);
        let client = HttpClient::new().with_answer_limit(1024 * 1024);
        assert_eq!(client.answer_limit(), 1024 * 1024);
        let whole = client.get(&url, timeout).await.unwrap();
        assert!(!whole.truncated);
        assert!(
            whole.body.len() > MAX_ANSWER_BYTES + 100,
            "{}",
            whole.body.len()
        );
        let small = HttpClient::new().with_answer_limit(10);
        let cut = small.get(&url, timeout).await.unwrap();
        assert!(cut.truncated);
        assert_eq!(&cut.body[..], b"xxxxxxxxxx");
    }

    /// A server on loopback that answers every connection's first request with `reply` and
    /// closes it; the URL to POST to.
    async fn raw(reply: Vec<u8>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/notify", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let reply = reply.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let _ = stream.read(&mut buf).await;
                    let _ = stream.write_all(&reply).await;
                });
            }
        });
        url
    }

    /// Why a POST to a server answering `reply` failed (or `Ok` with the status it answered).
    async fn posting(client: &HttpClient, reply: String) -> Result<u16, String> {
        let url = raw(reply.into_bytes()).await;
        client
            .post(
                &url,
                "application/json",
                Bytes::from_static(b"{}"),
                Duration::from_secs(5),
            )
            .await
            .map(|r| r.status)
    }

    /// An answer head with `fields` header fields (`content-length` one of them), each other
    /// one carrying `value`.
    fn head_with(fields: usize, value: &str) -> String {
        let mut head = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n".to_owned();
        for i in 1..fields {
            head.push_str(&format!("x-field-{i}: {value}\r\n"));
        }
        head + "\r\n"
    }

    /// Report notif #2: an answer the HTTP parser refuses says whose answer it was, what was
    /// wrong with it and the limit it went over, with the parser's own words after; hyper's
    /// words alone ("message head is too large", "invalid HTTP version parsed") said neither.
    #[tokio::test]
    async fn an_unreadable_answer_says_what_the_receiver_sent_wrong() {
        let client = HttpClient::new();
        let too_large = format!(
            "the receiver's answer head is over the client's limits: more than {} header \
             fields, or more than {} bytes of status line and header fields",
            crate::http::HYPER_MAX_HEADERS,
            HYPER_MAX_HEAD_BYTES
        );
        // 100 header fields are read; 101 (about 2 KB in all) are over the count.
        assert_eq!(posting(&client, head_with(100, "v")).await, Ok(200));
        let why = posting(&client, head_with(101, "v")).await.unwrap_err();
        assert!(why.starts_with(&too_large), "{why}");
        assert!(why.ends_with("(message head is too large)"), "{why}");
        // 20 fields of 100 KB are under the count and over the bytes. (The bound is checked
        // between reads, and one read may take in more than it: hyper took a head of 500 KB.)
        let why = posting(&client, head_with(20, &"b".repeat(100_000)))
            .await
            .unwrap_err();
        assert!(why.starts_with(&too_large), "{why}");

        let why = posting(&client, "SSH-2.0-OpenSSH_9.6\r\n".into())
            .await
            .unwrap_err();
        assert_eq!(
            why,
            "the receiver's answer is not HTTP/1.x: it must begin with a status line such as \
             `HTTP/1.1 200 OK` (is another protocol listening on that port, or an https:// \
             server addressed with http://?) (invalid HTTP version parsed)"
        );
        // Each unreadable answer, the start of what is said of it and hyper's words at its end.
        let cases = [
            (
                "HTTP/1.1 2000 OK\r\n\r\n",
                "the receiver's answer has a malformed status line: its status code must be three digits",
                "",
            ),
            (
                "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
                "the receiver's answer has a malformed header field",
                "(invalid HTTP header parsed)",
            ),
            (
                "HTTP/1.1 200 OK\r\ncontent-length: ten\r\n\r\n",
                "the receiver's answer has an invalid Content-Length",
                "",
            ),
            (
                "HTTP/1.1 200 OK\r\ncontent-le",
                "the receiver closed the connection before its answer was complete",
                "(connection closed before message completed)",
            ),
        ];
        for (answer, starts, ends) in cases {
            let why = posting(&client, answer.into()).await.unwrap_err();
            assert!(why.starts_with(starts) && why.ends_with(ends), "{why}");
        }

        // A client of the provider's replies names the server instead.
        let why = posting(
            &client.clone().answered_by("the server"),
            "SSH-2.0-x\r\n".into(),
        )
        .await
        .unwrap_err();
        assert!(
            why.starts_with("the server's answer is not HTTP/1.x"),
            "{why}"
        );
    }

    /// When the proxy cannot be reached, the failure says a proxy was in the way.
    #[tokio::test]
    async fn a_failed_proxy_is_named_in_the_error() {
        // Nothing listens on port 9.
        let client = HttpClient::build(
            Some(reqwest::Proxy::all("http://127.0.0.1:9").unwrap()),
            crate::http::resolve::DEFAULT_LOOKUPS,
        );
        let why = client
            .get("http://partner.example/notify", Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(why.contains("connection failed"), "{why}");
        assert!(
            why.contains("the environment sets a proxy, ALL_PROXY: unless NO_PROXY"),
            "{why}"
        );
    }
}
