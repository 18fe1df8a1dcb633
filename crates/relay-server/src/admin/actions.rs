//! The admin API's write actions, each logged: switching a provider off and
//! on (`POST /admin/providers/{name}/disable|enable`) and reloading the
//! configuration file (`POST /admin/reload`).

use http::{Response, StatusCode};
use relay_core::{ApiError, ErrorType};
use serde_json::json;

use super::json;
use crate::body::RelayBody;
use crate::reload::ReloadTrigger;
use crate::runtime::Runtime;
use crate::state::AppState;

/// Switches a configured provider off or back on. The switch lives in the
/// router's state, so it outlives reloads until undone.
pub fn switch_provider(
    runtime: &Runtime,
    name: &str,
    disable: bool,
) -> Result<Response<RelayBody>, ApiError> {
    if !runtime.config.providers.iter().any(|p| p.name == name) {
        return Err(ApiError::not_found(format!(
            "no provider is named `{name}`"
        )));
    }
    let router_state = runtime.router.state();
    let was_disabled = router_state.is_disabled(name);
    router_state.set_disabled(name, disable);
    let action = if disable { "disabled" } else { "enabled" };
    tracing::info!(
        provider = name,
        changed = was_disabled != disable,
        "admin API: provider {action} by an operator"
    );
    Ok(json(
        StatusCode::OK,
        &json!({ "provider": name, "disabled_by_operator": disable, "changed": was_disabled != disable }),
    ))
}

/// Reloads the configuration file, as SIGHUP does, and answers with the outcome.
pub async fn reload(state: &AppState) -> Result<Response<RelayBody>, ApiError> {
    let Some(reloader) = state.reloader() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorType::InvalidRequestError,
            "the relay runs without a configuration file: there is nothing to reload",
        ));
    };
    tracing::info!("admin API: configuration reload requested");
    // The reloader logs the outcome either way; its errors never quote secrets.
    match reloader.reload_on(ReloadTrigger::Admin).await {
        Ok(report) => Ok(json(
            StatusCode::OK,
            &json!({
                "generation": report.generation,
                "providers": report.providers_after,
                "added": report.added(),
                "removed": report.removed(),
                "restart_required": report
                    .restart_required
                    .iter()
                    .map(|r| r.setting)
                    .collect::<Vec<_>>(),
            }),
        )),
        Err(error) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorType::InvalidRequestError,
            format!(
                "reload failed; still serving generation {}: {error}",
                reloader.generation()
            ),
        )),
    }
}
