//! Background work and everything that touches the outside world. Never imports ratatui or
//! State: tasks own their clients and talk to `update` only through messages.

pub mod envoy;
pub mod http;
pub mod kube;
pub mod logs;
pub mod manifests;
pub mod planes;
pub mod prometheus;
pub mod recorder;
pub mod replay;
pub mod shift_plan;
pub mod source;
pub mod ssh;
pub mod xds;

/// An error and its causes on one line ("transport error: tcp connect error: refused"):
/// hyper and tonic put the useful part in the causes.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        src = s.source();
    }
    out
}
