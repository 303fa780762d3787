//! The built-in example registry, and the live demo mesh: loopback "VMs", real Envoys, load.

pub mod example;
pub mod load;
pub mod run;
pub mod topology;
pub mod vm;
