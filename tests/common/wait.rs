//! Waiting for a condition, never for a fixed time: ask again every 50 ms until it holds, and
//! fail with what was last seen when it does not within the bound.
#![allow(dead_code)]

use std::fmt::Debug;
use std::time::{Duration, Instant};

const EVERY: Duration = Duration::from_millis(50);

/// Repeats `probe` until `ok` holds for its answer, at most `within`; returns that answer.
pub async fn until<T: Debug>(
    what: &str,
    within: Duration,
    mut probe: impl AsyncFnMut() -> T,
    ok: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + within;
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tick.tick().await;
        let v = probe().await;
        if ok(&v) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not within {within:?}; last: {v:#?}"
        );
    }
}

/// As `until`, for a test thread without a runtime (the pseudo-terminal tests).
pub fn until_blocking<T: Debug>(
    what: &str,
    within: Duration,
    mut probe: impl FnMut() -> T,
    ok: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        let v = probe();
        if ok(&v) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not within {within:?}; last: {v:#?}"
        );
        std::thread::sleep(EVERY);
    }
}
