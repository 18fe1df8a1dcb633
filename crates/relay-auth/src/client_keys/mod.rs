//! Client keys: keys the relay issues to people and tools (`ccr_…`), each
//! with optional expiry, allowed models, RPM limit and budgets. The keys
//! come from the usage store and the file; [`KeyDirectory`] holds them for
//! the running relay, and [`enforce`]'s pure functions decide.

mod directory;
pub mod enforce;
mod key;

pub use directory::{DuplicateKeyName, KeyDirectory, merge_keys};
pub use enforce::{KeyRefusal, Period, RpmWindow, Spent};
pub use key::{Budgets, ClientKey, KeyDigest, KeySource, ModelPatterns, generate_key};
