//! Deserializers that let one odd value not fail a whole document: a relay
//! older or newer than its reader still shows what both know.

use serde::{Deserialize, Deserializer};

/// `null` reads as the type's default.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// `null` reads as `true` (flags a relay reports only when they are off).
pub fn nullable_true<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(deserializer)?.unwrap_or(true))
}
