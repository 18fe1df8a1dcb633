//! What `/proc` says about a process, a thread and the machine: resident
//! memory, CPU time, load average, CPU model and kernel.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use serde::Serialize;

/// Resident set size now (`VmRSS`) and at its peak (`VmHWM`), in KiB.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Memory {
    pub rss_kib: u64,
    pub hwm_kib: u64,
}

impl Memory {
    pub fn rss_mib(&self) -> f64 {
        self.rss_kib as f64 / 1024.0
    }
}

/// `VmRSS` and `VmHWM` of `pid`.
pub fn memory(pid: u32) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
    };
    Some(Memory {
        rss_kib: field("VmRSS:")?,
        hwm_kib: field("VmHWM:").unwrap_or(0),
    })
}

/// CPU time of one task (thread) from its `schedstat` file: the
/// scheduler's exact run time in nanoseconds, where `stat`'s utime and
/// stime are sampled at clock ticks (biased for a process that runs in
/// short bursts, as a lightly loaded proxy does). `path` is the task's
/// directory (`/proc/PID/task/TID`); falls back to its `stat`.
pub fn cpu_time_at(task_dir: &Path) -> Option<Duration> {
    if let Ok(text) = std::fs::read_to_string(task_dir.join("schedstat"))
        && let Some(ns) = text.split_whitespace().next().and_then(|v| v.parse().ok())
    {
        return Some(Duration::from_nanos(ns));
    }
    ticks_time(&task_dir.join("stat"))
}

/// CPU time of process `pid` and its live child processes (nginx's
/// workers, a Python server's workers): see [`process_cpu_time`].
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let mut total = process_cpu_time(pid)?;
    for child in children(pid) {
        total += cpu_time(child).unwrap_or_default();
    }
    Some(total)
}

/// The direct children of `pid`, from each thread's `children` list.
fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|text| {
            text.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// CPU time of process `pid`: the sum of its live threads' run times
/// (threads that already exited are not counted; the proxies measured keep
/// their threads), or its `stat` when `schedstat` is unavailable.
fn process_cpu_time(pid: u32) -> Option<Duration> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = Duration::ZERO;
    for task in tasks.flatten() {
        let text = std::fs::read_to_string(task.path().join("schedstat")).ok();
        let ns = text.and_then(|t| t.split_whitespace().next()?.parse::<u64>().ok());
        match ns {
            Some(ns) => total += Duration::from_nanos(ns),
            None => return ticks_time(&PathBuf::from(format!("/proc/{pid}/stat"))),
        }
    }
    Some(total)
}

/// User + system time from a `stat` file, in clock ticks.
fn ticks_time(stat_path: &Path) -> Option<Duration> {
    let stat = std::fs::read_to_string(stat_path).ok()?;
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of stat(5) are utime and stime; `rest` starts at field 3.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    let ticks = clock_ticks();
    Some(Duration::from_nanos(
        (utime + stime).saturating_mul(1_000_000_000) / ticks,
    ))
}

/// The calling thread's task directory (`/proc/PID/task/TID`), so another
/// thread can read this thread's CPU time later.
pub fn current_thread_dir() -> Option<PathBuf> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    Some(PathBuf::from("/proc").join(link))
}

/// `sysconf(_SC_CLK_TCK)`, asked of `getconf` once (100 on Linux in practice).
fn clock_ticks() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .filter(|&t| t > 0)
            .unwrap_or(100)
    })
}

/// The 1-, 5- and 15-minute load averages.
pub fn load_average() -> [f64; 3] {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut values = text.split_whitespace().map(|v| v.parse().unwrap_or(0.0));
    [
        values.next().unwrap_or(0.0),
        values.next().unwrap_or(0.0),
        values.next().unwrap_or(0.0),
    ]
}

/// The machine a run happened on.
#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub kernel: String,
    pub memory_total_mib: u64,
    pub fd_limit: Option<u64>,
}

pub fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map_or_else(|| "unknown".to_owned(), |(_, m)| m.trim().to_owned());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or_else(|_| "unknown".to_owned(), |k| k.trim().to_owned());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_total_mib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse::<u64>().ok())
        .map_or(0, |kib| kib / 1024);
    Machine {
        cpus: std::thread::available_parallelism().map_or(1, usize::from),
        cpu_model,
        kernel,
        memory_total_mib,
        fd_limit: fd_limit(),
    }
}

/// The soft limit on open files of this process (inherited by the relay).
pub fn fd_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let pid = std::process::id();
        assert!(memory(pid).unwrap().rss_kib > 0);
        assert!(cpu_time(pid).is_some());
        let thread = current_thread_dir().unwrap();
        assert!(cpu_time_at(&thread).is_some());
        assert!(ticks_time(&thread.join("stat")).is_some());
        assert!(machine().cpus >= 1);
        assert!(fd_limit().unwrap() > 0);
    }
}
