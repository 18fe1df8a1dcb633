//! Usage totals by group, over a time range: what `cc-relay usage` and
//! `GET /admin/usage` show, and the per-key spend budgets are checked with.

use std::time::SystemTime;

use sqlx::Row;

use crate::api::{GroupBy, UsageGroup, UsageReport};
use crate::row::{from_unix_ms, unix_ms};
use crate::store::{Store, StoreError};

const TOTALS: &str = "COUNT(*) AS requests, \
    CAST(COALESCE(SUM(CASE WHEN status >= 400 OR outcome = 'aborted' THEN 1 ELSE 0 END), 0) AS BIGINT) AS errors, \
    CAST(COALESCE(SUM(input_tokens), 0) AS BIGINT) AS input_tokens, \
    CAST(COALESCE(SUM(output_tokens), 0) AS BIGINT) AS output_tokens, \
    CAST(COALESCE(SUM(cache_read_tokens), 0) AS BIGINT) AS cache_read_tokens, \
    CAST(COALESCE(SUM(cache_write_tokens), 0) AS BIGINT) AS cache_write_tokens, \
    COALESCE(SUM(cost_usd), 0.0) AS cost_usd, \
    CAST(COALESCE(SUM(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS unpriced";

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

impl Store {
    /// Totals per group of the rows in `[since, until)`, in group order.
    pub async fn usage(
        &self,
        since: SystemTime,
        until: SystemTime,
        by: GroupBy,
    ) -> Result<UsageReport, StoreError> {
        let (since_ms, until_ms) = (unix_ms(since), unix_ms(until));
        let key = match by {
            GroupBy::Day => format!("CAST((ts_ms / {DAY_MS}) * {DAY_MS} AS BIGINT)"),
            GroupBy::Hour => format!("CAST((ts_ms / {HOUR_MS}) * {HOUR_MS} AS BIGINT)"),
            GroupBy::Model => "COALESCE(model_requested, '')".into(),
            GroupBy::Provider => "COALESCE(provider, '')".into(),
            GroupBy::Key => "COALESCE(client_key_id, client)".into(),
            GroupBy::Client => "client".into(),
        };
        let sql = format!(
            "SELECT {key} AS grp, {TOTALS} FROM usage_rows WHERE ts_ms >= $1 AND ts_ms < $2 \
             GROUP BY {key} ORDER BY {key}"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(since_ms)
            .bind(until_ms)
            .fetch_all(self.pool())
            .await?;
        let mut groups = Vec::with_capacity(rows.len());
        for row in &rows {
            let name = match by {
                GroupBy::Day => {
                    let ms: i64 = row.try_get("grp")?;
                    humantime::format_rfc3339_seconds(from_unix_ms(ms)).to_string()[..10].to_owned()
                }
                GroupBy::Hour => {
                    let ms: i64 = row.try_get("grp")?;
                    let text = humantime::format_rfc3339_seconds(from_unix_ms(ms)).to_string();
                    format!("{}Z", &text[..16])
                }
                _ => row.try_get("grp")?,
            };
            groups.push(totals(name, row)?);
        }
        let mut total = UsageGroup {
            group: "total".into(),
            ..UsageGroup::default()
        };
        for g in &groups {
            total.requests += g.requests;
            total.errors += g.errors;
            total.input_tokens += g.input_tokens;
            total.output_tokens += g.output_tokens;
            total.cache_read_tokens += g.cache_read_tokens;
            total.cache_write_tokens += g.cache_write_tokens;
            total.cost_usd += g.cost_usd;
            total.unpriced += g.unpriced;
        }
        total.cache_hit_ratio = hit_ratio(&total);
        Ok(UsageReport {
            since: humantime::format_rfc3339_seconds(since).to_string(),
            until: humantime::format_rfc3339_seconds(until).to_string(),
            by,
            groups,
            total,
        })
    }

    /// Each client key's spend since `since` (the start of the longest
    /// budget period), with the spend since each later start too:
    /// `(key id, [spent since starts[0], since starts[1], …])`.
    pub async fn spend_by_key(
        &self,
        starts: [i64; 3],
    ) -> Result<Vec<(String, [f64; 3])>, StoreError> {
        let earliest = starts.iter().copied().min().unwrap_or(0);
        let rows = sqlx::query(
            "SELECT client_key_id, \
             COALESCE(SUM(CASE WHEN ts_ms >= $1 THEN cost_usd ELSE 0.0 END), 0.0) AS a, \
             COALESCE(SUM(CASE WHEN ts_ms >= $2 THEN cost_usd ELSE 0.0 END), 0.0) AS b, \
             COALESCE(SUM(CASE WHEN ts_ms >= $3 THEN cost_usd ELSE 0.0 END), 0.0) AS c \
             FROM usage_rows WHERE ts_ms >= $4 AND client_key_id IS NOT NULL \
             GROUP BY client_key_id",
        )
        .bind(starts[0])
        .bind(starts[1])
        .bind(starts[2])
        .bind(earliest)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("client_key_id")?,
                    [row.try_get("a")?, row.try_get("b")?, row.try_get("c")?],
                ))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Deletes rows older than `before`; how many.
    pub async fn prune(&self, before: SystemTime) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM usage_rows WHERE ts_ms < $1")
            .bind(unix_ms(before))
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }

    /// How many rows the ledger holds.
    pub async fn count_rows(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM usage_rows")
            .fetch_one(self.pool())
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

fn totals(group: String, row: &sqlx::any::AnyRow) -> Result<UsageGroup, sqlx::Error> {
    let n = |name: &str| -> Result<u64, sqlx::Error> {
        Ok(u64::try_from(row.try_get::<i64, _>(name)?).unwrap_or(0))
    };
    let mut g = UsageGroup {
        group,
        requests: n("requests")?,
        errors: n("errors")?,
        input_tokens: n("input_tokens")?,
        output_tokens: n("output_tokens")?,
        cache_read_tokens: n("cache_read_tokens")?,
        cache_write_tokens: n("cache_write_tokens")?,
        cost_usd: row.try_get("cost_usd")?,
        unpriced: n("unpriced")?,
        cache_hit_ratio: 0.0,
    };
    g.cache_hit_ratio = hit_ratio(&g);
    Ok(g)
}

/// Cache reads over every input token (uncached input, cache reads, cache writes).
fn hit_ratio(g: &UsageGroup) -> f64 {
    let all = g.input_tokens + g.cache_read_tokens + g.cache_write_tokens;
    if all == 0 {
        0.0
    } else {
        g.cache_read_tokens as f64 / all as f64
    }
}
