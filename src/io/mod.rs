//! Background work and everything that touches the outside world. Never imports ratatui or
//! State: tasks own their clients and talk to `update` only through messages.

pub mod envoy;
pub mod kube;
pub mod manifests;
pub mod planes;
pub mod source;
pub mod xds;
