//! End to end on the live demo: the real binary in a pseudo-terminal runs the demo mesh (two
//! real Envoys), edits a weight, and waits until the console reports that traffic moved; then
//! drains that entry and restores it, and shifts traffic to it until a gate rolls it back.

mod common;
use common::pty::Pty;
use std::time::Duration;

/// `meshdeck demo EXTRA…` in a `rows`x`cols` pty with the project's Envoy, its log in a
/// temporary directory that also serves as an empty settings directory.
fn demo(extra: &[&str], rows: u16, cols: u16) -> (Pty, tempfile::TempDir) {
    let envoy = meshdeck::io::envoy::find::envoy_binary()
        .unwrap_or_else(|e| panic!("{e}"))
        .canonicalize()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("meshdeck.log");
    let mut args = vec!["demo", "--log-file", log.to_str().unwrap()];
    args.extend(extra);
    let pty = Pty::start_sized(
        &args,
        &[
            ("MESHDECK_ENVOY", envoy.to_str().unwrap()),
            // No user settings file: the demo's own settings apply.
            ("XDG_CONFIG_HOME", dir.path().to_str().unwrap()),
        ],
        rows,
        cols,
    );
    (pty, dir)
}

#[test]
fn demo_weight_edit_is_followed_until_traffic_moved() {
    let (mut pty, _dir) = demo(&[], 24, 80);
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
    // "applying: … weight 20 → 50" first, then the loop's first stage once the source answers.
    pty.wait_for("weight 20 → 50");
    pty.wait_for("applied +");
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

    // Drain the entry just edited, from its service's endpoints, and put it back.
    pty.keys("1");
    pty.wait_for("test.demo.internal");
    pty.send("\r");
    pty.wait_for("we/test-v1");
    pty.keys("d");
    pty.wait_for("drain we demo/test-v1?");
    pty.keys("y");
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    pty.wait_until_within(
        "no Envoy holds the drained entry",
        Duration::from_secs(30),
        |s| words(s).contains("✓ out of rotation: no Envoy holds it"),
    );
    pty.keys("r");
    pty.wait_for("restore we demo/test-v1?");
    pty.keys("y");
    pty.wait_until_within(
        "the restored entry takes its share again",
        Duration::from_secs(90),
        |s| words(s).contains("rotation drained → in: ✓ traffic moved"),
    );

    // A gated shift to test-v1 (50 of 130 now), which then answers 503: the gate fails and
    // the weights from before go back, in the registry and in every Envoy.
    pty.keys(":shift 50,100 30s\r");
    pty.wait_for("shift se demo/test?");
    pty.keys("y");
    pty.wait_until_within("step 1 written and held", Duration::from_secs(20), |s| {
        words(s).contains("step 1 of 2 (50%): held") && s.contains("5000")
    });
    pty.keys("X");
    pty.wait_until_within(
        "the gate fails and the weights go back",
        Duration::from_secs(30),
        |s| {
            let w = words(s);
            w.contains("shift of demo/test: gate failed")
                && w.contains("we/test-v1 50 ")
                && w.contains("we/test-v2 80 ")
        },
    );
    pty.keys("R");
    pty.keys("q");
    assert!(pty.wait_exit().success());
}

/// `demo --ssh`: the sidecar of ratings-127-0-0-21 keeps its admin on the VM's loopback and is
/// reached only through a real sshd. Its Envoy shows in the ENVOY column and on Proxies, an
/// edit's loop follows it, and `L` reads its log.
#[test]
fn demo_vm_sidecar_over_ssh_is_a_proxy_like_any_other() {
    let (mut pty, _dir) = demo(&["--ssh"], 40, 160);
    pty.wait_for_within("test.demo.internal", Duration::from_secs(60));
    pty.keys("/ratings");
    pty.send("\r");
    pty.send("\r");
    pty.wait_for("we/ratings-127-0-0-21");
    // Three Envoys hold the endpoint: the two demo proxies, and the VM's sidecar over ssh.
    pty.wait_for_within("w1 w1 w1", Duration::from_secs(20));
    pty.keys("e");
    pty.wait_for("weight");
    pty.send("\x7f");
    pty.send("\x7f");
    pty.keys("4");
    pty.send("\r");
    pty.wait_for("apply these changes?");
    pty.send("\r");
    pty.wait_for_within("w4 w4 w4", Duration::from_secs(20));
    pty.wait_for_within("✓ traffic moved", Duration::from_secs(90));
    let words = pty
        .contents()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        words.contains("ratings-127-0-0-21.demo"),
        "the loop names the sidecar:\n{words}"
    );
    pty.keys("6");
    pty.wait_for("Proxies");
    pty.wait_until("the sidecar is polled over ssh", |s| {
        s.lines().any(|l| {
            l.contains("ratings-127-0-0-21.demo") && l.contains("ssh://") && l.contains("s ago")
        })
    });
    // Charts: its stats are read from its admin over ssh (the demo proxies push theirs).
    pty.keys("7");
    pty.wait_for("Charts");
    pty.keys("/ratings");
    pty.send("\r");
    pty.wait_for_within(
        "ratings-127-0-0-21.demo: admin /stats",
        Duration::from_secs(20),
    );
    pty.keys("2");
    pty.keys("/ratings-127-0-0-21");
    pty.send("\r");
    pty.keys("L");
    pty.wait_for("Log of demo/ratings-127-0-0-21");
    pty.wait_until("the sidecar's log is read over ssh", |s| {
        s.contains("following (f pauses)") && !s.contains(" 0 lines") && s.contains("[main]")
    });
    pty.keys("q");
    assert!(pty.wait_exit().success());
}

/// `meshdeck demo --prometheus`: a real Prometheus scrapes the demo's Envoys, and the Charts
/// come from it (one query a second for every proxy), with the demo's load in them.
#[test]
fn demo_charts_come_from_a_real_prometheus() {
    let (mut pty, _dir) = demo(&["--prometheus"], 40, 160);
    pty.wait_for_within("test.demo.internal", Duration::from_secs(60));
    pty.keys("7");
    pty.wait_for("Charts [");
    pty.wait_until_within(
        "the test service's requests from Prometheus",
        Duration::from_secs(30),
        |s| {
            s.contains("prometheus server")
                && s.lines().any(|l| {
                    let w: Vec<&str> = l.split_whitespace().collect();
                    w.first() == Some(&"test.demo.internal:80")
                        && w.get(1)
                            .and_then(|r| r.parse::<f64>().ok())
                            .is_some_and(|r| r > 0.0)
                })
        },
    );
    pty.keys("q");
    assert!(pty.wait_exit().success());
}
