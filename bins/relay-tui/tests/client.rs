//! The admin client and the background workers against a mock admin API on
//! loopback: the token, the errors the dashboard explains, the event stream,
//! and reconnecting after the relay restarts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use relay_tui::{Action, AdminClient, App, ClientError, Connection, Msg, Workers};
use serde_json::json;
use support::mock_admin::MockAdmin;
use support::*;
use tokio::sync::mpsc;

const TOKEN: &str = "admin-secret-0003";

fn client(mock: &MockAdmin, token: Option<&str>) -> AdminClient {
    AdminClient::new(&mock.url(), token.map(str::to_owned)).unwrap()
}

#[tokio::test]
async fn stats_need_the_right_token() {
    let mock = MockAdmin::start(Some(TOKEN), true, stats_json()).await;
    let stats = client(&mock, Some(TOKEN)).stats().await.unwrap();
    assert_eq!(stats, support::stats());

    for token in [None, Some("wrong")] {
        let err = client(&mock, token).stats().await.unwrap_err();
        assert!(
            matches!(&err, ClientError::Unauthorized { status: 401, message } if message == "invalid admin token"),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn a_relay_without_the_admin_api_is_not_enabled() {
    let mock = MockAdmin::start(None, true, stats_json()).await;
    let err = client(&mock, Some(TOKEN)).stats().await.unwrap_err();
    assert_eq!(err, ClientError::NotEnabled);
    assert!(err.to_string().contains("server.admin.token"));
    assert_eq!(
        client(&mock, Some(TOKEN)).events().await.unwrap_err(),
        ClientError::NotEnabled
    );
}

#[tokio::test]
async fn a_dead_relay_is_unreachable() {
    let addr = relay_test_support::unused_local_addr().unwrap();
    let client = AdminClient::new(&format!("http://{addr}"), None).unwrap();
    let err = client.stats().await.unwrap_err();
    assert!(matches!(err, ClientError::Unreachable(_)), "{err:?}");
    assert!(err.to_string().to_lowercase().contains("refused"), "{err}");
}

#[tokio::test]
async fn writes_are_posted_or_refused_as_read_only() {
    let writable = MockAdmin::start(Some(TOKEN), false, stats_json()).await;
    let client_w = client(&writable, Some(TOKEN));
    client_w.disable("z.ai primary").await.unwrap();
    client_w.enable("zai").await.unwrap();
    client_w.reload().await.unwrap();
    assert_eq!(
        writable.writes(),
        [
            "POST /admin/providers/z.ai%20primary/disable",
            "POST /admin/providers/zai/enable",
            "POST /admin/reload",
        ]
    );

    let read_only = MockAdmin::start(Some(TOKEN), true, stats_json()).await;
    let err = client(&read_only, Some(TOKEN))
        .disable("zai")
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::ReadOnly(_)), "{err:?}");
    assert!(err.to_string().contains("read-only"), "{err}");
    assert!(read_only.writes().is_empty());
}

#[tokio::test]
async fn the_event_stream_yields_request_events_only() {
    let mock = MockAdmin::start(Some(TOKEN), true, stats_json()).await;
    let mut stream = client(&mock, Some(TOKEN)).events().await.unwrap();
    mock.wait_for_subscribers(1).await;
    mock.send_raw(": keepalive\n\n");
    mock.send_raw("event: something_else\ndata: {}\n\n");
    mock.send_raw("event: request\ndata: not json\n\n");
    // One event split mid-line across two writes.
    let text = format!(
        "event: request\ndata: {}\n\n",
        event_json(7, "anthropic", "m", 200)
    );
    let (a, b) = text.split_at(30);
    mock.send_raw(a);
    mock.send_raw(b);
    mock.send_event(&event_json(8, "zai", "glm", 529));

    let first = next(&mut stream).await.unwrap();
    assert_eq!(first.id, "req-7");
    assert_eq!(first.input_tokens, Some(1234));
    let second = next(&mut stream).await.unwrap();
    assert_eq!((second.id.as_str(), second.status), ("req-8", 529));
}

async fn next(stream: &mut relay_tui::EventStream) -> Option<relay_tui::RequestEvent> {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("an event within 10 s")
        .unwrap()
}

/// Waits up to 15 s for a message matching `pred`, applying every message
/// to `app` on the way, as the event loop does.
async fn wait_for(
    rx: &mut mpsc::Receiver<Msg>,
    app: &mut App,
    what: &str,
    pred: impl Fn(&Msg) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let msg = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
            .expect("workers alive");
        let matched = pred(&msg);
        app.update(msg);
        if matched {
            return;
        }
    }
}

/// Like [`wait_for`], until the app's state satisfies `done`.
async fn wait_state(
    rx: &mut mpsc::Receiver<Msg>,
    app: &mut App,
    what: &str,
    done: impl Fn(&App) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !done(app) {
        let msg = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
            .expect("workers alive");
        app.update(msg);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_poll_follow_events_and_reconnect_after_a_restart() {
    let mut mock = MockAdmin::start(Some(TOKEN), false, stats_json()).await;
    let (tx, mut rx) = mpsc::channel(256);
    let mut app = App::new(mock.url());
    let workers = Workers::start(client(&mock, Some(TOKEN)), Duration::from_millis(100), tx);

    wait_state(&mut rx, &mut app, "stats and the event stream", |a| {
        a.connection == Connection::Connected && a.events_live
    })
    .await;
    mock.wait_for_subscribers(1).await;
    mock.send_event(&event_json(1, "anthropic", "claude-sonnet-4-5", 200));
    wait_for(&mut rx, &mut app, "a request event", |m| {
        matches!(m, Msg::Request(_))
    })
    .await;
    assert_eq!(app.log.len(), 1);

    // A write, then fresh stats at once.
    workers.perform(Action::Disable("zai".into()));
    wait_for(&mut rx, &mut app, "the write's outcome", |m| {
        matches!(m, Msg::ActionDone { result: Ok(()), .. })
    })
    .await;
    assert_eq!(app.notice.as_ref().unwrap().text, "provider zai disabled");
    assert_eq!(mock.writes(), ["POST /admin/providers/zai/disable"]);

    // The relay goes away: both halves notice, the data stays.
    mock.stop().await;
    wait_for(&mut rx, &mut app, "a failed poll", |m| {
        matches!(m, Msg::StatsFailed { .. })
    })
    .await;
    assert!(matches!(app.connection, Connection::Disconnected { .. }));
    assert!(app.stats.is_some());
    wait_state(&mut rx, &mut app, "the stream's end", |a| !a.events_live).await;
    assert_eq!(app.log.len(), 1);

    // It comes back on the same port, with new numbers.
    let mut restarted = stats_json();
    restarted["config_generation"] = json!(1);
    mock.set_stats(restarted);
    mock.restart().await;
    wait_state(
        &mut rx,
        &mut app,
        "stats and events after the restart",
        |a| {
            a.connection == Connection::Connected
                && a.stats.as_ref().is_some_and(|s| s.config_generation == 1)
                && a.events_live
        },
    )
    .await;
    mock.wait_for_subscribers(1).await;
    mock.send_event(&event_json(2, "anthropic", "claude-haiku-4-5", 200));
    wait_for(&mut rx, &mut app, "an event after the restart", |m| {
        matches!(m, Msg::Request(_))
    })
    .await;
    assert_eq!(app.log.len(), 2);
    drop(workers);
}
