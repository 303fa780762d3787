//! The Kubernetes API as a registry source: kubeconfig as kubectl reads it, discovery of which
//! networking.istio.io kinds and versions are served, and watchers (paginated initial list
//! buffered and swapped in whole, bookmarks, relist on 410, reconnect with backoff).

pub mod access;
pub mod apply;
pub mod audit;
pub mod client;
pub mod clusters;
pub mod discovery;
pub mod error;
pub mod events;
pub mod forward;
pub mod istiod;
pub mod list;
pub mod namespaces;
pub mod pods;
pub mod rotation;
pub mod session;
pub mod tagged;
pub mod through;
pub mod warnings;
pub mod watch;
pub mod watched;

pub use crate::msg::kube::{ConnState, KubeEvent};
