//! The embedded xDS control plane: translates the registry into Envoy resources as istiod
//! would for these kinds, and serves them over ADS (state of the world and Delta), tracking per
//! proxy what was sent, ACKed and NACKed, and answering istiod's `istio.io/debug/syncz`.

pub mod any;
pub mod auth;
pub mod delta;
pub mod node;
pub mod peer;
pub mod registry;
pub mod resources;
pub mod server;
pub mod sotw;
pub mod status;
pub mod translate;
