//! `cc-relay status`: asks a running relay's `/health`.

use std::time::Duration;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::cli::StatusArgs;
use crate::{config_path, output};

pub fn run(args: &StatusArgs) -> anyhow::Result<()> {
    let base = match &args.url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let (config, _) = config_path::load(args.config.config.as_deref())?;
            format!("http://{}", config.server.listen)
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let health = runtime.block_on(get(&format!("{base}/health")));
    match health {
        Ok((200, body)) => {
            output::say(&format!(
                "cc-relay at {base} is running: {}",
                String::from_utf8_lossy(&body).trim()
            ));
            Ok(())
        }
        Ok((status, _)) => bail!("cc-relay at {base} answered /health with status {status}"),
        Err(err) => bail!("cc-relay at {base} is not reachable: {err:#}"),
    }
}

async fn get(url: &str) -> anyhow::Result<(u16, Bytes)> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let uri = url.parse().with_context(|| format!("invalid URL {url}"))?;
    let response = tokio::time::timeout(Duration::from_secs(5), client.get(uri))
        .await
        .context("timed out")??;
    let status = response.status().as_u16();
    let body = tokio::time::timeout(Duration::from_secs(5), response.into_body().collect())
        .await
        .context("timed out reading the body")??
        .to_bytes();
    Ok((status, body))
}
