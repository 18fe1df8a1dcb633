//! The AWS credential chain, with environments and shared files made up per test.

use std::collections::HashMap;

use super::*;

struct Setup {
    home: tempfile::TempDir,
    vars: HashMap<String, String>,
}

impl Setup {
    fn new() -> Self {
        let home = tempfile::tempdir().unwrap();
        let mut vars = HashMap::new();
        vars.insert(
            "HOME".to_owned(),
            home.path().to_string_lossy().into_owned(),
        );
        Self { home, vars }
    }

    fn var(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.to_owned(), value.to_owned());
        self
    }

    fn file(self, name: &str, text: &str) -> Self {
        let dir = self.home.path().join(".aws");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), text).unwrap();
        self
    }

    fn resolve(&self, config: &ProviderConfig) -> Result<BedrockAuth, String> {
        let vars = self.vars.clone();
        resolve(config, &move |name: &str| vars.get(name).cloned())
    }
}

fn sigv4(auth: Result<BedrockAuth, String>) -> (String, String, Option<String>) {
    match auth {
        Ok(BedrockAuth::SigV4(c)) => (
            c.access_key_id.expose().to_owned(),
            c.secret_access_key.expose().to_owned(),
            c.session_token.map(|t| t.expose().to_owned()),
        ),
        other => panic!("expected SigV4 credentials, got {other:?}"),
    }
}

const CREDENTIALS: &str = "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file-secret\n\n[work]\naws_access_key_id = AKIDWORK\naws_secret_access_key = work-secret\naws_session_token = work-token\n";

#[test]
fn configured_keys_win_over_everything() {
    let setup = Setup::new()
        .var("AWS_ACCESS_KEY_ID", "AKIDENV")
        .var("AWS_SECRET_ACCESS_KEY", "env-secret")
        .var("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key")
        .file("credentials", CREDENTIALS);
    let config = ProviderConfig {
        aws_access_key_id: Some(Secret::new("AKIDCONF")),
        aws_secret_access_key: Some(Secret::new("conf-secret")),
        aws_session_token: Some(Secret::new("conf-token")),
        ..ProviderConfig::default()
    };
    assert_eq!(
        sigv4(setup.resolve(&config)),
        (
            "AKIDCONF".into(),
            "conf-secret".into(),
            Some("conf-token".into())
        )
    );
}

#[test]
fn a_configured_profile_comes_next() {
    let setup = Setup::new()
        .var("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key")
        .file("credentials", CREDENTIALS);
    let config = ProviderConfig {
        aws_profile: Some("work".into()),
        ..ProviderConfig::default()
    };
    assert_eq!(
        sigv4(setup.resolve(&config)),
        (
            "AKIDWORK".into(),
            "work-secret".into(),
            Some("work-token".into())
        )
    );
}

#[test]
fn bearer_token_then_environment_keys() {
    let setup = Setup::new()
        .var("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key")
        .var("AWS_ACCESS_KEY_ID", "AKIDENV")
        .var("AWS_SECRET_ACCESS_KEY", "env-secret");
    match setup.resolve(&ProviderConfig::default()) {
        Ok(BedrockAuth::Bearer(token)) => assert_eq!(token.expose(), "bedrock-api-key"),
        other => panic!("{other:?}"),
    }
    let setup = Setup::new()
        .var("AWS_ACCESS_KEY_ID", "AKIDENV")
        .var("AWS_SECRET_ACCESS_KEY", "env-secret")
        .var("AWS_SESSION_TOKEN", "env-token")
        .file("credentials", CREDENTIALS);
    assert_eq!(
        sigv4(setup.resolve(&ProviderConfig::default())),
        (
            "AKIDENV".into(),
            "env-secret".into(),
            Some("env-token".into())
        )
    );
}

#[test]
fn profiles_from_aws_profile_and_the_config_file() {
    let setup = Setup::new().file("credentials", CREDENTIALS);
    assert_eq!(
        sigv4(setup.resolve(&ProviderConfig::default())),
        ("AKIDFILE".into(), "file-secret".into(), None)
    );
    let setup = Setup::new().var("AWS_PROFILE", "work").file(
        "config",
        "[profile work]\naws_access_key_id = AKIDCFG\naws_secret_access_key = cfg-secret\n",
    );
    assert_eq!(
        sigv4(setup.resolve(&ProviderConfig::default())),
        ("AKIDCFG".into(), "cfg-secret".into(), None)
    );
    // The environment can move the files.
    let other = tempfile::tempdir().unwrap();
    let path = other.path().join("creds");
    std::fs::write(&path, CREDENTIALS).unwrap();
    let setup = Setup::new().var("AWS_SHARED_CREDENTIALS_FILE", path.to_str().unwrap());
    assert_eq!(
        sigv4(setup.resolve(&ProviderConfig::default())).0,
        "AKIDFILE"
    );
}

#[test]
fn unusable_setups_are_explained_without_secrets() {
    let err = Setup::new()
        .resolve(&ProviderConfig::default())
        .unwrap_err();
    assert!(err.starts_with("no AWS credentials found"), "{err}");

    let err = Setup::new()
        .var("AWS_PROFILE", "missing")
        .resolve(&ProviderConfig::default())
        .unwrap_err();
    assert!(err.contains("`missing` is in neither"), "{err}");

    let err = Setup::new()
        .var("AWS_PROFILE", "sso")
        .file(
            "config",
            "[profile sso]\nsso_session = corp\nregion = us-east-1\n",
        )
        .resolve(&ProviderConfig::default())
        .unwrap_err();
    assert!(err.contains("through `sso_session`"), "{err}");

    let err = Setup::new()
        .var("AWS_ACCESS_KEY_ID", "AKIDENV")
        .resolve(&ProviderConfig::default())
        .unwrap_err();
    assert!(err.contains("AWS_SECRET_ACCESS_KEY is not"), "{err}");
    assert!(!err.contains("AKIDENV"));
}

#[test]
fn debug_output_redacts_credentials() {
    let setup = Setup::new().file("credentials", CREDENTIALS);
    let auth = setup.resolve(&ProviderConfig::default()).unwrap();
    let debug = format!("{auth:?}");
    assert!(
        !debug.contains("AKIDFILE") && !debug.contains("file-secret"),
        "{debug}"
    );
    assert_eq!(auth.kind(), "SigV4");
}
