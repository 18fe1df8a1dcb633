//! The label sets of the metrics, and the bound on the `model` label.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use prometheus_client::encoding::EncodeLabelSet;
use relay_config::Config;

/// Model names beyond the configured ones that get their own label value.
pub const MAX_EXTRA_MODELS: usize = 32;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct RequestLabels {
    pub provider: String,
    pub key_id: String,
    pub model: String,
    pub status: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ProviderModel {
    pub provider: String,
    pub model: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ProviderLabel {
    pub provider: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct TokenLabels {
    pub provider: String,
    pub model: String,
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct FailoverLabels {
    pub provider: String,
    pub reason: String,
    pub scope: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct KeyLabels {
    pub provider: String,
    pub key_id: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct KeyDimension {
    pub provider: String,
    pub key_id: String,
    pub dimension: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ResultLabel {
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct VersionLabel {
    pub version: String,
}

/// The `model` label: a client picks model names, so only configured names
/// (a provider's `models` or `model_mapping`) and the first
/// [`MAX_EXTRA_MODELS`] plausible others seen get a value of their own; the
/// rest are `other`.
#[derive(Debug, Default)]
pub(super) struct ModelLabels {
    extra: Mutex<HashSet<String>>,
}

impl ModelLabels {
    pub(super) fn label(&self, model: &str, config: &Config) -> String {
        let configured = config
            .providers
            .iter()
            .any(|p| p.models.iter().any(|m| m == model) || p.model_mapping.contains_key(model));
        if configured {
            return model.to_owned();
        }
        let plausible = !model.is_empty()
            && model.len() <= 64
            && model
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._:@/".contains(&b));
        if plausible {
            let mut extra = self.extra.lock().unwrap_or_else(PoisonError::into_inner);
            if extra.contains(model) || extra.len() < MAX_EXTRA_MODELS {
                extra.insert(model.to_owned());
                return model.to_owned();
            }
        }
        "other".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use relay_config::ProviderConfig;

    #[test]
    fn model_labels_are_bounded() {
        let config = Config {
            providers: vec![ProviderConfig {
                name: "p".into(),
                models: vec!["configured-model".into()],
                ..ProviderConfig::default()
            }],
            ..Config::default()
        };
        let labels = ModelLabels::default();
        for i in 0..MAX_EXTRA_MODELS {
            let name = format!("model-{i}");
            assert_eq!(labels.label(&name, &config), name);
        }
        assert_eq!(labels.label("one-too-many", &config), "other");
        assert_eq!(labels.label("model-0", &config), "model-0", "seen before");
        assert_eq!(
            labels.label("configured-model", &config),
            "configured-model"
        );
        assert_eq!(labels.label("has spaces", &config), "other");
        assert_eq!(labels.label(&"x".repeat(65), &config), "other");
    }
}
