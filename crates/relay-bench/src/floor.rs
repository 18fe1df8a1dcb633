//! `relay-bench hyper-floor`: the least a hyper-based proxy can do, as a
//! reference target (`--peer hyper-floor`). It forwards each request to the
//! upstream as it is (same method, path, headers and streamed body) with
//! hyper-util's pooled client and streams the response back: no parsing,
//! routing, logging or timeouts. Run as its own process on a default
//! multi-threaded tokio runtime, like `cc-relay serve`, so the difference
//! between the two is what the relay does beyond moving bytes.
//!
//! It is a measuring stick, not a product: it exits by itself after
//! `--for` (default 1 h) in case nothing kills it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use http::{HeaderValue, Request, Response, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

/// Printed on stdout, followed by `http://ADDR`, once it listens.
pub const LISTENING: &str = "hyper-floor listening on ";

type Body = BoxBody<bytes::Bytes, hyper::Error>;

pub fn run(upstream: SocketAddr, run_for: Duration) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        crate::say(&format!("{LISTENING}http://{addr}"));
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client: Client<HttpConnector, Incoming> =
            Client::builder(TokioExecutor::new()).build(connector);
        let serve = async {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let client = client.clone();
                tokio::spawn(async move {
                    let service =
                        service_fn(move |request| forward(client.clone(), upstream, request));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        };
        tokio::select! {
            () = serve => {}
            () = tokio::time::sleep(run_for) => {}
        }
        anyhow::Ok(())
    })
}

async fn forward(
    client: Client<HttpConnector, Incoming>,
    upstream: SocketAddr,
    mut request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let path = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
    let Ok(uri) = format!("http://{upstream}{path}").parse::<Uri>() else {
        return Ok(status(StatusCode::BAD_REQUEST));
    };
    *request.uri_mut() = uri;
    if let Ok(host) = HeaderValue::from_str(&upstream.to_string()) {
        request.headers_mut().insert(header::HOST, host);
    }
    match client.request(request).await {
        Ok(response) => Ok(response.map(BodyExt::boxed)),
        Err(_) => Ok(status(StatusCode::BAD_GATEWAY)),
    }
}

fn status(code: StatusCode) -> Response<Body> {
    let body = Full::new(bytes::Bytes::new())
        .map_err(|never| match never {})
        .boxed();
    let mut response = Response::new(body);
    *response.status_mut() = code;
    response
}
