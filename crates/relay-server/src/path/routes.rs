//! The route table: every path the relay answers, with what the path does
//! before the handler runs. One place to read which endpoints need a client
//! key, which count toward `server.max_concurrent`, and which listener
//! serves them.

use http::Method;
use relay_config::ServerConfig;

/// The listener a request arrived on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listener {
    /// `server.listen`: the API, `/health`, the admin API, and `/metrics`
    /// unless it has a listener of its own.
    Main,
    /// `server.metrics_listen`: `/metrics` only.
    Metrics,
}

/// Who answers a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handler {
    /// Relayed to a provider.
    Messages,
    CountTokens,
    /// Answered from the configuration.
    Models,
    Providers,
    Health,
    /// The operator endpoints (their own token: see `crate::admin`).
    Metrics,
    Admin,
    /// No route: 404.
    NotFound,
}

/// How a request counts once it is done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Traffic {
    /// Logged at info and counted in the metrics and stats.
    Api,
    /// A supervisor's probe: logged, not counted.
    Probe,
    /// `/metrics`, `/admin/*`: logged at debug, not counted.
    Operator,
}

/// What the path does for a request before its handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub handler: Handler,
    /// Phase `authenticate` runs (the client auth chain).
    pub client_auth: bool,
    /// Phase `admit` runs: the request takes a `max_concurrent` slot.
    pub admission: bool,
    pub traffic: Traffic,
}

#[derive(Clone, Copy)]
enum PathMatch {
    Exact(&'static str),
    /// The path itself and everything under it (`/admin`, `/admin/...`).
    Tree(&'static str),
}

#[derive(Clone, Copy)]
enum Served {
    Main,
    /// Where `/metrics` is: the metrics listener if there is one, else the main one.
    MetricsHome,
}

struct Entry {
    /// `None`: any method (the handler tells them apart).
    methods: Option<&'static [Method]>,
    path: PathMatch,
    served: Served,
    route: Route,
}

const fn route(handler: Handler, client_auth: bool, admission: bool, traffic: Traffic) -> Route {
    Route {
        handler,
        client_auth,
        admission,
        traffic,
    }
}

/// The table, looked up first match first.
static ROUTES: [Entry; 7] = [
    Entry {
        methods: Some(&[Method::POST]),
        path: PathMatch::Exact("/v1/messages"),
        served: Served::Main,
        route: route(Handler::Messages, true, true, Traffic::Api),
    },
    Entry {
        methods: Some(&[Method::POST]),
        path: PathMatch::Exact("/v1/messages/count_tokens"),
        served: Served::Main,
        route: route(Handler::CountTokens, true, true, Traffic::Api),
    },
    Entry {
        methods: Some(&[Method::GET]),
        path: PathMatch::Exact("/v1/models"),
        served: Served::Main,
        route: route(Handler::Models, true, true, Traffic::Api),
    },
    Entry {
        methods: Some(&[Method::GET]),
        path: PathMatch::Exact("/v1/providers"),
        served: Served::Main,
        route: route(Handler::Providers, true, true, Traffic::Api),
    },
    // Open and never refused for being busy: a supervisor's probe must not
    // read a full relay as a dead one.
    Entry {
        methods: Some(&[Method::GET, Method::HEAD]),
        path: PathMatch::Exact("/health"),
        served: Served::Main,
        route: route(Handler::Health, false, false, Traffic::Probe),
    },
    // The operator endpoints bypass client auth and the limit: a dashboard
    // must see a relay that is full.
    Entry {
        methods: None,
        path: PathMatch::Exact("/metrics"),
        served: Served::MetricsHome,
        route: route(Handler::Metrics, false, false, Traffic::Operator),
    },
    Entry {
        methods: None,
        path: PathMatch::Tree("/admin"),
        served: Served::Main,
        route: route(Handler::Admin, false, false, Traffic::Operator),
    },
];

/// An API path with no route: the client is authenticated first (an
/// unauthenticated client learns nothing about the routes), and the
/// request counts as traffic.
const API_NOT_FOUND: Route = route(Handler::NotFound, true, false, Traffic::Api);
/// An operator path this listener does not serve.
const OPERATOR_NOT_FOUND: Route = route(Handler::NotFound, false, false, Traffic::Operator);

/// The route for a request.
pub fn lookup(listener: Listener, method: &Method, path: &str, server: &ServerConfig) -> Route {
    for entry in &ROUTES {
        let path_matches = match entry.path {
            PathMatch::Exact(exact) => path == exact,
            PathMatch::Tree(root) => path
                .strip_prefix(root)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')),
        };
        if !path_matches {
            continue;
        }
        let served = match entry.served {
            Served::Main => listener == Listener::Main,
            Served::MetricsHome => match listener {
                Listener::Metrics => true,
                Listener::Main => server.metrics_listen.is_none(),
            },
        };
        if !served {
            return OPERATOR_NOT_FOUND;
        }
        if entry.methods.is_none_or(|methods| methods.contains(method)) {
            return entry.route;
        }
    }
    match listener {
        Listener::Main => API_NOT_FOUND,
        Listener::Metrics => OPERATOR_NOT_FOUND,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn main_route(method: &Method, path: &str) -> Route {
        lookup(Listener::Main, method, path, &ServerConfig::default())
    }

    #[test]
    fn health_needs_no_key_and_no_slot() {
        for method in [Method::GET, Method::HEAD] {
            let route = main_route(&method, "/health");
            assert_eq!(route.handler, Handler::Health);
            assert!(!route.client_auth && !route.admission);
        }
    }

    #[test]
    fn the_api_needs_a_key_and_a_slot() {
        let route = main_route(&Method::POST, "/v1/messages");
        assert_eq!(route.handler, Handler::Messages);
        assert!(route.client_auth && route.admission);
        let wrong_method = main_route(&Method::GET, "/v1/messages");
        assert_eq!(wrong_method, API_NOT_FOUND);
    }

    #[test]
    fn admin_is_a_tree_and_metrics_lives_where_configured() {
        assert_eq!(
            main_route(&Method::POST, "/admin/reload").handler,
            Handler::Admin
        );
        assert_eq!(main_route(&Method::GET, "/admin").handler, Handler::Admin);
        assert_eq!(main_route(&Method::GET, "/adminx"), API_NOT_FOUND);
        assert_eq!(
            main_route(&Method::GET, "/metrics").handler,
            Handler::Metrics
        );

        let server = ServerConfig {
            metrics_listen: Some("127.0.0.1:0".into()),
            ..ServerConfig::default()
        };
        let on_main = lookup(Listener::Main, &Method::GET, "/metrics", &server);
        assert_eq!(on_main, OPERATOR_NOT_FOUND);
        let on_metrics = lookup(Listener::Metrics, &Method::GET, "/metrics", &server);
        assert_eq!(on_metrics.handler, Handler::Metrics);
        let elsewhere = lookup(Listener::Metrics, &Method::POST, "/v1/messages", &server);
        assert_eq!(elsewhere, OPERATOR_NOT_FOUND);
    }
}
