//! Who may do what on the management API, the same for HTTP and gRPC: the
//! admin token (`server.admin.token`) may write unless `server.admin.read_only`
//! is set; `server.admin.read_only_token` may only read. Compared in
//! constant time; neither token ever reaches a log or an answer.

use relay_config::AdminConfig;

use super::AdminError;

/// What a caller's token lets it do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

impl Access {
    /// Checks `presented` (the bearer token, or `x-admin-token`) against the
    /// configured tokens.
    pub fn check(admin: &AdminConfig, presented: Option<&[u8]>) -> Result<Self, AdminError> {
        if admin.token.is_none() && admin.read_only_token.is_none() {
            return Err(AdminError::Disabled);
        }
        let presented = presented.ok_or(AdminError::MissingToken)?;
        let matches = |token: &Option<relay_core::Secret>| {
            token
                .as_ref()
                .is_some_and(|token| relay_auth::secret_matches(token, presented))
        };
        if matches(&admin.token) {
            Ok(if admin.read_only {
                Self::Read
            } else {
                Self::Write
            })
        } else if matches(&admin.read_only_token) {
            Ok(Self::Read)
        } else {
            Err(AdminError::WrongToken)
        }
    }

    /// Refuses a write action to a read-only caller.
    pub fn require_write(self) -> Result<(), AdminError> {
        match self {
            Self::Write => Ok(()),
            Self::Read => Err(AdminError::ReadOnly),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin(read_only: bool) -> AdminConfig {
        AdminConfig {
            token: Some(relay_core::Secret::new("write-token")),
            read_only,
            read_only_token: Some(relay_core::Secret::new("read-token")),
            ..AdminConfig::default()
        }
    }

    #[test]
    fn tokens_grant_their_scope() {
        let token = |t: &'static str| Some(t.as_bytes());
        assert_eq!(
            Access::check(&admin(false), token("write-token")).unwrap(),
            Access::Write
        );
        assert_eq!(
            Access::check(&admin(true), token("write-token")).unwrap(),
            Access::Read
        );
        assert_eq!(
            Access::check(&admin(false), token("read-token")).unwrap(),
            Access::Read
        );
        assert!(matches!(
            Access::check(&admin(false), token("nope")),
            Err(AdminError::WrongToken)
        ));
        assert!(matches!(
            Access::check(&admin(false), None),
            Err(AdminError::MissingToken)
        ));
        assert!(matches!(
            Access::check(&AdminConfig::default(), token("write-token")),
            Err(AdminError::Disabled)
        ));
        assert!(Access::Read.require_write().is_err());
    }
}
