//! The gRPC management service (`ccrelay.admin.v1.Admin` on `grpc.listen`),
//! in process against a mock upstream, with a client generated from the
//! same .proto: every method, a `WatchEvents` stream that receives a
//! request's completion, refusals without a token and with the read-only
//! token on writes, and reflection listing the service.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin_support;

use admin_support::{READ_TOKEN, Relay, UPSTREAM_KEY, WAIT, WRITE_TOKEN};
use relay_admin_api::grpc::admin_client::AdminClient;
use relay_admin_api::grpc::{self as pb, watch_events_response::Item};
use relay_test_support::{MockReply, MockUpstream, TestClient};
use tokio_stream::StreamExt;
use tonic::transport::Channel;
use tonic::{Code, Request};

async fn client(relay: &Relay) -> AdminClient<Channel> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", relay.grpc))
        .unwrap()
        .connect_timeout(WAIT)
        .timeout(WAIT)
        .connect()
        .await
        .unwrap();
    AdminClient::new(channel)
}

fn with_token<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

fn provider(name: &str) -> pb::ProviderRequest {
    pb::ProviderRequest { name: name.into() }
}

async fn send_message(relay: &Relay) -> u16 {
    let body = r#"{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}"#;
    TestClient::new()
        .request("POST", &format!("{}/v1/messages", relay.url), &[], body)
        .await
        .unwrap()
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_method_answers_with_the_same_data_as_http() {
    let mock = MockUpstream::start().await.unwrap();
    mock.set_default(MockReply::message("hello from the mock"));
    let relay = Relay::start(&mock, "methods").await;
    let mut client = client(&relay).await;

    // WatchEvents first, so the request below is seen finishing.
    let mut events = client
        .watch_events(with_token(pb::WatchEventsRequest {}, READ_TOKEN))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(send_message(&relay).await, 200);
    let item = tokio::time::timeout(WAIT, events.next())
        .await
        .expect("an event within the wait")
        .expect("the stream is open")
        .unwrap();
    let Some(Item::Request(event)) = item.item else {
        panic!("expected a request event, got {item:?}");
    };
    assert_eq!(event.provider, "primary");
    assert_eq!(event.status, 200);
    assert_eq!(event.path, "/v1/messages");
    assert_eq!(event.model, "claude-sonnet-4-5");
    assert!(event.latency_ms > 0.0);

    let stats = client
        .get_stats(with_token(pb::GetStatsRequest {}, READ_TOKEN))
        .await
        .unwrap()
        .into_inner();
    assert!(stats.read_only, "the read-only token reads read-only");
    assert_eq!(stats.requests_total, 1);
    let primary = &stats.providers[0];
    assert_eq!(primary.name, "primary");
    assert_eq!(primary.requests, 1);
    assert_eq!(primary.circuit(), pb::Circuit::Closed);
    assert!(primary.request_latency_ms.unwrap().p50.unwrap() > 0.0);
    assert_eq!(primary.keys.len(), 1);
    assert!(!primary.keys[0].id.contains(UPSTREAM_KEY));

    let write_stats = client
        .get_stats(with_token(pb::GetStatsRequest {}, WRITE_TOKEN))
        .await
        .unwrap()
        .into_inner();
    assert!(!write_stats.read_only);

    let config = client
        .get_config(with_token(pb::GetConfigRequest {}, READ_TOKEN))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(config.generation, 1);
    assert!(config.effective.contains("primary"));
    for secret in [WRITE_TOKEN, READ_TOKEN, UPSTREAM_KEY] {
        assert!(!config.effective.contains(secret), "{secret} in GetConfig");
    }
    assert!(config.effective.contains("[redacted]"));

    let disabled = client
        .disable_provider(with_token(provider("primary"), WRITE_TOKEN))
        .await
        .unwrap()
        .into_inner();
    assert!(disabled.disabled_by_operator && disabled.changed);
    let listed = TestClient::new()
        .request(
            "GET",
            &format!("{}/admin/stats", relay.url),
            &[("authorization", &format!("Bearer {READ_TOKEN}"))],
            "",
        )
        .await
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.body);
    assert!(
        listed.contains(r#""disabled_by_operator":true"#),
        "{listed}"
    );
    let enabled = client
        .enable_provider(with_token(provider("primary"), WRITE_TOKEN))
        .await
        .unwrap()
        .into_inner();
    assert!(!enabled.disabled_by_operator && enabled.changed);
    let missing = client
        .disable_provider(with_token(provider("nope"), WRITE_TOKEN))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);

    let reloaded = client
        .reload(with_token(pb::ReloadRequest {}, WRITE_TOKEN))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reloaded.generation, 2);
    assert_eq!(reloaded.providers, ["primary"]);
    let config = client
        .get_config(with_token(pb::GetConfigRequest {}, WRITE_TOKEN))
        .await
        .unwrap()
        .into_inner();
    let last = config.last_reload.expect("the reload is recorded");
    assert!(last.ok && last.generation == 2 && last.problems.is_empty());

    drop(events);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_scopes_are_enforced() {
    let mock = MockUpstream::start().await.unwrap();
    let relay = Relay::start(&mock, "scopes").await;
    let mut client = client(&relay).await;

    let refused = client
        .get_stats(Request::new(pb::GetStatsRequest {}))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    let wrong = client
        .get_stats(with_token(pb::GetStatsRequest {}, "not-the-token"))
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Code::Unauthenticated);
    assert!(!wrong.message().contains(WRITE_TOKEN));
    let no_stream = client
        .watch_events(Request::new(pb::WatchEventsRequest {}))
        .await
        .unwrap_err();
    assert_eq!(no_stream.code(), Code::Unauthenticated);

    for status in [
        client
            .disable_provider(with_token(provider("primary"), READ_TOKEN))
            .await
            .unwrap_err(),
        client
            .enable_provider(with_token(provider("primary"), READ_TOKEN))
            .await
            .unwrap_err(),
        client
            .reload(with_token(pb::ReloadRequest {}, READ_TOKEN))
            .await
            .unwrap_err(),
    ] {
        assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
        assert!(status.message().contains("read-only"));
    }
    // The refused writes changed nothing.
    let stats = client
        .get_stats(with_token(pb::GetStatsRequest {}, READ_TOKEN))
        .await
        .unwrap()
        .into_inner();
    assert!(!stats.providers[0].disabled_by_operator);
    assert_eq!(stats.config_generation, 1);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_lists_the_service() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let mock = MockUpstream::start().await.unwrap();
    let relay = Relay::start(&mock, "reflection").await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", relay.grpc))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut reflection = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = reflection
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let answer = tokio::time::timeout(WAIT, answers.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("expected a service list, got {answer:?}");
    };
    let names: Vec<_> = list.service.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"ccrelay.admin.v1.Admin"), "{names:?}");
    drop(answers);
    relay.stop().await;
}
