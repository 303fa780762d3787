//! End to end on the live demo: the real binary in a pseudo-terminal runs the demo mesh (two
//! real Envoys), edits a weight, and waits until the console reports that traffic moved.

mod common;
use common::pty::Pty;
use std::time::Duration;

#[test]
fn demo_weight_edit_is_followed_until_traffic_moved() {
    let envoy = meshdeck::io::envoy::find::envoy_binary()
        .unwrap_or_else(|e| panic!("{e}"))
        .canonicalize()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("meshdeck.log");
    let mut pty = Pty::start_env(
        &["demo", "--log-file", log.to_str().unwrap()],
        &[("MESHDECK_ENVOY", envoy.to_str().unwrap())],
    );
    pty.wait_for_within("test.demo.internal", Duration::from_secs(60));
    // ServiceEntries sort by name: details, geo-api, ratings, test.
    pty.keys("jjj");
    pty.send("\r");
    pty.wait_for("we/test-v1");
    // The planes are in: what is sent and what each Envoy holds, and they agree.
    pty.wait_for_within("the three planes agree", Duration::from_secs(20));
    pty.keys("e");
    pty.wait_for("weight");
    pty.send("\x7f");
    pty.send("\x7f");
    pty.keys("50");
    pty.send("\r");
    pty.wait_for("apply these changes?");
    pty.send("\r");
    pty.wait_for("weight 20 → 50");
    let screen = pty.contents();
    assert!(
        screen.contains("applied +"),
        "the loop starts at applied:\n{screen}"
    );
    pty.wait_for_within("✓ traffic moved", Duration::from_secs(90));
    // The summary wraps at 80 columns: read it as words.
    let screen = pty
        .contents()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for stage in ["applied +0.00s · EDS +", "· ACK +", "· Envoy +", "proxy-eu"] {
        assert!(screen.contains(stage), "{stage:?} missing:\n{screen}");
    }
    // The demo's Envoys push their stats: the charts show them without polling /stats.
    pty.keys("7");
    pty.wait_for("Charts");
    pty.keys("/test\r");
    pty.wait_for_within("metrics service", Duration::from_secs(10));
    pty.wait_for("requests/s");
    pty.keys("q");
    assert!(pty.wait_exit().success());
}
