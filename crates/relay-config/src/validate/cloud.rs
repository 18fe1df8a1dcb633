//! Checks for the cloud provider types (`bedrock`, `vertex`, `azure`): the
//! fields each type requires, and settings that only make sense together.
//! Credentials that may come from the environment (AWS, Google, Entra ID
//! variables) are not required here: the provider reports them when it is
//! built, since only then is the environment known.

use relay_core::Secret;

use super::{Problems, check_base_url, set};
use crate::schema::{ProviderConfig, ProviderType};

pub(super) fn cloud_fields(provider: &ProviderConfig, at: &str, out: &mut Problems) {
    match provider.kind {
        ProviderType::Bedrock => bedrock(provider, at, out),
        ProviderType::Vertex => vertex(provider, at, out),
        ProviderType::Azure => azure(provider, at, out),
        ProviderType::Anthropic
        | ProviderType::Zai
        | ProviderType::Minimax
        | ProviderType::Ollama
        | ProviderType::Openai => {}
    }
}

fn missing(provider: &ProviderConfig, at: &str, key: &str, what: &str, out: &mut Problems) {
    out.add(
        format!("{at}.{key}"),
        format!("is required for type `{}`: {what}", provider.kind.as_str()),
    );
}

fn secret_set(value: Option<&Secret>) -> bool {
    value.is_some_and(|s| !s.is_empty())
}

fn bedrock(provider: &ProviderConfig, at: &str, out: &mut Problems) {
    if set(&provider.aws_region).is_none() {
        missing(
            provider,
            at,
            "aws_region",
            "set the AWS region, e.g. us-east-1",
            out,
        );
    }
    let key_id = secret_set(provider.aws_access_key_id.as_ref());
    let secret = secret_set(provider.aws_secret_access_key.as_ref());
    let token = secret_set(provider.aws_session_token.as_ref());
    if key_id && !secret {
        out.add(
            format!("{at}.aws_secret_access_key"),
            "is required with aws_access_key_id: static AWS credentials need both halves",
        );
    }
    if (secret || token) && !key_id {
        out.add(
            format!("{at}.aws_access_key_id"),
            "is required with aws_secret_access_key / aws_session_token: set it, or remove them to use the AWS environment variables or profile",
        );
    }
    if key_id && !provider.keys.is_empty() {
        out.add(
            format!("{at}.keys"),
            "a bedrock provider's keys are Bedrock API keys (sent as bearer tokens), so they cannot be combined with aws_access_key_id (SigV4 signing): keep one of the two",
        );
    }
    if let Some(betas) = &provider.bedrock_betas {
        for (i, beta) in betas.iter().enumerate() {
            if beta.trim().is_empty() {
                out.add(
                    format!("{at}.bedrock_betas[{i}]"),
                    "is empty: list beta names such as interleaved-thinking-2025-05-14, or `*` for all",
                );
            }
        }
    }
}

fn vertex(provider: &ProviderConfig, at: &str, out: &mut Problems) {
    if set(&provider.gcp_project_id).is_none() {
        missing(
            provider,
            at,
            "gcp_project_id",
            "set the Google Cloud project id",
            out,
        );
    }
    if set(&provider.gcp_region).is_none() {
        missing(
            provider,
            at,
            "gcp_region",
            "set the Vertex AI region, e.g. us-east5 (or `global`)",
            out,
        );
    }
    if !provider.keys.is_empty() {
        out.add(
            format!("{at}.keys"),
            "vertex authenticates with Google OAuth2 tokens, not API keys: remove keys and set gcp_credentials_file (or GOOGLE_APPLICATION_CREDENTIALS, gcloud credentials, the metadata server)",
        );
    }
}

fn azure(provider: &ProviderConfig, at: &str, out: &mut Problems) {
    if set(&provider.azure_resource_name).is_none() && set(&provider.base_url).is_none() {
        missing(
            provider,
            at,
            "azure_resource_name",
            "set the Azure resource name, or a base_url for the endpoint",
            out,
        );
    }
    let entra = [
        ("azure_tenant_id", set(&provider.azure_tenant_id).is_some()),
        ("azure_client_id", set(&provider.azure_client_id).is_some()),
        (
            "azure_client_secret",
            secret_set(provider.azure_client_secret.as_ref()),
        ),
    ];
    if entra.iter().any(|(_, present)| *present) {
        for (key, present) in entra {
            if !present {
                out.add(
                    format!("{at}.{key}"),
                    "is required for Microsoft Entra ID tokens: set azure_tenant_id, azure_client_id and azure_client_secret together",
                );
            }
        }
    }
    if let Some(url) = set(&provider.azure_authority_host)
        && let Err(why) = check_base_url(url)
    {
        out.add(format!("{at}.azure_authority_host"), why);
    }
}

#[cfg(test)]
mod tests {
    use relay_core::Secret;

    use crate::load::transparent_default;
    use crate::schema::{KeyConfig, ProviderConfig, ProviderType};
    use crate::validate;

    fn problems(provider: ProviderConfig) -> Vec<String> {
        let mut config = transparent_default();
        config.providers.push(provider);
        validate(&config).iter().map(ToString::to_string).collect()
    }

    fn bedrock() -> ProviderConfig {
        ProviderConfig {
            name: "b".into(),
            kind: ProviderType::Bedrock,
            aws_region: Some("us-east-1".into()),
            ..ProviderConfig::default()
        }
    }

    fn key(value: &str) -> KeyConfig {
        KeyConfig {
            key: Secret::new(value),
            ..KeyConfig::default()
        }
    }

    #[test]
    fn bedrock_static_credentials_need_both_halves() {
        let mut p = bedrock();
        p.aws_access_key_id = Some(Secret::new("AKIDEXAMPLE"));
        let found = problems(p);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("providers[1].aws_secret_access_key: is required"));

        let mut p = bedrock();
        p.aws_session_token = Some(Secret::new("token-value"));
        let found = problems(p);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("providers[1].aws_access_key_id: is required"));
        assert!(!found[0].contains("token-value"));
    }

    #[test]
    fn bedrock_keys_and_sigv4_credentials_exclude_each_other() {
        let mut p = bedrock();
        p.aws_access_key_id = Some(Secret::new("AKIDEXAMPLE"));
        p.aws_secret_access_key = Some(Secret::new("secret"));
        p.keys.push(key("bedrock-api-key"));
        let found = problems(p);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("providers[1].keys: "), "{found:?}");
    }

    #[test]
    fn bedrock_betas_are_not_empty() {
        let mut p = bedrock();
        p.bedrock_betas = Some(vec!["interleaved-thinking-2025-05-14".into(), " ".into()]);
        let found = problems(p);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("providers[1].bedrock_betas[1]: is empty"));
    }

    #[test]
    fn vertex_takes_no_keys() {
        let p = ProviderConfig {
            name: "v".into(),
            kind: ProviderType::Vertex,
            gcp_project_id: Some("p".into()),
            gcp_region: Some("global".into()),
            keys: vec![key("k")],
            ..ProviderConfig::default()
        };
        let found = problems(p);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("OAuth2"), "{found:?}");
    }

    #[test]
    fn azure_entra_settings_come_together() {
        let p = ProviderConfig {
            name: "az".into(),
            kind: ProviderType::Azure,
            azure_resource_name: Some("res".into()),
            azure_tenant_id: Some("tenant".into()),
            azure_authority_host: Some("login.example".into()),
            ..ProviderConfig::default()
        };
        let found: Vec<String> = problems(p)
            .iter()
            .map(|p| p.split(':').next().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(
            found,
            [
                "providers[1].azure_client_id",
                "providers[1].azure_client_secret",
                "providers[1].azure_authority_host",
            ]
        );
    }

    #[test]
    fn complete_cloud_providers_are_valid() {
        let mut b = bedrock();
        b.aws_access_key_id = Some(Secret::new("AKIDEXAMPLE"));
        b.aws_secret_access_key = Some(Secret::new("secret"));
        assert!(problems(b).is_empty());
        let az = ProviderConfig {
            name: "az".into(),
            kind: ProviderType::Azure,
            azure_resource_name: Some("res".into()),
            azure_tenant_id: Some("tenant".into()),
            azure_client_id: Some("client".into()),
            azure_client_secret: Some(Secret::new("s")),
            ..ProviderConfig::default()
        };
        assert!(problems(az).is_empty());
    }
}
