//! The console as an xDS client: what a control plane sends (CDS, and EDS for the clusters on
//! screen) and what it says of every proxy's sync (istiod's `istio.io/debug/syncz`).
//!
//! `session::run` owns the connection, reconnects with backoff and resubscribes; it reports
//! through `XdsEvent`s only.

pub mod decode;
pub mod identity;
pub mod node;
pub mod session;
pub mod stream;
pub mod syncz;
pub mod target;

pub use crate::msg::xds::XdsEvent;
pub use target::{Target, Tls};
