//! The Istio model: types, selection, derived endpoints, traffic shares and lint. Pure: no I/O.

pub mod cluster;
pub mod destination_rule;
pub mod drain;
pub mod edit;
pub mod endpoint;
pub mod expected;
pub mod health;
pub mod lint;
pub mod locality;
pub mod meta;
pub mod object;
pub mod planes;
pub mod pod;
pub mod selector;
pub mod service_entry;
pub mod share;
pub mod shift;
pub mod sidecar;
pub mod small_map;
pub mod store;
pub mod timeline;
pub mod validate;
pub mod visibility;
pub mod workload_entry;
pub mod workload_group;
