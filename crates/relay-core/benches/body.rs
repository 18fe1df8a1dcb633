//! Body handling on the real Claude Code request (`claude-code-request.json`,
//! 86 KB): extracting the model (and the other fields the relay reads) with
//! `inspect_request`, and the model-mapping rewrite with `rewrite_model`.
//!
//! `cargo bench -p relay-core --bench body`
//!
//! The fixture is read from `$CC_RELAY_FIXTURE`, else from the shared
//! fixtures beside the workspace; without it the benches use a synthetic
//! body of the same size and shape, and say so.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use relay_core::{inspect_request, may_carry_thinking, rewrite_model};

fn fixture() -> Vec<u8> {
    let path = std::env::var_os("CC_RELAY_FIXTURE").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/fixtures/claude-code-request.json")
        },
        PathBuf::from,
    );
    match std::fs::read(&path) {
        Ok(body) => body,
        Err(error) => {
            let mut err = std::io::stderr();
            let _ = std::io::Write::write_fmt(
                &mut err,
                format_args!(
                    "{}: {error}; using a synthetic 86 KB body\n",
                    path.display()
                ),
            );
            synthetic()
        }
    }
}

/// A Messages request of about 86 KB: long text turns, tools, system blocks.
fn synthetic() -> Vec<u8> {
    let text = "lorem ipsum dolor sit amet consectetur ".repeat(50);
    let messages: Vec<String> = (0..40)
        .map(|i| {
            let role = if i % 2 == 0 { "user" } else { "assistant" };
            format!(r#"{{"role":"{role}","content":[{{"type":"text","text":"{text}"}}]}}"#)
        })
        .collect();
    format!(
        r#"{{"model":"claude-sonnet-4-5","messages":[{}],"system":[{{"type":"text","text":"{text}"}}],"max_tokens":32000,"stream":true}}"#,
        messages.join(",")
    )
    .into_bytes()
}

fn body(c: &mut Criterion) {
    let body = fixture();
    let summary = match inspect_request(&body) {
        Ok(summary) => summary,
        Err(error) => {
            let mut err = std::io::stderr();
            let _ =
                std::io::Write::write_fmt(&mut err, format_args!("fixture rejected: {error}\n"));
            return;
        }
    };
    let mut group = c.benchmark_group(format!("body_{}KB", body.len() / 1024));
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("inspect_request (model extraction)", |b| {
        b.iter(|| inspect_request(black_box(&body)));
    });
    group.bench_function("rewrite_model (model mapping)", |b| {
        b.iter(|| rewrite_model(black_box(&body), black_box(&summary), black_box("glm-4.6")));
    });
    group.bench_function("inspect + rewrite", |b| {
        b.iter(|| {
            inspect_request(black_box(&body))
                .map(|summary| rewrite_model(&body, &summary, "glm-4.6"))
        });
    });
    group.bench_function("may_carry_thinking (pre-check)", |b| {
        b.iter(|| may_carry_thinking(black_box(&body)));
    });
    group.finish();
}

criterion_group!(benches, body);
criterion_main!(benches);
