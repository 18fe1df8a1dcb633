//! Why a request body was refused, worded as Anthropic words it.

use crate::ApiError;

/// A body the relay cannot route. The messages follow the Anthropic API's own
/// (`"model: Field required"`), since clients show them as they are.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InspectError {
    /// The body is not JSON; carries serde_json's message with line and column.
    #[error("The request body is not valid JSON: {0}")]
    NotJson(String),
    #[error("The request body must be a JSON object")]
    NotAnObject,
    #[error("model: Field required")]
    MissingModel,
    #[error("model: Input should be a valid string")]
    ModelNotString,
    #[error("model: String should have at least 1 character")]
    EmptyModel,
    #[error("{field}: Input should be a valid {expected}")]
    InvalidField {
        field: &'static str,
        expected: &'static str,
    },
}

impl From<InspectError> for ApiError {
    fn from(err: InspectError) -> Self {
        ApiError::invalid_request(err.to_string())
    }
}
