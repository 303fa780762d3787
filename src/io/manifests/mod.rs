//! Manifest files as a registry source: load, locate fields, rewrite one scalar, watch.

pub mod atomic_write;
pub mod documents;
pub mod load;
pub mod parse;
pub mod scalar_edit;
pub mod watch;
pub mod yaml_tree;
