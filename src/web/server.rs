//! The HTTP server: one per address and port in a process, on a thread of its own running a
//! current-thread tokio runtime with hyper's HTTP/1 server. The first job that asks for a port
//! starts it; later jobs of the process that ask for the same one join it. Each job holds an
//! `Arc<WebServer>`: when the last one lets go, the server stops and its thread ends.

use std::convert::Infallible;
use std::fmt;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

use crate::runtime::lock::lock;
use crate::web::api::route;
use crate::web::registry::Registry;

/// The servers of this process, by the address and port they were asked for (port 0 included:
/// jobs that ask for any free port share one).
static SERVERS: Mutex<Vec<(String, u16, Weak<WebServer>)>> = Mutex::new(Vec::new());

/// Why a server could not start.
#[derive(Debug)]
pub enum WebError {
    PortInUse { address: String, port: u16 },
    Bind { address: String, port: u16, reason: String },
    Start(String),
}

impl fmt::Display for WebError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebError::PortInUse { address, port } => write!(
                f,
                "rest.port {port} is already in use on {address}: the job's dashboard cannot start there; \
                 set 'rest.port' to a free port, or to 0 to pick one"
            ),
            WebError::Bind { address, port, reason } => write!(
                f,
                "the job's dashboard cannot listen on {address} port {port} \
                 ('rest.address', 'rest.port'): {reason}"
            ),
            WebError::Start(reason) => write!(f, "the job's dashboard could not start: {reason}"),
        }
    }
}

/// A running server.
pub struct WebServer {
    address: String,
    port: u16,
    /// Where it listens, e.g. `http://127.0.0.1:8081/`.
    pub url: String,
    pub registry: Arc<Registry>,
    shutdown: Mutex<Option<oneshot::Sender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl WebServer {
    /// The server for `address` and `port` (0: any free port), started if this process has none
    /// there yet; the flag says whether it was started now.
    pub fn acquire(address: &str, port: u16) -> Result<(Arc<WebServer>, bool), WebError> {
        let mut servers = lock(&SERVERS);
        servers.retain(|(_, _, s)| s.strong_count() > 0);
        let found = servers
            .iter()
            .find(|(a, p, _)| a == address && *p == port)
            .and_then(|(_, _, s)| s.upgrade());
        if let Some(server) = found {
            return Ok((server, false));
        }
        let server = Arc::new(WebServer::start(address, port)?);
        servers.push((address.to_string(), port, Arc::downgrade(&server)));
        Ok((server, true))
    }

    fn start(address: &str, port: u16) -> Result<WebServer, WebError> {
        let listener = StdListener::bind((address, port)).map_err(|e| match e.kind() {
            std::io::ErrorKind::AddrInUse => WebError::PortInUse {
                address: address.to_string(),
                port,
            },
            _ => WebError::Bind {
                address: address.to_string(),
                port,
                reason: e.to_string(),
            },
        })?;
        let local = listener.local_addr().map_err(|e| WebError::Start(e.to_string()))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| WebError::Start(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .map_err(|e| WebError::Start(e.to_string()))?;
        let registry = Arc::new(Registry::default());
        let (stop, stopped) = oneshot::channel::<()>();
        let for_thread = Arc::clone(&registry);
        let thread = std::thread::Builder::new()
            .name(format!("ferroflow web :{}", local.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    tokio::spawn(accept(listener, for_thread));
                    let _ = stopped.await;
                });
                // Dropping the runtime ends every connection still open.
                drop(runtime);
            })
            .map_err(|e| WebError::Start(e.to_string()))?;
        Ok(WebServer {
            address: address.to_string(),
            port,
            url: url_of(local),
            registry,
            shutdown: Mutex::new(Some(stop)),
            thread: Mutex::new(Some(thread)),
        })
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        // Under the table's lock, so that a job asking for the same port waits until it is free.
        let mut servers = lock(&SERVERS);
        servers.retain(|(a, p, s)| s.strong_count() > 0 || !(a == &self.address && *p == self.port));
        if let Some(stop) = lock(&self.shutdown).take() {
            let _ = stop.send(());
        }
        if let Some(thread) = lock(&self.thread).take() {
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
        drop(servers);
    }
}

/// The URL of a server listening on `local`; an unspecified address (0.0.0.0) is reached on
/// this machine as localhost.
fn url_of(local: SocketAddr) -> String {
    let host = match local.ip() {
        ip if ip.is_unspecified() => "localhost".to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    format!("http://{host}:{}/", local.port())
}

async fn accept(listener: tokio::net::TcpListener, registry: Arc<Registry>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of file descriptors, or a connection reset before it was taken: go on.
            Err(_) => {
                tokio::task::yield_now().await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let registry = Arc::clone(&registry);
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let reply = respond(&registry, &request);
                async move { Ok::<_, Infallible>(reply) }
            });
            // A client that hangs up ends its connection, nothing else.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn respond(registry: &Registry, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    let head = request.method() == Method::HEAD;
    if request.method() != Method::GET && !head {
        return Response::builder()
            .status(StatusCode::METHOD_NOT_ALLOWED)
            .header("allow", "GET, HEAD")
            .header("content-type", "application/json; charset=UTF-8")
            .body(Full::new(Bytes::from_static(
                b"{\"errors\":[\"Only GET and HEAD requests are served.\"]}",
            )))
            .unwrap_or_default();
    }
    let reply = route(registry, request.uri().path(), request.uri().query());
    let body = if head { Bytes::new() } else { Bytes::from(reply.body) };
    Response::builder()
        .status(StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", reply.content_type)
        .header("cache-control", "no-store")
        .header("access-control-allow-origin", "*")
        .body(Full::new(body))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn get(url_port: u16, path: &str) -> String {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", url_port)).expect("connect");
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        out
    }

    #[test]
    fn serves_shares_a_port_and_frees_it_when_the_last_holder_lets_go() {
        let (a, started) = WebServer::acquire("127.0.0.1", 0).expect("start");
        assert!(started);
        let (b, started_again) = WebServer::acquire("127.0.0.1", 0).expect("join");
        assert!(!started_again);
        assert!(Arc::ptr_eq(&a, &b));
        let port: u16 = a
            .url
            .trim_end_matches('/')
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port");
        let reply = get(port, "/jobs");
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        assert!(reply.ends_with("{\"jobs\":[]}"), "{reply}");
        assert!(get(port, "/jobs/nope").starts_with("HTTP/1.1 404"));
        // Taken by another server: a clear error naming the port.
        let taken = match WebServer::acquire("127.0.0.1", port) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("the port was free"),
        };
        assert!(
            taken.contains(&format!("rest.port {port} is already in use")),
            "{taken}"
        );
        drop(a);
        drop(b);
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    }
}
