//! Serves the gRPC management service on its own listener (`grpc.listen`):
//! HTTP/2 cleartext through hyper, like the main listener, routing by the
//! gRPC path to the admin service or to reflection. No tonic transport and
//! no axum router: two services need one `match`.

use std::convert::Infallible;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use relay_admin_api::grpc::{FILE_DESCRIPTOR_SET, SERVICE_NAME, admin_server::AdminServer};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::GrpcAdmin;
use crate::admin::Management;

/// The same bound as the main listener's h2 header list.
const MAX_HEADER_LIST_BYTES: u32 = 64 * 1024;
/// A silent peer is dropped after this (keepalive ping and its timeout).
const KEEPALIVE: Duration = Duration::from_secs(30);

/// Accepts until `shutdown` is cancelled, then lets open calls finish for up
/// to `drain` (event streams end at shutdown by themselves).
pub async fn serve(
    listener: TcpListener,
    management: Management,
    shutdown: CancellationToken,
    drain: Duration,
) {
    let admin = AdminServer::new(GrpcAdmin::new(management));
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
            .with_service_name(SERVICE_NAME)
    };
    let (v1, v1alpha) = match (reflection().build_v1(), reflection().build_v1alpha()) {
        (Ok(v1), Ok(v1alpha)) => (v1, v1alpha),
        (Err(error), _) | (_, Err(error)) => {
            tracing::error!(%error, "gRPC reflection could not be built; serving without it");
            return serve_without_reflection(listener, admin, shutdown, drain).await;
        }
    };
    let admin_prefix = format!("/{SERVICE_NAME}/");
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let path = request.uri().path();
        let admin = admin.clone();
        let (v1, v1alpha) = (v1.clone(), v1alpha.clone());
        let route = if path.starts_with(&admin_prefix) {
            Route::Admin
        } else if path.starts_with("/grpc.reflection.v1.ServerReflection/") {
            Route::ReflectionV1
        } else if path.starts_with("/grpc.reflection.v1alpha.ServerReflection/") {
            Route::ReflectionV1alpha
        } else {
            Route::Unknown
        };
        async move {
            let response = match route {
                Route::Admin => admin.oneshot(request).await,
                Route::ReflectionV1 => v1.oneshot(request).await,
                Route::ReflectionV1alpha => v1alpha.oneshot(request).await,
                Route::Unknown => Ok(unimplemented()),
            };
            Ok::<_, Infallible>(response.unwrap_or_else(|never| match never {}))
        }
    });
    accept_loop(listener, service, shutdown, drain).await;
}

enum Route {
    Admin,
    ReflectionV1,
    ReflectionV1alpha,
    Unknown,
}

async fn serve_without_reflection(
    listener: TcpListener,
    admin: AdminServer<GrpcAdmin>,
    shutdown: CancellationToken,
    drain: Duration,
) {
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let admin = admin.clone();
        async move {
            let response = admin.oneshot(request).await;
            Ok::<_, Infallible>(response.unwrap_or_else(|never| match never {}))
        }
    });
    accept_loop(listener, service, shutdown, drain).await;
}

fn unimplemented() -> Response<tonic::body::Body> {
    tonic::Status::unimplemented("no such gRPC service on this relay").into_http()
}

async fn accept_loop<S>(
    listener: TcpListener,
    service: S,
    shutdown: CancellationToken,
    drain: Duration,
) where
    S: hyper::service::Service<
            Request<Incoming>,
            Response = Response<tonic::body::Body>,
            Error = Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let mut builder = auto::Builder::new(TokioExecutor::new()).http2_only();
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(MAX_HEADER_LIST_BYTES)
        .keep_alive_interval(KEEPALIVE)
        .keep_alive_timeout(KEEPALIVE);
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        tracing::warn!(error = %err, "gRPC accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let connection = builder
                    .serve_connection(TokioIo::new(stream), service.clone())
                    .into_owned();
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(err) = connection.await {
                        tracing::debug!(%peer, error = %err, "gRPC connection ended with an error");
                    }
                });
            }
            () = shutdown.cancelled() => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("gRPC drain timeout reached; closing remaining connections");
    }
}
