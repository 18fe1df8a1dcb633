//! Load generators: closed-loop at a fixed concurrency (each requester
//! sends its next request when the previous one has ended), and open-loop
//! at a fixed rate. Both are bounded by a request count and a deadline.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::client::{Conn, Prepared, Target};

/// How long one exchange may take before it counts as an error.
pub const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest a warmup may take (slow peers would otherwise spend a whole phase on it).
const WARMUP_LIMIT: Duration = Duration::from_secs(10);
/// How far an open-loop run may fall behind its schedule.
const DRAIN: Duration = Duration::from_secs(15);

/// What a load run recorded.
#[derive(Debug, Default)]
pub struct LoadResult {
    /// One latency per successful request, request start to last body byte.
    pub latencies_ns: Vec<u64>,
    pub errors: u64,
    pub first_error: Option<String>,
    /// From the first request to the last response.
    pub elapsed: Duration,
    /// CPU times read just before and just after the recorded requests.
    pub cpu: (CpuSample, CpuSample),
}

/// CPU time so far of the proxy process, the mock's thread and the load
/// generator's thread (each when known).
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuSample {
    pub proxy: Option<Duration>,
    pub mock: Option<Duration>,
    pub client: Option<Duration>,
}

impl LoadResult {
    /// CPU µs per completed request of each process, from [`LoadResult::cpu`].
    pub fn cpu_per_request(&self) -> CpuPerRequest {
        let (before, after) = &self.cpu;
        let n = self.completed();
        let per = crate::scenario::per_request;
        CpuPerRequest {
            proxy: per(before.proxy, after.proxy, n),
            mock: per(before.mock, after.mock, n),
            client: per(before.client, after.client, n),
            proxy_cores: after
                .proxy
                .zip(before.proxy)
                .and_then(|(a, b)| a.checked_sub(b))
                .map(|spent| spent.as_secs_f64() / self.elapsed.as_secs_f64().max(1e-9)),
        }
    }
}

/// See [`LoadResult::cpu_per_request`].
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuPerRequest {
    pub proxy: Option<f64>,
    pub mock: Option<f64>,
    pub client: Option<f64>,
    pub proxy_cores: Option<f64>,
}

impl LoadResult {
    pub fn completed(&self) -> usize {
        self.latencies_ns.len()
    }

    pub fn per_second(&self) -> f64 {
        self.completed() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn merge(&mut self, other: Self) {
        self.latencies_ns.extend(other.latencies_ns);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    fn error(&mut self, error: &anyhow::Error) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(format!("{error:#}"));
        }
    }
}

/// A closed-loop run: `concurrency` connections, `warmup` unrecorded
/// requests, then `requests` recorded ones (or fewer if `deadline` passes).
#[derive(Clone, Copy, Debug)]
pub struct ClosedLoop {
    pub concurrency: usize,
    pub warmup: usize,
    pub requests: usize,
    pub deadline: Duration,
}

pub async fn closed_loop(
    target: &Target,
    prepared: &Prepared,
    spec: ClosedLoop,
    probe: &dyn Fn() -> CpuSample,
) -> anyhow::Result<LoadResult> {
    let mut conns = Vec::with_capacity(spec.concurrency);
    for _ in 0..spec.concurrency {
        conns.push(Conn::connect(target.addr, CONNECT_TIMEOUT).await?);
    }
    let warmup_deadline = spec.deadline.min(WARMUP_LIMIT);
    let (conns, _) = run_closed(target, prepared, conns, spec.warmup, warmup_deadline).await;
    let before = probe();
    let started = Instant::now();
    let (_, mut result) = run_closed(target, prepared, conns, spec.requests, spec.deadline).await;
    result.elapsed = started.elapsed();
    result.cpu = (before, probe());
    Ok(result)
}

/// Sends `total` requests over `conns`, one requester per connection.
/// Returns the connections still usable and what was recorded.
async fn run_closed(
    target: &Target,
    prepared: &Prepared,
    conns: Vec<Conn>,
    total: usize,
    deadline: Duration,
) -> (Vec<Conn>, LoadResult) {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stop_at = Instant::now() + deadline;
    let mut tasks = JoinSet::new();
    let per_task = (total / conns.len().max(1) + 1).min(1 << 16);
    for mut conn in conns {
        let next = Arc::clone(&next);
        let prepared = prepared.clone();
        let addr = target.addr;
        tasks.spawn(async move {
            let mut result = LoadResult {
                latencies_ns: Vec::with_capacity(per_task),
                ..LoadResult::default()
            };
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < total
                && Instant::now() < stop_at
            {
                let start = Instant::now();
                match conn.exchange(&prepared, EXCHANGE_TIMEOUT).await {
                    Ok(_) => result.latencies_ns.push(nanos(start.elapsed())),
                    Err(error) => {
                        result.error(&error);
                        // The connection may be gone; one fresh try, then give up this requester.
                        match Conn::connect(addr, CONNECT_TIMEOUT).await {
                            Ok(fresh) => conn = fresh,
                            Err(_) => return (None, result),
                        }
                    }
                }
            }
            (Some(conn), result)
        });
    }
    let mut conns = Vec::new();
    let mut result = LoadResult::default();
    while let Some(joined) = tasks.join_next().await {
        if let Ok((conn, part)) = joined {
            conns.extend(conn);
            result.merge(part);
        }
    }
    (conns, result)
}

/// An open-loop run: requests start every `1/rate` seconds for `duration`
/// whether or not earlier ones have ended, on up to `max_conns` keep-alive
/// connections. Latency is measured from each request's actual start. A
/// target that falls behind builds a queue; what has not started within
/// `duration + DRAIN` is dropped and counted as an error.
#[derive(Clone, Copy, Debug)]
pub struct OpenLoop {
    pub rate: f64,
    pub duration: Duration,
    pub max_conns: usize,
}

pub async fn open_loop(
    target: &Target,
    prepared: &Prepared,
    spec: OpenLoop,
    probe: &dyn Fn() -> CpuSample,
) -> anyhow::Result<LoadResult> {
    let count = (spec.rate * spec.duration.as_secs_f64()).round() as usize;
    let period = Duration::from_secs_f64(1.0 / spec.rate.max(1e-3));
    let idle: Arc<Mutex<Vec<Conn>>> = Arc::new(Mutex::new(Vec::new()));
    // Open a few connections ahead, so the first requests do not pay for it.
    for _ in 0..spec.max_conns.min(4) {
        let conn = Conn::connect(target.addr, CONNECT_TIMEOUT).await?;
        lock(&idle).push(conn);
    }
    let slots = Arc::new(Semaphore::new(spec.max_conns.max(1)));
    let give_up = Instant::now() + spec.duration + DRAIN;
    let recorded = Arc::new(Mutex::new(LoadResult::default()));
    let before = probe();
    let started = tokio::time::Instant::now();
    let mut tasks = JoinSet::new();
    for i in 0..count {
        tokio::time::sleep_until(started + period.mul_f64(i as f64)).await;
        let (idle, slots, recorded) =
            (Arc::clone(&idle), Arc::clone(&slots), Arc::clone(&recorded));
        let prepared = prepared.clone();
        let addr = target.addr;
        tasks.spawn(async move {
            let Ok(_slot) = slots.acquire_owned().await else {
                return;
            };
            if Instant::now() > give_up {
                let late =
                    anyhow::anyhow!("dropped: the target fell behind the rate by over {DRAIN:?}");
                return lock(&recorded).error(&late);
            }
            let pooled = lock(&idle).pop();
            let conn = match pooled {
                Some(conn) => Ok(conn),
                None => Conn::connect(addr, CONNECT_TIMEOUT).await,
            };
            let mut conn = match conn {
                Ok(conn) => conn,
                Err(error) => return lock(&recorded).error(&error),
            };
            let start = Instant::now();
            match conn.exchange(&prepared, EXCHANGE_TIMEOUT).await {
                Ok(_) => {
                    lock(&recorded).latencies_ns.push(nanos(start.elapsed()));
                    lock(&idle).push(conn);
                }
                Err(error) => lock(&recorded).error(&error),
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let mut result = std::mem::take(&mut *lock(&recorded));
    result.elapsed = started.elapsed();
    result.cpu = (before, probe());
    Ok(result)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
