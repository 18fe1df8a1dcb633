//! How a Bedrock provider authenticates when it has no `keys`.
//!
//! A small chain instead of the `aws-config` crate: that crate brings the
//! whole SDK runtime (its own HTTP client stack, STS, SSO, IMDS clients) for
//! what the relay needs here, which is static keys. The chain, first match
//! wins:
//!
//! 1. the provider's `aws_access_key_id` / `aws_secret_access_key` /
//!    `aws_session_token`;
//! 2. the provider's `aws_profile`, from the shared files;
//! 3. `AWS_BEARER_TOKEN_BEDROCK` (a Bedrock API key, sent as a bearer token);
//! 4. `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`;
//! 5. the profile `AWS_PROFILE` (else `default`) from
//!    `AWS_SHARED_CREDENTIALS_FILE` (else `~/.aws/credentials`) and
//!    `AWS_CONFIG_FILE` (else `~/.aws/config`).
//!
//! Profiles that obtain credentials indirectly (`credential_process`, SSO,
//! `role_arn`, web identity) are reported as unsupported, with what to do.
//! Credentials are read when the provider is built (start and reload).

use std::path::PathBuf;

use relay_config::ProviderConfig;
use relay_core::Secret;

use super::Env;
use crate::credentials::ini;

/// Static AWS credentials for SigV4.
#[derive(Clone, Debug)]
pub(crate) struct AwsCredentials {
    pub(crate) access_key_id: Secret,
    pub(crate) secret_access_key: Secret,
    pub(crate) session_token: Option<Secret>,
}

/// How requests without a pool key are authenticated.
#[derive(Clone, Debug)]
pub(crate) enum BedrockAuth {
    SigV4(AwsCredentials),
    Bearer(Secret),
}

impl BedrockAuth {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::SigV4(_) => "SigV4",
            Self::Bearer(_) => "bearer API key",
        }
    }
}

/// Resolves the chain above.
pub(crate) fn resolve(config: &ProviderConfig, env: &Env) -> Result<BedrockAuth, String> {
    if let Some(credentials) = configured(config)? {
        return Ok(BedrockAuth::SigV4(credentials));
    }
    if let Some(profile) = config.aws_profile.as_deref() {
        return from_profile(profile, env).map(BedrockAuth::SigV4);
    }
    if let Some(token) = env("AWS_BEARER_TOKEN_BEDROCK").filter(|t| !t.is_empty()) {
        return Ok(BedrockAuth::Bearer(Secret::new(token)));
    }
    let env_id = env("AWS_ACCESS_KEY_ID").filter(|v| !v.is_empty());
    let env_secret = env("AWS_SECRET_ACCESS_KEY").filter(|v| !v.is_empty());
    match (env_id, env_secret) {
        (Some(id), Some(secret)) => {
            return Ok(BedrockAuth::SigV4(AwsCredentials {
                access_key_id: Secret::new(id),
                secret_access_key: Secret::new(secret),
                session_token: env("AWS_SESSION_TOKEN")
                    .filter(|v| !v.is_empty())
                    .map(Secret::new),
            }));
        }
        (Some(_), None) => {
            return Err("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not".to_owned());
        }
        _ => {}
    }
    let named = env("AWS_PROFILE").filter(|p| !p.is_empty());
    match from_profile(named.as_deref().unwrap_or("default"), env) {
        Ok(credentials) => Ok(BedrockAuth::SigV4(credentials)),
        Err(err) if named.is_some() => Err(err),
        Err(_) => Err("no AWS credentials found: set aws_access_key_id and aws_secret_access_key (or keys with Bedrock API keys) on the provider, AWS_BEARER_TOKEN_BEDROCK, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile in ~/.aws/credentials".to_owned()),
    }
}

fn configured(config: &ProviderConfig) -> Result<Option<AwsCredentials>, String> {
    match (&config.aws_access_key_id, &config.aws_secret_access_key) {
        (Some(id), Some(secret)) => Ok(Some(AwsCredentials {
            access_key_id: id.clone(),
            secret_access_key: secret.clone(),
            session_token: config.aws_session_token.clone(),
        })),
        (None, None) => Ok(None),
        _ => Err("set both aws_access_key_id and aws_secret_access_key".to_owned()),
    }
}

fn shared_file(env: &Env, variable: &str, name: &str) -> Option<PathBuf> {
    match env(variable).filter(|p| !p.is_empty()) {
        Some(path) => Some(PathBuf::from(path)),
        None => Some(PathBuf::from(env("HOME")?).join(".aws").join(name)),
    }
}

/// Static keys of `profile`: the credentials file's section wins over the config file's.
fn from_profile(profile: &str, env: &Env) -> Result<AwsCredentials, String> {
    let read = |path: Option<PathBuf>| path.and_then(|p| std::fs::read_to_string(p).ok());
    let credentials = read(shared_file(
        env,
        "AWS_SHARED_CREDENTIALS_FILE",
        "credentials",
    ));
    let config = read(shared_file(env, "AWS_CONFIG_FILE", "config"));
    let config_section = if profile == "default" {
        "default".to_owned()
    } else {
        format!("profile {profile}")
    };
    let sections = [
        credentials
            .as_deref()
            .and_then(|t| ini::section(t, profile)),
        config
            .as_deref()
            .and_then(|t| ini::section(t, &config_section)),
    ];
    let found = sections.iter().flatten().next().ok_or_else(|| {
        format!("the AWS profile `{profile}` is in neither ~/.aws/credentials nor ~/.aws/config")
    })?;
    let get = |key: &str| {
        sections
            .iter()
            .flatten()
            .find_map(|s| s.get(key))
            .filter(|v| !v.is_empty())
            .cloned()
    };
    match (get("aws_access_key_id"), get("aws_secret_access_key")) {
        (Some(id), Some(secret)) => Ok(AwsCredentials {
            access_key_id: Secret::new(id),
            secret_access_key: Secret::new(secret),
            session_token: get("aws_session_token").map(Secret::new),
        }),
        _ => {
            let indirect = [
                "credential_process",
                "sso_session",
                "sso_start_url",
                "role_arn",
                "web_identity_token_file",
            ]
            .into_iter()
            .find(|key| found.contains_key(*key));
            Err(match indirect {
                Some(key) => format!(
                    "the AWS profile `{profile}` gets credentials through `{key}`, which cc-relay does not run: export static credentials (e.g. `aws configure export-credentials --profile {profile} --format env`) or use a Bedrock API key"
                ),
                None => format!(
                    "the AWS profile `{profile}` has no aws_access_key_id / aws_secret_access_key"
                ),
            })
        }
    }
}

#[cfg(test)]
#[path = "aws_tests.rs"]
mod tests;
