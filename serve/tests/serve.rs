//! The server plumbing end to end on loopback: HTTPS with a pinned CA (and the refusals of
//! another CA, the web PKI, a certificate for another name), the web apps' files (content
//! types, index, redirects, only the app folders, no traversal, gzip, page headers), and
//! CORS for exactly the allowed origins.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::Read;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use ecert_client::http::{HttpError, Unreachable};
use ecert_client::{Http, TlsProblem, Transport};
use ecert_serve::{Listener, Origin, Security, TlsFiles};
use ecert_testkit::http::{preflight, request};
use ecert_testkit::tls::TestCa;
use ecert_testkit::Scratch;

/// A server running on its own runtime until dropped.
struct Running {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }
}

fn start(router: Router, security: Security) -> Running {
    let here: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let listener = Listener::bind(here, security, false).unwrap();
    let url = listener.url();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let stopped = async move {
                let _ = stopped.await;
            };
            listener.serve(router, stopped).await.unwrap();
        });
    });
    Running {
        url,
        stop: Some(stop),
        thread: Some(thread),
    }
}

fn api() -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/v1/export", get(|| async { "export" }))
}

fn tls(cert: &Path, key: &Path) -> Security {
    Security::Tls(
        TlsFiles {
            cert: cert.to_owned(),
            key: key.to_owned(),
        }
        .load()
        .unwrap(),
    )
}

fn client(transport: &Transport) -> Http {
    Http::with_transport("test", Duration::from_secs(10), transport)
}

fn tls_problem(result: Result<ecert_client::Reply, HttpError>) -> TlsProblem {
    match result {
        Err(HttpError::Unreachable {
            cause: Unreachable::Tls(problem),
            ..
        }) => problem,
        other => panic!("expected a TLS failure, got {other:?}"),
    }
}

#[test]
fn https_trusts_the_pinned_ca_only() {
    let scratch = Scratch::new("serve-https");
    let ca = TestCa::new(&scratch.path("ca"));
    let other = TestCa::new(&scratch.path("other-ca"));
    let (cert, key) = ca.server("node", &[]);
    let server = start(api(), tls(&cert, &key));
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let health = format!("{}/health", server.url);

    let pinned = Transport::pinned_file(&ca.ca_file()).unwrap();
    let reply = client(&pinned).get(&health).unwrap();
    assert_eq!((reply.status, reply.body.as_slice()), (200, &b"ok"[..]));
    // localhost is in the certificate too.
    let by_name = health.replace("127.0.0.1", "localhost");
    assert_eq!(client(&pinned).get(&by_name).unwrap().status, 200);

    // Another CA, and the public web authorities, do not vouch for this server.
    let wrong = Transport::pinned_file(&other.ca_file()).unwrap();
    let problem = tls_problem(client(&wrong).get(&health));
    assert_eq!(problem, TlsProblem::UnknownAuthority);
    assert!(problem.to_string().contains("--ca"), "{problem}");
    assert_eq!(
        tls_problem(client(&Transport::default()).get(&health)),
        TlsProblem::UnknownAuthority
    );
    let e = client(&wrong).get(&health).unwrap_err();
    assert!(e.to_string().contains("not issued by an authority"), "{e}");

    // Plain HTTP to a TLS server fails; it is never taken for an answer.
    assert!(client(&pinned)
        .get(&health.replace("https://", "http://"))
        .is_err());
}

#[test]
fn a_ca_read_back_from_its_folder_signs_for_the_same_ca_file() {
    let scratch = Scratch::new("serve-ca-again");
    let first = TestCa::new(&scratch.path("ca"));
    let pem = std::fs::read(first.ca_file()).unwrap();
    let again = TestCa::new(&scratch.path("ca"));
    assert_eq!(
        std::fs::read(again.ca_file()).unwrap(),
        pem,
        "the CA is kept"
    );
    let (cert, key) = again.server("later", &[]);
    let server = start(api(), tls(&cert, &key));
    let pinned = Transport::pinned_file(&first.ca_file()).unwrap();
    assert_eq!(
        client(&pinned)
            .get(&format!("{}/health", server.url))
            .unwrap()
            .status,
        200
    );
}

#[test]
fn a_certificate_for_another_name_is_refused() {
    let scratch = Scratch::new("serve-name");
    let ca = TestCa::new(&scratch.path("ca"));
    let (cert, key) = ca.server_for_others("elsewhere", &["node.example"]);
    let server = start(api(), tls(&cert, &key));
    let pinned = Transport::pinned_file(&ca.ca_file()).unwrap();
    assert_eq!(
        tls_problem(client(&pinned).get(&format!("{}/health", server.url))),
        TlsProblem::WrongName
    );
}

#[test]
fn a_key_of_another_certificate_is_refused_naming_both_files() {
    let scratch = Scratch::new("serve-mismatch");
    let ca = TestCa::new(&scratch.path("ca"));
    let (cert, _) = ca.server("one", &[]);
    let (_, key) = ca.server("two", &[]);
    let e = TlsFiles {
        cert: cert.clone(),
        key: key.clone(),
    }
    .load()
    .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("one.pem") && text.contains("two.key"),
        "{text}"
    );
    assert!(text.contains("does not match"), "{text}");
}

/// A web folder as the repository lays it out, with a secret outside the app folders.
fn web_folder(dir: &Path) -> Vec<u8> {
    let files: [(&str, &[u8]); 11] = [
        ("wallet/index.html", b"<!doctype html><title>wallet</title>"),
        ("wallet/manifest.webmanifest", b"{\"name\":\"wallet\"}"),
        ("wallet/app.js", b"import './x.mjs';"),
        ("wallet/x.mjs", b"export const x = 1;"),
        (
            "counter/index.html",
            b"<!doctype html><title>counter</title>",
        ),
        ("common/style.css", b"body{}"),
        (
            "common/icon.svg",
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        ),
        ("common/icon.png", b"\x89PNG\r\n\x1a\n"),
        ("common/strings.json", b"{}"),
        ("core/src/lib.rs", b"SECRET SOURCE"),
        ("core/Cargo.toml", b"SECRET SOURCE"),
    ];
    for (path, bytes) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    // A compressible module the size of a small wasm file.
    let wasm: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::create_dir_all(dir.join("core/pkg")).unwrap();
    std::fs::write(dir.join("core/pkg/ecert_web_bg.wasm"), &wasm).unwrap();
    std::fs::write(dir.join("core/pkg/ecert_web.js"), b"export default 1;").unwrap();
    std::fs::write(dir.join(".secret"), b"SECRET SOURCE").unwrap();
    wasm
}

/// The web apps' files in the folder `web` of a new scratch folder `name`, served with
/// the API, and CORS for `origins`: the folder (kept while the server runs), the wasm
/// file's bytes, the server.
fn apps_server(name: &str, origins: &[&str]) -> (Scratch, Vec<u8>, Running) {
    let scratch = Scratch::new(name);
    let web = scratch.path("web");
    let wasm = web_folder(&web);
    let origins: Vec<Origin> = origins.iter().map(|o| Origin::parse(o).unwrap()).collect();
    let mut router = api().fallback_service(ecert_serve::apps::router(&web, false).unwrap());
    if let Some(cors) = ecert_serve::cors::layer(&origins) {
        router = router.layer(cors);
    }
    (scratch, wasm, start(router, Security::Plain))
}

#[test]
fn the_apps_are_served_and_nothing_else() {
    let (_scratch, wasm, server) = apps_server("serve-apps", &[]);
    let get = |path: &str| request("GET", &format!("{}{path}", server.url), &[]);

    for (path, to) in [
        ("/", "/wallet/"),
        ("/wallet", "/wallet/"),
        ("/counter", "/counter/"),
    ] {
        let reply = get(path);
        assert!(
            (301..=308).contains(&reply.status),
            "{path}: {}",
            reply.status
        );
        assert_eq!(reply.header("location"), Some(to), "{path}");
    }

    let page = get("/wallet/");
    assert_eq!(page.status, 200);
    assert_eq!(page.body, b"<!doctype html><title>wallet</title>");
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    let csp = page.header("content-security-policy").unwrap();
    for part in [
        "script-src 'self' 'wasm-unsafe-eval'",
        "img-src 'self' blob: data:",
        "connect-src 'self' https:",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(page
        .header("permissions-policy")
        .unwrap()
        .contains("camera=(self)"));
    assert_eq!(
        get("/counter/").body,
        b"<!doctype html><title>counter</title>"
    );
    assert_eq!(get("/counter/index.html").status, 200);

    for (path, kind) in [
        ("/core/pkg/ecert_web_bg.wasm", "application/wasm"),
        ("/core/pkg/ecert_web.js", "text/javascript"),
        ("/wallet/manifest.webmanifest", "application/manifest+json"),
        ("/wallet/app.js", "text/javascript"),
        ("/wallet/x.mjs", "text/javascript"),
        ("/common/style.css", "text/css; charset=utf-8"),
        ("/common/icon.svg", "image/svg+xml"),
        ("/common/icon.png", "image/png"),
        ("/common/strings.json", "application/json"),
    ] {
        let reply = get(path);
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(reply.header("content-type"), Some(kind), "{path}");
    }
    assert_eq!(get("/core/pkg/ecert_web_bg.wasm").body, wasm);

    // Only the app folders, and nothing above them, however the path is written.
    for path in [
        "/core/src/lib.rs",
        "/core/Cargo.toml",
        "/.secret",
        "/wallet/../core/src/lib.rs",
        "/wallet/%2e%2e/core/src/lib.rs",
        "/wallet/%2E%2E%2Fcore%2Fsrc%2Flib.rs",
        "/core/pkg/..%2f..%2fcore/src/lib.rs",
        "/common/%2e%2e/%2e%2e/.secret",
        "/wallet/..%5c..%5ccore/src/lib.rs",
        "/%2e%2e/core/src/lib.rs",
        "/wallet/missing.js",
    ] {
        let reply = get(path);
        assert_eq!(reply.status, 404, "{path}");
        assert!(
            !String::from_utf8_lossy(&reply.body).contains("SECRET"),
            "{path}"
        );
    }
    // Reading only; the API keeps its routes.
    let post = request("POST", &format!("{}/wallet/", server.url), &[]);
    assert_eq!(post.status, 405);
    let head = request("HEAD", &format!("{}/wallet/", server.url), &[]);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(get("/v1/export").body, b"export");
    assert_eq!(get("/health").body, b"ok");
    assert_eq!(get("/v1/nothing").status, 404);
}

#[test]
fn the_apps_are_gzipped_when_the_browser_accepts_it() {
    let (_scratch, wasm, server) = apps_server("serve-gzip", &[]);
    let url = format!("{}/core/pkg/ecert_web_bg.wasm", server.url);
    let zipped = request("GET", &url, &[("accept-encoding", "gzip")]);
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert_eq!(zipped.header("content-type"), Some("application/wasm"));
    assert!(zipped.body.len() < wasm.len() / 4, "{}", zipped.body.len());
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(zipped.body.as_slice())
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, wasm);
    let plain = request("GET", &url, &[]);
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.body, wasm);

    // Revalidation: a service worker's check of a file the page already loaded costs a
    // "304 Not Modified", not a second download.
    let modified = zipped
        .header("last-modified")
        .expect("a Last-Modified header");
    let again = request(
        "GET",
        &url,
        &[("accept-encoding", "gzip"), ("if-modified-since", modified)],
    );
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
}

#[test]
fn cross_origin_calls_only_from_the_allowed_origins() {
    let allowed = "https://127.0.0.1:7101";
    let (_scratch, _, server) = apps_server("serve-cors", &[allowed]);
    let export = format!("{}/v1/export", server.url);
    let preflight = |origin: &str| preflight(&export, origin);
    let yes = preflight(allowed);
    assert_eq!(yes.header("access-control-allow-origin"), Some(allowed));
    let methods = yes.header("access-control-allow-methods").unwrap();
    assert!(
        methods.contains("POST") && methods.contains("GET"),
        "{methods}"
    );
    assert!(yes
        .header("access-control-allow-headers")
        .unwrap()
        .contains("content-type"));
    let no = preflight("https://evil.example");
    assert_eq!(no.header("access-control-allow-origin"), None);

    let call = |origin: &str| request("GET", &export, &[("origin", origin)]);
    assert_eq!(
        call(allowed).header("access-control-allow-origin"),
        Some(allowed)
    );
    assert_eq!(
        call("https://127.0.0.1:7102").header("access-control-allow-origin"),
        None
    );

    // No origin named: no CORS answer for anyone.
    let (_closed_scratch, _, closed) = apps_server("serve-cors-none", &[]);
    let reply = request(
        "GET",
        &format!("{}/v1/export", closed.url),
        &[("origin", allowed)],
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("access-control-allow-origin"), None);
}
