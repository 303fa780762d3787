use super::gate::{Gate, Verdict};
use super::plan::{Request, STALE_AFTER};
use super::*;
use crate::io::manifests::load::into_store;
use crate::io::manifests::parse::parse_text;
use crate::model::endpoint::EndpointSource;
use crate::model::object::{Kind, ObjectKey};
use crate::model::store::Store;
use std::time::{Duration, Instant, SystemTime};

fn store(text: &str) -> Store {
    let p = parse_text(std::path::Path::new("t.yaml"), text);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    into_store(vec![p])
}

/// pay: vm1 (weight 3), vm2 (unset) are the old endpoints; canary is new with weight 0.
const MESH: &str = "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: pay, namespace: shop}\nspec:\n  hosts: [pay.shop.internal]\n  resolution: STATIC\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  workloadSelector: {labels: {app: pay}}\n---\napiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: vm1, namespace: shop}\nspec: {address: 10.0.0.1, labels: {app: pay}, weight: 3}\n---\napiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: vm2, namespace: shop}\nspec: {address: 10.0.0.2, labels: {app: pay}}\n---\napiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: canary, namespace: shop}\nspec: {address: 10.0.0.3, labels: {app: pay}, weight: 0}\n---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: db, namespace: shop}\nspec:\n  hosts: [db.shop.internal]\n  resolution: STATIC\n  ports: [{number: 5432, name: tcp, protocol: TCP}]\n  endpoints: [{address: 10.0.1.1}, {address: 10.0.1.2, weight: 4}]";

fn se(name: &str) -> ObjectKey {
    ObjectKey::new(Kind::ServiceEntry, "shop", name)
}

fn we(name: &str) -> EndpointSource {
    EndpointSource::WorkloadEntry {
        cluster: Default::default(),
        namespace: "shop".into(),
        name: name.into(),
    }
}

fn gates() -> Gates {
    Gates {
        max_errors: 0.01,
        max_p99_ms: None,
    }
}

fn request<'a>(service: &'a ObjectKey, to: &'a [EndpointSource], steps: &str) -> Request<'a> {
    Request {
        service,
        to,
        steps: parse_steps(steps).unwrap(),
        hold: Duration::from_secs(60),
        gates: gates(),
        by: "alice",
        owner: "alice@jump:42",
        now: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
    }
}

fn canary_plan(steps: &str) -> Plan {
    let s = store(MESH);
    let to = [we("canary")];
    Plan::new(&s, request(&se("pay"), &to, steps)).unwrap()
}

fn member(weight: Option<u32>, to: bool) -> Member {
    Member {
        endpoint: "x".into(),
        weight,
        to,
    }
}

#[test]
fn weights_give_the_step_share_and_keep_each_side_in_proportion() {
    let m = [
        member(Some(3), false),
        member(None, false),
        member(Some(0), true),
    ];
    let to = [false, false, true];
    // 3 : 1 on the old side, the canary alone on the new.
    assert_eq!(weights(&m, 1.0, &to), vec![7425, 2475, 100]);
    assert_eq!(weights(&m, 50.0, &to), vec![3750, 1250, 5000]);
    // At 100 % the old side gets 0 (istiod sends 1: a trickle of 1 in SCALE each).
    assert_eq!(weights(&m, 100.0, &to), vec![0, 0, SCALE as u32]);
    let w = weights(&m, 25.0, &to);
    let canary = f64::from(w[2]) / w.iter().map(|x| f64::from(*x)).sum::<f64>();
    assert!((canary - 0.25).abs() < 1e-3, "{canary}");
}

#[test]
fn two_targets_share_their_side_by_their_start_weights() {
    let m = [
        member(Some(1), false),
        member(Some(1), true),
        member(Some(3), true),
    ];
    assert_eq!(
        weights(&m, 40.0, &[false, true, true]),
        vec![6000, 1000, 3000]
    );
}

#[test]
fn the_share_now_counts_unset_and_zero_as_one() {
    let m = [
        member(Some(3), false),
        member(None, false),
        member(Some(0), true),
    ];
    assert!((share_now(&m, &[false, false, true]) - 20.0).abs() < 1e-9);
}

#[test]
fn steps_parse_and_refuse_with_a_reason() {
    assert_eq!(
        parse_steps("1, 5,25%,50,100").unwrap(),
        vec![1.0, 5.0, 25.0, 50.0, 100.0]
    );
    assert!(parse_steps("").unwrap_err().contains("no steps"));
    assert!(parse_steps("5,1").unwrap_err().contains("must rise"));
    assert!(parse_steps("5,5").unwrap_err().contains("must rise"));
    assert!(parse_steps("0,5").unwrap_err().contains("above 0"));
    assert!(parse_steps("50,120").unwrap_err().contains("at most 100"));
    assert!(parse_steps("1,x").unwrap_err().contains("not a percentage"));
}

#[test]
fn ratios_and_latencies_parse() {
    assert_eq!(parse_ratio("1%").unwrap(), 0.01);
    assert_eq!(parse_ratio("0.05").unwrap(), 0.05);
    assert!(parse_ratio("150%").is_err());
    assert!(parse_ratio("lots").unwrap_err().contains("1% or 0.01"));
    assert_eq!(parse_millis("250ms").unwrap(), 250.0);
    assert_eq!(parse_millis("1s").unwrap(), 1000.0);
    assert!(parse_millis("fast").is_err());
}

#[test]
fn the_steps_read_as_an_aligned_table_and_one_spelling() {
    let p = canary_plan("25,100");
    let table = p.step_table();
    assert_eq!(
        table,
        vec![
            "STEP  shop/canary ←  shop/vm1  shop/vm2",
            "now   0              3         unset",
            "25%   2500           5625      1875",
            "100%  10000          0         0",
        ]
    );
    assert_eq!(p.step_name(0), "step 1 of 2 (25%)");
    assert!(
        p.summary().contains("2 steps, each held 60s"),
        "{}",
        p.summary()
    );
}

#[test]
fn a_plan_records_every_endpoint_with_its_start_weight() {
    let p = canary_plan("25,50,100");
    let got: Vec<(&str, Option<u32>, bool)> = p
        .members
        .iter()
        .map(|m| (m.endpoint.as_str(), m.weight, m.to))
        .collect();
    assert_eq!(
        got,
        vec![
            ("shop/canary", Some(0), true),
            ("shop/vm1", Some(3), false),
            ("shop/vm2", None, false)
        ]
    );
    assert_eq!(p.step, None);
    assert_eq!(p.state, PlanState::Running);
    assert_eq!(p.service_key(), se("pay"));
    assert_eq!(p.sources(), vec![we("canary"), we("vm1"), we("vm2")]);
}

#[test]
fn inline_endpoints_are_named_by_index() {
    let s = store(MESH);
    let to = [parse_endpoint("shop/db/1").unwrap()];
    let p = Plan::new(&s, request(&se("db"), &to, "90,100")).unwrap();
    let names: Vec<&str> = p.members.iter().map(|m| m.endpoint.as_str()).collect();
    assert_eq!(names, vec!["shop/db/0", "shop/db/1"]);
    assert_eq!(p.weights_at(1), vec![0, SCALE as u32]);
}

#[test]
fn a_plan_refuses_what_weights_cannot_express() {
    let s = store(MESH);
    let stranger = [we("nope")];
    let e = Plan::new(&s, request(&se("pay"), &stranger, "1")).unwrap_err();
    assert!(
        e.contains("shop/nope is not an endpoint") && e.contains("shop/vm1"),
        "{e}"
    );
    let all = [we("vm1"), we("vm2"), we("canary")];
    let e = Plan::new(&s, request(&se("pay"), &all, "1")).unwrap_err();
    assert!(e.contains("nothing to shift from"), "{e}");
    let none: [EndpointSource; 0] = [];
    assert!(
        Plan::new(&s, request(&se("pay"), &none, "1"))
            .unwrap_err()
            .contains("--to")
    );
    // vm1 already has 60 % (3 of 5).
    let vm1 = [we("vm1")];
    let e = Plan::new(&s, request(&se("pay"), &vm1, "50,100")).unwrap_err();
    assert!(e.contains("60.0%") && e.contains("must be above"), "{e}");
    let e = Plan::new(&s, request(&se("gone"), &vm1, "70")).unwrap_err();
    assert!(e.contains("no ServiceEntry shop/gone"), "{e}");
    let wrong = ObjectKey::new(Kind::WorkloadEntry, "shop", "vm1");
    assert!(
        Plan::new(&s, request(&wrong, &vm1, "70"))
            .unwrap_err()
            .contains("ServiceEntry")
    );
}

#[test]
fn endpoints_parse_as_set_takes_them() {
    assert_eq!(parse_endpoint("shop/vm1").unwrap(), we("vm1"));
    assert_eq!(
        endpoint_name(&parse_endpoint("shop/db/2").unwrap()),
        "shop/db/2"
    );
    assert!(
        parse_endpoint("vm1")
            .unwrap_err()
            .contains("NAMESPACE/NAME")
    );
    assert!(
        parse_endpoint("shop/db/x")
            .unwrap_err()
            .contains("not an endpoint index")
    );
}

#[test]
fn a_plan_reads_back_and_goes_stale_when_its_owner_is_quiet() {
    let mut p = canary_plan("25,100");
    p.step = Some(0);
    p.why = Some("because".into());
    let back = Plan::from_json(&p.to_json()).unwrap();
    assert_eq!(back, p);
    assert!(Plan::from_json("{").unwrap_err().contains("does not read"));
    let started = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    assert!(!p.is_stale(started + Duration::from_secs(30)));
    assert!(p.is_stale(started + STALE_AFTER + Duration::from_secs(1)));
    p.touch(started + STALE_AFTER);
    assert!(!p.is_stale(started + STALE_AFTER + Duration::from_secs(1)));
    let d = p.describe(started + STALE_AFTER + Duration::from_secs(5));
    assert!(
        d.contains("shop/pay to shop/canary by alice (alice@jump:42)")
            && d.contains("at step 1 of 2 (25%)")
            && d.contains("last heard 5s ago"),
        "{d}"
    );
}

/// Per proxy: (requests, errors) to the targets, then to the other hosts.
type Said<'a> = (&'a str, (u64, u64), (u64, u64));

fn reading(proxies: &[Said]) -> Reading {
    Reading {
        proxies: proxies
            .iter()
            .map(|(name, t, o)| {
                (
                    name.to_string(),
                    ProxySample {
                        targets: Counts {
                            rq: t.0,
                            errors: t.1,
                        },
                        others: Counts {
                            rq: o.0,
                            errors: o.1,
                        },
                        ..Default::default()
                    },
                )
            })
            .collect(),
    }
}

fn secs(t0: Instant, s: u64) -> Instant {
    t0 + Duration::from_secs(s)
}

#[test]
fn a_canary_answering_503_fails_within_a_few_requests() {
    let t0 = Instant::now();
    let mut g = Gate::new(gates(), &reading(&[("e", (100, 0), (1000, 0))]), t0);
    // Every request to it fails: decided on the fourth or so, long before any hold ends.
    let mut decided_at = None;
    for n in 1..=20 {
        let r = reading(&[("e", (100 + n, n), (1000 + 30 * n, 0))]);
        if let Verdict::Fail(why) = g.observe(Some(&r), secs(t0, n)) {
            assert!(why.contains("errors on the shifted endpoints"), "{why}");
            decided_at = Some(n);
            break;
        }
    }
    let n = decided_at.expect("the gate fails");
    assert!(n <= 5, "took {n} requests");
}

#[test]
fn a_healthy_canary_passes_only_at_the_end_of_the_hold() {
    let t0 = Instant::now();
    let hold = Duration::from_secs(60);
    let mut g = Gate::new(gates(), &reading(&[("e", (0, 0), (0, 0))]), t0);
    for s in 1..=60 {
        let r = reading(&[("e", (s, 0), (30 * s, 0))]);
        assert_eq!(g.observe(Some(&r), secs(t0, s)), Verdict::Undecided);
        let want = if s < 60 {
            Verdict::Undecided
        } else {
            Verdict::Pass
        };
        assert_eq!(g.at_end(Duration::from_secs(s), hold), want, "at {s}s");
    }
    assert_eq!(g.targets(), Counts { rq: 60, errors: 0 });
}

#[test]
fn errors_the_others_show_too_are_allowed_on_top_of_the_limit() {
    let t0 = Instant::now();
    let r0 = reading(&[("e", (0, 0), (0, 0))]);
    // The whole service fails 10 %: a canary at 10 % is no worse than the rest.
    let mut g = Gate::new(gates(), &r0, t0);
    let r = reading(&[("e", (200, 20), (2000, 200))]);
    assert_eq!(g.observe(Some(&r), secs(t0, 60)), Verdict::Undecided);
    assert_eq!(
        g.at_end(Duration::from_secs(60), Duration::from_secs(60)),
        Verdict::Pass
    );
    // The same canary beside clean endpoints fails.
    let mut g = Gate::new(gates(), &r0, t0);
    let r = reading(&[("e", (200, 20), (2000, 0))]);
    assert!(matches!(
        g.observe(Some(&r), secs(t0, 60)),
        Verdict::Fail(_)
    ));
}

#[test]
fn a_silent_data_plane_fails_the_step() {
    let t0 = Instant::now();
    let mut g = Gate::new(gates(), &reading(&[("e", (0, 0), (0, 0))]), t0);
    assert_eq!(g.observe(None, secs(t0, 9)), Verdict::Undecided);
    let empty = Reading::default();
    match g.observe(Some(&empty), secs(t0, 10)) {
        Verdict::Fail(why) => assert!(why.contains("went silent"), "{why}"),
        v => panic!("{v:?}"),
    }
}

#[test]
fn too_little_traffic_holds_on_then_says_so() {
    let t0 = Instant::now();
    let hold = Duration::from_secs(60);
    let mut g = Gate::new(gates(), &reading(&[("e", (0, 0), (0, 0))]), t0);
    let r = reading(&[("e", (4, 0), (100, 0))]);
    assert_eq!(g.observe(Some(&r), secs(t0, 60)), Verdict::Undecided);
    assert_eq!(g.at_end(Duration::from_secs(60), hold), Verdict::Undecided);
    assert_eq!(g.at_end(Duration::from_secs(119), hold), Verdict::Undecided);
    match g.at_end(Duration::from_secs(120), hold) {
        Verdict::Fail(why) => assert!(
            why.contains("not enough traffic to judge: 4 requests"),
            "{why}"
        ),
        v => panic!("{v:?}"),
    }
}

#[test]
fn a_restarted_envoy_counts_again_from_its_new_counters() {
    let t0 = Instant::now();
    let mut g = Gate::new(gates(), &reading(&[("e", (1000, 0), (1000, 0))]), t0);
    assert_eq!(
        g.observe(Some(&reading(&[("e", (1010, 0), (1100, 0))])), secs(t0, 1)),
        Verdict::Undecided
    );
    // Counters back near 0: not "minus 1000 requests", and not an error burst either.
    assert_eq!(
        g.observe(Some(&reading(&[("e", (3, 0), (20, 0))])), secs(t0, 2)),
        Verdict::Undecided
    );
    assert_eq!(g.targets(), Counts::default());
    assert_eq!(
        g.observe(Some(&reading(&[("e", (13, 0), (40, 0))])), secs(t0, 3)),
        Verdict::Undecided
    );
    assert_eq!(g.targets(), Counts { rq: 10, errors: 0 });
}

#[test]
fn an_envoy_left_out_of_a_round_keeps_what_it_said() {
    let t0 = Instant::now();
    let r0 = reading(&[("a", (0, 0), (0, 0)), ("b", (0, 0), (0, 0))]);
    let mut g = Gate::new(gates(), &r0, t0);
    g.observe(
        Some(&reading(&[("a", (5, 0), (0, 0)), ("b", (7, 0), (0, 0))])),
        secs(t0, 1),
    );
    g.observe(Some(&reading(&[("a", (9, 0), (0, 0))])), secs(t0, 2));
    assert_eq!(g.targets(), Counts { rq: 16, errors: 0 });
}

#[test]
fn envoy_ejecting_a_shifted_host_fails_the_step() {
    let t0 = Instant::now();
    let mut g = Gate::new(gates(), &reading(&[("e", (0, 0), (0, 0))]), t0);
    let mut r = reading(&[("e", (1, 0), (1, 0))]);
    r.proxies.get_mut("e").unwrap().failing = vec!["10.0.0.3:80 failed_outlier_check".into()];
    match g.observe(Some(&r), secs(t0, 1)) {
        Verdict::Fail(why) => assert!(
            why.contains("Envoy e stopped trusting 10.0.0.3:80 failed_outlier_check"),
            "{why}"
        ),
        v => panic!("{v:?}"),
    }
}

#[test]
fn p99_fails_after_three_readings_in_a_row_above_the_limit() {
    let t0 = Instant::now();
    let g = Gates {
        max_errors: 0.01,
        max_p99_ms: Some(250.0),
    };
    let with_p99 = |n: u64, p99: f64| {
        let mut r = reading(&[("e", (n, 0), (n, 0))]);
        r.proxies.get_mut("e").unwrap().p99_ms = Some(p99);
        r
    };
    let mut gate = Gate::new(g, &with_p99(0, 40.0), t0);
    assert_eq!(
        gate.observe(Some(&with_p99(1, 900.0)), secs(t0, 1)),
        Verdict::Undecided
    );
    assert_eq!(
        gate.observe(Some(&with_p99(2, 900.0)), secs(t0, 2)),
        Verdict::Undecided
    );
    // One good reading starts the count again.
    assert_eq!(
        gate.observe(Some(&with_p99(3, 100.0)), secs(t0, 3)),
        Verdict::Undecided
    );
    assert_eq!(
        gate.observe(Some(&with_p99(4, 900.0)), secs(t0, 4)),
        Verdict::Undecided
    );
    assert_eq!(
        gate.observe(Some(&with_p99(5, 900.0)), secs(t0, 5)),
        Verdict::Undecided
    );
    match gate.observe(Some(&with_p99(6, 900.0)), secs(t0, 6)) {
        Verdict::Fail(why) => assert!(
            why.contains("p99 900ms above the 250ms limit") && why.contains("it was 40ms"),
            "{why}"
        ),
        v => panic!("{v:?}"),
    }
}

/// Holds step after step with clean traffic; returns the steps whose weights were asked for.
fn run_clean(shift: &mut Shift, t0: Instant) -> Vec<Vec<Option<u32>>> {
    let mut written = Vec::new();
    let mut t = 0;
    let mut rq = 0;
    while !shift.is_finished() && t < 1000 {
        if let Some(w) = shift.wanted() {
            written.push(w);
            shift.applied(&reading(&[("e", (rq, 0), (rq, 0))]), secs(t0, t));
        }
        t += 1;
        rq += 5;
        shift.observe(Some(&reading(&[("e", (rq, 0), (rq, 0))])), secs(t0, t));
    }
    written
}

#[test]
fn a_clean_shift_walks_every_step_and_is_done() {
    let mut s = Shift::new(canary_plan("25,100"));
    let t0 = Instant::now();
    assert_eq!(s.phase, Phase::Applying(0));
    let written = run_clean(&mut s, t0);
    assert_eq!(s.outcome, Some(Outcome::Done));
    assert_eq!(s.outcome.as_ref().unwrap().exit_code(), 0);
    // Canary (0 counts as 1: 20 % now), vm1 (3), vm2 (1): 25 % then 100 %.
    assert_eq!(
        written,
        vec![
            vec![Some(2500), Some(5625), Some(1875)],
            vec![Some(10_000), Some(0), Some(0)]
        ]
    );
    assert_eq!(s.plan.step, Some(1));
}

#[test]
fn a_failing_gate_rolls_back_to_the_start_weights() {
    let mut s = Shift::new(canary_plan("25,100"));
    let t0 = Instant::now();
    s.wanted().unwrap();
    s.applied(&reading(&[("e", (0, 0), (0, 0))]), t0);
    assert_eq!(s.phase, Phase::Holding(0));
    for n in 1..=10 {
        s.observe(Some(&reading(&[("e", (n, n), (10 * n, 0))])), secs(t0, n));
    }
    assert_eq!(s.phase, Phase::RollingBack);
    assert_eq!(s.plan.state, PlanState::RollingBack);
    assert_eq!(s.wanted(), Some(vec![Some(0), Some(3), None]));
    let why = s.outcome.clone().unwrap();
    assert_eq!(why.exit_code(), 3);
    assert!(
        why.describe().contains("step 1 of 2 (25%)"),
        "{}",
        why.describe()
    );
    assert!(s.plan.why.as_deref().unwrap().contains("gate failed"));
    s.applied(&Reading::default(), secs(t0, 11));
    assert!(s.is_finished());
    assert_eq!(s.outcome.unwrap().exit_code(), 3);
}

#[test]
fn a_pause_stops_the_hold_clock_but_not_the_gates() {
    let mut s = Shift::new(canary_plan("25,100"));
    let t0 = Instant::now();
    s.applied(&reading(&[("e", (0, 0), (0, 0))]), t0);
    s.observe(Some(&reading(&[("e", (100, 0), (100, 0))])), secs(t0, 30));
    s.pause(secs(t0, 30));
    assert!(s.is_paused());
    // A long pause: the step is not passed, and the hold has not run on.
    s.observe(Some(&reading(&[("e", (200, 0), (200, 0))])), secs(t0, 500));
    assert_eq!(s.phase, Phase::Holding(0));
    assert_eq!(s.held(secs(t0, 500)), Duration::from_secs(30));
    assert!(
        s.status(secs(t0, 500)).contains("held 30s of 60s · paused"),
        "{}",
        s.status(secs(t0, 500))
    );
    s.resume(secs(t0, 500));
    s.observe(Some(&reading(&[("e", (300, 0), (300, 0))])), secs(t0, 529));
    assert_eq!(s.phase, Phase::Holding(0));
    s.observe(Some(&reading(&[("e", (310, 0), (310, 0))])), secs(t0, 530));
    assert_eq!(s.phase, Phase::Applying(1));
    // Failing while paused still rolls back.
    let mut s = Shift::new(canary_plan("25,100"));
    s.applied(&reading(&[("e", (0, 0), (0, 0))]), t0);
    s.pause(t0);
    s.observe(Some(&reading(&[("e", (20, 20), (20, 0))])), secs(t0, 1));
    assert_eq!(s.phase, Phase::RollingBack);
}

#[test]
fn an_abort_rolls_back_and_exits_4() {
    let mut s = Shift::new(canary_plan("25,100"));
    let t0 = Instant::now();
    s.applied(&Reading::default(), t0);
    s.abort("ctrl-c");
    assert_eq!(s.wanted(), Some(vec![Some(0), Some(3), None]));
    // A second abort (a second ctrl-c) does not change why.
    s.abort("again");
    assert_eq!(s.outcome, Some(Outcome::Aborted("ctrl-c".into())));
    s.applied(&Reading::default(), t0);
    assert_eq!(s.outcome.unwrap().exit_code(), 4);
}

#[test]
fn a_refused_write_rolls_back_and_a_refused_rollback_ends_it() {
    let mut s = Shift::new(canary_plan("25,100"));
    s.apply_failed("403".into());
    assert_eq!(s.phase, Phase::RollingBack);
    s.apply_failed("403 again".into());
    assert!(s.is_finished());
    let o = s.outcome.unwrap();
    assert_eq!(o.exit_code(), 1);
    assert!(
        o.describe()
            .contains("the rollback could not be written: 403 again"),
        "{}",
        o.describe()
    );
}

#[test]
fn a_plan_left_mid_shift_resumes_at_its_step_or_rolls_back() {
    let mut p = canary_plan("25,50,100");
    p.step = Some(1);
    let s = Shift::new(p.clone());
    assert_eq!(s.phase, Phase::Applying(1));
    p.state = PlanState::RollingBack;
    p.why = Some("gate failed: x".into());
    let s = Shift::new(p);
    assert_eq!(s.phase, Phase::RollingBack);
    assert_eq!(s.wanted(), Some(vec![Some(0), Some(3), None]));
}
