//! Real Envoy processes: finding the binary, bootstrapping it against an xDS server, and
//! reading its admin API.

pub mod admin;
pub mod bootstrap;
pub mod find;
pub mod metrics_push;
pub mod poll;
pub mod process;
pub mod prometheus;
pub mod stats;
