//! The ledger's writer: requests hand rows to a bounded channel without
//! waiting; one background task writes them in batches every flush
//! interval. When the store is down or slow, rows stay buffered (up to the
//! channel's bound plus one batch) and are retried; past that, new rows are
//! dropped, counted and logged. Closing flushes everything left.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use relay_auth::KeyDirectory;
use sqlx::Any;
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::row::UsageRow;
use crate::store::{Store, StoreError};

/// Rows per INSERT statement: well under SQLite's 32,766 bound variables.
const ROWS_PER_STATEMENT: usize = 500;
/// The longest wait between two retries of a failing store.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(5);

/// Counters the metrics read.
#[derive(Debug, Default)]
pub struct LedgerStats {
    pub written: AtomicU64,
    pub dropped: AtomicU64,
    pub failed_flushes: AtomicU64,
    pub unpriced: AtomicU64,
}

/// The request path's handle on the ledger: [`Ledger::record`] never waits.
#[derive(Clone, Debug)]
pub struct Ledger {
    sender: mpsc::Sender<UsageRow>,
    stats: Arc<LedgerStats>,
}

/// The writer task; [`LedgerWriter::close`] flushes and ends it.
#[derive(Debug)]
pub struct LedgerWriter {
    task: JoinHandle<()>,
    closing: CancellationToken,
}

impl Ledger {
    /// Starts the writer. `keys`: told when a client key's cost reaches the
    /// store, so budgets do not count it twice.
    pub fn start(
        store: Store,
        flush_interval: Duration,
        buffer_rows: usize,
        keys: Option<Arc<KeyDirectory>>,
    ) -> (Self, LedgerWriter) {
        let (sender, receiver) = mpsc::channel(buffer_rows.max(1));
        let stats = Arc::new(LedgerStats::default());
        let closing = CancellationToken::new();
        let task = tokio::spawn(run(
            store,
            receiver,
            flush_interval,
            Arc::clone(&stats),
            keys,
            closing.clone(),
        ));
        (Self { sender, stats }, LedgerWriter { task, closing })
    }

    /// Queues a row; when the buffer is full the row is dropped and counted.
    pub fn record(&self, row: UsageRow) {
        if row.cost_usd.is_none() && row.status < 400 {
            self.stats.unpriced.fetch_add(1, Ordering::Relaxed);
        }
        match self.sender.try_send(row) {
            Ok(()) => {}
            Err(TrySendError::Full(row) | TrySendError::Closed(row)) => {
                let dropped = self.stats.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                // One line per power of two, so a long outage cannot flood the log.
                if dropped.is_power_of_two() {
                    tracing::error!(
                        dropped,
                        request_id = %row.request_id,
                        "usage ledger buffer full: rows dropped (the store is down or too slow)"
                    );
                }
            }
        }
    }

    pub fn stats(&self) -> &Arc<LedgerStats> {
        &self.stats
    }
}

impl LedgerWriter {
    /// Writes every row queued so far (waiting at most `deadline`) and ends
    /// the writer. Rows recorded afterwards are dropped and counted.
    pub async fn close(self, deadline: Duration) {
        self.closing.cancel();
        let abort = self.task.abort_handle();
        if tokio::time::timeout(deadline, self.task).await.is_err() {
            abort.abort();
            tracing::error!(
                "usage ledger: the store did not take the last rows within {deadline:?}; they are lost"
            );
        }
    }
}

async fn run(
    store: Store,
    mut receiver: mpsc::Receiver<UsageRow>,
    flush_interval: Duration,
    stats: Arc<LedgerStats>,
    keys: Option<Arc<KeyDirectory>>,
    closing: CancellationToken,
) {
    let mut batch: Vec<UsageRow> = Vec::new();
    let mut ticker = tokio::time::interval(flush_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut retry_delay = flush_interval;
    loop {
        if !closing.is_cancelled() {
            tokio::select! {
                _ = ticker.tick() => {}
                () = closing.cancelled() => {}
            }
        }
        // Take what is queued now, but never more than the buffer holds:
        // a failing store keeps one batch here and the channel full behind it.
        while batch.len() < receiver.max_capacity() {
            match receiver.try_recv() {
                Ok(row) => batch.push(row),
                Err(_) => break,
            }
        }
        if batch.is_empty() {
            if closing.is_cancelled() {
                return;
            }
            continue;
        }
        match write(&store, &batch).await {
            Ok(()) => {
                stats
                    .written
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                if let Some(keys) = &keys {
                    for row in &batch {
                        if let (Some(id), Some(cost)) = (&row.client_key_id, row.cost_usd) {
                            keys.settle_pending(id, cost);
                        }
                    }
                }
                batch.clear();
                retry_delay = flush_interval;
            }
            Err(error) => {
                stats.failed_flushes.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    %error,
                    rows = batch.len(),
                    retry_in = ?retry_delay,
                    "usage ledger: could not write rows; keeping them for a retry"
                );
                tokio::time::sleep(retry_delay).await;
                retry_delay = (retry_delay * 2).min(MAX_RETRY_DELAY);
            }
        }
    }
}

/// The ledger's columns, in the order [`write`] binds them.
const COLUMNS: [&str; 20] = [
    "ts_ms",
    "request_id",
    "client",
    "client_key_id",
    "provider",
    "upstream_key_id",
    "model_requested",
    "model_sent",
    "status",
    "outcome",
    "stream",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost_usd",
    "duration_ms",
    "ttfb_ms",
    "attempts",
    "failovers",
];

/// `INSERT ... VALUES ($1, ...), (...)` for `rows` rows. The placeholders are
/// written as `$N` because sqlx's `Any` passes the text to the backend as is
/// and its `QueryBuilder` writes `?`, which PostgreSQL rejects; SQLite takes
/// `$N` too.
fn insert_statement(rows: usize) -> String {
    let mut sql = format!("INSERT INTO usage_rows ({}) VALUES ", COLUMNS.join(", "));
    let mut n = 0;
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..COLUMNS.len() {
            n += 1;
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(itoa::Buffer::new().format(n));
        }
        sql.push(')');
    }
    sql
}

/// Inserts rows in one transaction, a few hundred per statement.
pub async fn write(store: &Store, rows: &[UsageRow]) -> Result<(), StoreError> {
    let mut tx = store.pool().begin().await?;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        // Built from constants and counts only: no value reaches the text.
        let sql = insert_statement(chunk.len());
        let mut insert = sqlx::query::<Any>(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            insert = insert
                .bind(row.ts_ms)
                .bind(row.request_id.to_string())
                .bind(row.client.to_string())
                .bind(row.client_key_id.as_deref().map(str::to_owned))
                .bind(row.provider.as_deref().map(str::to_owned))
                .bind(row.upstream_key_id.clone())
                .bind(row.model_requested.clone())
                .bind(row.model_sent.clone())
                .bind(i64::from(row.status))
                .bind(row.outcome.to_owned())
                .bind(i64::from(row.stream))
                .bind(count(row.input_tokens))
                .bind(count(row.output_tokens))
                .bind(count(row.cache_read_tokens))
                .bind(count(row.cache_write_tokens))
                .bind(row.cost_usd)
                .bind(row.duration_ms)
                .bind(row.ttfb_ms)
                .bind(i64::from(row.attempts))
                .bind(i64::from(row.failovers));
        }
        insert.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

fn count(tokens: u64) -> i64 {
    i64::try_from(tokens).unwrap_or(i64::MAX)
}
