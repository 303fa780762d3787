//! The built-in example registry, and the live demo mesh: loopback "VMs", real Envoys, load.

pub mod example;
pub mod fleet;
pub mod load;
pub mod prometheus;
pub mod run;
pub mod sshd;
pub mod topology;
pub mod vm;
