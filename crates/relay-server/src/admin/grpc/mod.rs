//! The gRPC transport of the management service: `ccrelay.admin.v1.Admin`
//! (proto in `relay-admin-api/proto`) on `grpc.listen`, with gRPC
//! reflection. Each method is a call to [`Management`] and a conversion;
//! the admin token comes as `authorization: Bearer` (or `x-admin-token`)
//! metadata, with the same scopes as HTTP.

mod convert;
mod listener;

use std::pin::Pin;

use futures_util::{Stream, stream};
use relay_admin_api::grpc as pb;
use relay_admin_api::grpc::admin_server::Admin;
use tonic::{Request, Response, Status};

use super::service::Delivery;
use super::{ADMIN_TOKEN_HEADER, Access, Management};

pub use listener::serve;

/// [`Management`] as a tonic service.
#[derive(Clone, Debug)]
pub struct GrpcAdmin {
    management: Management,
}

impl GrpcAdmin {
    pub fn new(management: Management) -> Self {
        Self { management }
    }

    fn access<T>(&self, request: &Request<T>) -> Result<Access, Status> {
        let metadata = request.metadata();
        let presented = metadata
            .get(ADMIN_TOKEN_HEADER)
            .map(|v| v.as_bytes())
            .or_else(|| {
                metadata
                    .get("authorization")
                    .and_then(|v| relay_auth::bearer_token(v.as_bytes()))
            });
        self.management.authorize(presented).map_err(|error| {
            if matches!(error, super::AdminError::WrongToken) {
                tracing::warn!("gRPC admin call with a wrong token");
            }
            error.to_status()
        })
    }
}

type EventStream = Pin<Box<dyn Stream<Item = Result<pb::WatchEventsResponse, Status>> + Send>>;

#[tonic::async_trait]
impl Admin for GrpcAdmin {
    async fn get_stats(
        &self,
        request: Request<pb::GetStatsRequest>,
    ) -> Result<Response<pb::Stats>, Status> {
        let access = self.access(&request)?;
        Ok(Response::new(convert::stats(self.management.stats(access))))
    }

    type WatchEventsStream = EventStream;

    async fn watch_events(
        &self,
        request: Request<pb::WatchEventsRequest>,
    ) -> Result<Response<EventStream>, Status> {
        self.access(&request)?;
        let events = self.management.events();
        let items = stream::unfold(events, |mut events| async move {
            let item = match events.next().await? {
                Delivery::Event(published) => {
                    pb::watch_events_response::Item::Request(convert::event(&published.event))
                }
                Delivery::Skipped(missed) => pb::watch_events_response::Item::Skipped(missed),
            };
            let response = pb::WatchEventsResponse { item: Some(item) };
            Some((Ok(response), events))
        });
        Ok(Response::new(Box::pin(items)))
    }

    async fn disable_provider(
        &self,
        request: Request<pb::ProviderRequest>,
    ) -> Result<Response<pb::ProviderSwitch>, Status> {
        self.switch(request, true)
    }

    async fn enable_provider(
        &self,
        request: Request<pb::ProviderRequest>,
    ) -> Result<Response<pb::ProviderSwitch>, Status> {
        self.switch(request, false)
    }

    async fn reload(
        &self,
        request: Request<pb::ReloadRequest>,
    ) -> Result<Response<pb::ReloadResult>, Status> {
        let access = self.access(&request)?;
        let result = self
            .management
            .reload(access)
            .await
            .map_err(|e| e.to_status())?;
        Ok(Response::new(convert::reload(result)))
    }

    async fn get_config(
        &self,
        request: Request<pb::GetConfigRequest>,
    ) -> Result<Response<pb::ConfigView>, Status> {
        self.access(&request)?;
        Ok(Response::new(convert::config(self.management.config())))
    }
}

impl GrpcAdmin {
    fn switch(
        &self,
        request: Request<pb::ProviderRequest>,
        disable: bool,
    ) -> Result<Response<pb::ProviderSwitch>, Status> {
        let access = self.access(&request)?;
        let name = &request.get_ref().name;
        let switched = self
            .management
            .switch_provider(access, name, disable)
            .map_err(|e| e.to_status())?;
        Ok(Response::new(convert::switch(switched)))
    }
}
