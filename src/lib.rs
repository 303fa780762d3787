//! meshdeck: a terminal console for the part of an Istio mesh that lives outside pods.
//! See ARCHITECTURE.md for the map of this crate.

pub mod action;
pub mod app;
pub mod cli;
pub mod command;
pub mod config;
pub mod controlplane;
pub mod demo;
pub mod heap;
pub mod io;
pub mod model;
pub mod msg;
pub mod present;
pub mod state;
pub mod sync_backend;
pub mod terminal;
#[cfg(feature = "fake-apiserver")]
pub mod testing;
pub mod update;
pub mod view;
