//! The I/O side of the dashboard: tasks that poll `/admin/stats`, keep
//! `/admin/events` open and carry out writes, each reporting to the event
//! loop as [`Msg`]s. They reconnect on their own, so the dashboard outlives
//! relay restarts.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use crate::app::{Action, Msg};
use relay_admin_api::{AdminClient, ClientError};

/// The first retry delay after a failure.
pub const BACKOFF_START: Duration = Duration::from_millis(250);
/// The longest retry delay: a restarted relay is seen within this.
pub const BACKOFF_MAX: Duration = Duration::from_secs(3);

/// Doubling retry delays from [`BACKOFF_START`] up to [`BACKOFF_MAX`].
#[derive(Clone, Debug)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            next: BACKOFF_START,
        }
    }
}

impl Backoff {
    /// The delay before the next attempt; each call doubles the one after.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(BACKOFF_MAX);
        delay
    }

    pub fn reset(&mut self) {
        self.next = BACKOFF_START;
    }
}

/// The running background tasks; aborted when dropped.
#[derive(Debug)]
pub struct Workers {
    client: AdminClient,
    tx: mpsc::Sender<Msg>,
    refresh: Arc<Notify>,
    tasks: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Starts polling stats every `interval` and following the event stream.
    pub fn start(client: AdminClient, interval: Duration, tx: mpsc::Sender<Msg>) -> Self {
        let refresh = Arc::new(Notify::new());
        let tasks = vec![
            tokio::spawn(poll_stats(
                client.clone(),
                interval,
                tx.clone(),
                Arc::clone(&refresh),
            )),
            tokio::spawn(follow_events(client.clone(), tx.clone())),
        ];
        Self {
            client,
            tx,
            refresh,
            tasks,
        }
    }

    /// Carries out a write in the background; its outcome arrives as
    /// [`Msg::ActionDone`], followed by fresh stats.
    pub fn perform(&self, action: Action) {
        if matches!(action, Action::None | Action::Quit) {
            return;
        }
        let client = self.client.clone();
        let tx = self.tx.clone();
        let refresh = Arc::clone(&self.refresh);
        tokio::spawn(async move {
            let result = perform(&client, &action).await;
            let _ = tx.send(Msg::ActionDone { action, result }).await;
            refresh.notify_one();
        });
    }
}

/// Carries out a write action; `Action::None` and `Action::Quit` do nothing.
async fn perform(client: &AdminClient, action: &Action) -> Result<(), ClientError> {
    match action {
        Action::Disable(name) => client.disable(name).await.map(drop),
        Action::Enable(name) => client.enable(name).await.map(drop),
        Action::Reload => client.reload().await.map(drop),
        Action::None | Action::Quit => Ok(()),
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Polls `/admin/stats`: every `interval` while it answers, with backoff
/// while it does not, and at once when `refresh` is notified.
async fn poll_stats(
    client: AdminClient,
    interval: Duration,
    tx: mpsc::Sender<Msg>,
    refresh: Arc<Notify>,
) {
    let mut backoff = Backoff::default();
    loop {
        let (msg, delay) = match client.stats().await {
            Ok(stats) => {
                backoff.reset();
                (Msg::Stats(Box::new(stats)), interval)
            }
            Err(error) => {
                // A relay without the admin API, or with another token, will
                // not change soon: no hurry, but no giving up either (a
                // reload may enable it).
                let delay = match error {
                    ClientError::NotEnabled | ClientError::Unauthorized { .. } => {
                        interval.max(BACKOFF_MAX)
                    }
                    _ => backoff.next_delay(),
                };
                (
                    Msg::StatsFailed {
                        error,
                        retry_in: delay,
                    },
                    delay,
                )
            }
        };
        if tx.send(msg).await.is_err() {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = refresh.notified() => {}
        }
    }
}

/// Keeps `/admin/events` open, reopening it with backoff when it ends.
async fn follow_events(client: AdminClient, tx: mpsc::Sender<Msg>) {
    let mut backoff = Backoff::default();
    loop {
        let lost = match client.events().await {
            Ok(mut stream) => {
                backoff.reset();
                if tx.send(Msg::EventsConnected).await.is_err() {
                    return;
                }
                loop {
                    match stream.next().await {
                        Ok(Some(event)) => {
                            if tx.send(Msg::Request(Box::new(event))).await.is_err() {
                                return;
                            }
                        }
                        Ok(None) => break "the relay closed the event stream".to_owned(),
                        Err(error) => break error.to_string(),
                    }
                }
            }
            Err(error) => error.to_string(),
        };
        if tx.send(Msg::EventsLost(lost)).await.is_err() {
            return;
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_bound_and_resets() {
        let mut backoff = Backoff::default();
        let delays: Vec<_> = (0..6).map(|_| backoff.next_delay()).collect();
        assert_eq!(delays[0], BACKOFF_START);
        assert_eq!(delays[1], BACKOFF_START * 2);
        assert_eq!(*delays.last().unwrap(), BACKOFF_MAX);
        assert!(delays.windows(2).all(|w| w[0] <= w[1]));
        backoff.reset();
        assert_eq!(backoff.next_delay(), BACKOFF_START);
    }
}
