//! A tiny HTTP/1.1 server on loopback for tests: one request per connection, answered by
//! a route function, every request recorded. The [`crate::fake_node`] is built on it; a
//! test may also play any other service with it (a department's offer endpoint).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as the server received it.
#[derive(Clone, Debug)]
pub struct Request {
    /// `GET`, `POST`...
    pub method: String,
    /// The request target: path and query (`/v1/revocations?since=0`).
    pub target: String,
    /// The body.
    pub body: Vec<u8>,
}

impl Request {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The value of query parameter `name`.
    pub fn query(&self, name: &str) -> Option<&str> {
        let query = self.target.split_once('?')?.1;
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }
}

/// An answer: status, content type and body.
#[derive(Clone, Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Content type.
    pub content_type: &'static str,
    /// Body.
    pub body: Vec<u8>,
}

impl Reply {
    /// `200` with a CBOR body.
    pub fn cbor(body: Vec<u8>) -> Reply {
        Reply::with(200, "application/cbor", body)
    }

    /// `200` with a JSON body.
    pub fn json(value: &serde_json::Value) -> Reply {
        Reply::with(200, "application/json", value.to_string().into_bytes())
    }

    /// An error the way `docs/api.md` says: `{"error": code, "message": message}`.
    pub fn error(status: u16, code: &str, message: &str) -> Reply {
        let body = serde_json::json!({"error": code, "message": message}).to_string();
        Reply::with(status, "application/json", body.into_bytes())
    }

    /// Any status, type and body.
    pub fn with(status: u16, content_type: &'static str, body: Vec<u8>) -> Reply {
        Reply {
            status,
            content_type,
            body,
        }
    }
}

/// A running server; it stops answering when the test process ends.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    /// Serves `route` on a free loopback port.
    pub fn start(route: impl Fn(&Request) -> Reply + Send + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Some(request) = read_request(&mut stream) else {
                    continue;
                };
                let reply = route(&request);
                log.lock().unwrap().push(request);
                let head = format!(
                    "HTTP/1.1 {} Test\r\ncontent-type: {}\r\ncontent-length: {}\r\n\
                     connection: close\r\n\r\n",
                    reply.status,
                    reply.content_type,
                    reply.body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&reply.body);
            }
        });
        Server { url, requests }
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut length = 0;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            break;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        target,
        body,
    })
}

/// An address where nothing listens.
pub fn dead_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

/// An address that accepts one connection and never answers, for `hold`.
pub fn mute_address(hold: Duration) -> String {
    let mute = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", mute.local_addr().unwrap());
    std::thread::spawn(move || {
        let held: Vec<_> = mute.incoming().take(1).collect();
        std::thread::sleep(hold);
        drop(held);
    });
    url
}

/// An answer read by [`request`]: status, headers (names in lower case) and body, as sent.
#[derive(Clone, Debug)]
pub struct RawReply {
    /// The HTTP status.
    pub status: u16,
    /// The headers, names in lower case, in order.
    pub headers: Vec<(String, String)>,
    /// The body as sent (still compressed if it was).
    pub body: Vec<u8>,
}

impl RawReply {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One plain HTTP/1.1 request to a loopback server (`http://127.0.0.1:PORT/path`), with
/// extra `headers`, the path sent exactly as given (no normalisation, so `..` and percent
/// escapes reach the server); reads the whole answer. For what a library client hides:
/// `Origin`, `Accept-Encoding`, redirects, odd methods.
pub fn request(method: &str, url: &str, headers: &[(&str, &str)]) -> RawReply {
    request_with_body(method, url, headers, &[])
}

/// A browser's CORS preflight from `origin` for a `POST` with a `content-type` header to
/// `url` (a plain loopback URL, as for [`request`]).
pub fn preflight(url: &str, origin: &str) -> RawReply {
    request(
        "OPTIONS",
        url,
        &[
            ("origin", origin),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "content-type"),
        ],
    )
}

/// [`request`] with a body (and its `content-length`, when not empty).
pub fn request_with_body(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> RawReply {
    let rest = url.strip_prefix("http://").expect("a plain http:// URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut stream = TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        head.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an answer head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    RawReply {
        status,
        headers,
        body,
    }
}

/// The body of a chunked answer.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = raw.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&raw[..end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16)
            .expect("a chunk size");
        if size == 0 {
            return out;
        }
        let start = end + 2;
        out.extend_from_slice(&raw[start..start + size]);
        raw = &raw[start + size + 2..];
    }
}

/// Asserts that a raw exchange's answer (`ecert-testnet`'s hostile-client tools) is the
/// JSON error `code` with `status`, as every refusal of the node and the offer endpoint
/// is.
pub fn assert_json_error(answer: &ecert_testnet::hostile::raw::Answer, status: u16, code: &str) {
    assert_eq!(answer.status, status, "{}", answer.text());
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(
        answer.error_code().as_deref(),
        Some(code),
        "{}",
        answer.text()
    );
}
