//! Manifest files as a registry source: load, locate fields, rewrite one scalar, watch.

pub mod yaml_tree;
