//! The wake-up call from the request path to the state sync: one atomic
//! load when no sync is attached, a `Notify` when one is.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

#[derive(Debug, Default)]
pub(crate) struct Nudge {
    attached: AtomicBool,
    notify: Notify,
}

impl Nudge {
    pub(crate) fn is_attached(&self) -> bool {
        self.attached.load(Ordering::Relaxed)
    }

    pub(crate) fn set_attached(&self, attached: bool) {
        self.attached.store(attached, Ordering::Relaxed);
    }

    /// Something worth announcing at once changed. Never blocks.
    pub(crate) fn poke(&self) {
        if self.is_attached() {
            self.notify.notify_one();
        }
    }

    pub(crate) async fn wait(&self) {
        self.notify.notified().await;
    }
}
