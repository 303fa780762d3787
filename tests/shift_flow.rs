//! `:shift` from the console, through `update`, the file source and the plan file, with
//! Envoy's counters fed as the poller sends them: the plan is kept before anything is written,
//! each step goes out as an edit (not onto the undo stack), a canary failing its requests rolls
//! back to the files as they were, `P` pauses, `A` and quitting abort, and a second console
//! is refused while the plan is kept.

mod common;
use common::*;
use meshdeck::io::envoy::poll::{DataEvent, PollTarget};
use meshdeck::io::manifests::load::load_file;
use meshdeck::io::shift_plan::PlanLock;
use meshdeck::io::source::files::FileSource;
use meshdeck::io::source::{Change, FieldEdit, Source};
use meshdeck::model::planes::HostKey;
use meshdeck::model::planes::data::HostState;
use meshdeck::msg::shift::PlanOp;
use meshdeck::msg::{Cmd, Msg};
use meshdeck::state::planes::PlanesView;
use meshdeck::state::{Level, State};
use meshdeck::update::update;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

const CLUSTER: &str = "outbound|80||payments.shop.internal";

fn on(root: &Path) -> State {
    let east = PollTarget::new("east", "http://127.0.0.1:15000");
    let mut config = meshdeck::state::Config::new(
        "files: test",
        false,
        meshdeck::config::keymap::Keymap::load(None, None).0,
    );
    config.who = meshdeck::state::setup::Who::named("alice");
    config.planes = planes_of(PlanesView::with_proxies(std::slice::from_ref(&east)));
    state_configured(&[root.to_path_buf()], config)
}

/// What the source task does with the commands the console sent: the plan through the plan
/// file, the edits through the files (then read again). Returns what the answers asked for.
async fn carry_out(s: &mut State, root: &Path, cmds: Vec<Cmd>) -> Vec<Cmd> {
    let mut next = Vec::new();
    for cmd in cmds {
        match cmd {
            Cmd::ShiftPlan(op) => {
                let service = op.service();
                let lock = PlanLock::for_files(&[root.to_path_buf()], &service);
                let answer = lock.carry_out(op.clone()).await;
                next.extend(update(s, Msg::ShiftPlan(op, answer)));
            }
            Cmd::Apply { id, edits } => {
                let result = FileSource::new(vec![root.to_path_buf()], false)
                    .apply(edits)
                    .await;
                assert!(result.is_ok(), "{result:?}");
                next.extend(update(s, Msg::Applied { id, result }));
                let files = std::fs::read_dir(root)
                    .unwrap()
                    .filter_map(|e| {
                        let p = e.unwrap().path();
                        p.is_file().then(|| load_file(&p))
                    })
                    .collect();
                next.extend(update(s, Msg::FilesLoaded(files)));
            }
            _ => {}
        }
    }
    next
}

async fn settle(s: &mut State, root: &Path, mut cmds: Vec<Cmd>) {
    for _ in 0..10 {
        if cmds.is_empty() {
            return;
        }
        cmds = carry_out(s, root, cmds).await;
    }
    panic!("the commands did not settle: {cmds:?}");
}

fn weight(edits: &[FieldEdit], name: &str) -> Option<u32> {
    edits
        .iter()
        .find_map(|e| match (&e.change, e.object().name.as_str()) {
            (Change::Weight { to, .. }, n) if n == name => Some(*to),
            _ => None,
        })
}

/// Envoy "east" after `n` rounds: vm-3 served `canary` requests (failing `failed`), the
/// others 10 each.
fn envoy(s: &mut State, canary: u64, failed: u64, round: u64) {
    let host = |rq: u64, err: u64| HostState {
        weight: 1,
        rq_total: rq,
        rq_error: err,
        ..Default::default()
    };
    update(
        s,
        Msg::Data(DataEvent::Clusters {
            proxy: "east".into(),
            clusters: BTreeMap::from([(
                CLUSTER.to_string(),
                BTreeMap::from([
                    (HostKey::new("10.10.1.11", 8080), host(10 * round, 0)),
                    (HostKey::new("10.10.1.12", 8080), host(10 * round, 0)),
                    (HostKey::new("10.20.1.13", 8080), host(canary, failed)),
                ]),
            )]),
            at: Instant::now(),
            wall: SystemTime::now() + Duration::from_secs(round),
        }),
    );
}

/// The payments Endpoints with payments-vm-3 selected.
fn to_vm3(s: &mut State) {
    typed(s, "jj\n");
    for _ in 0..3 {
        let (p, e) = match s.list().and_then(|l| l.selected_row()) {
            Some(meshdeck::state::RowId::Endpoint(p, e)) => (*p, *e),
            other => panic!("{other:?}"),
        };
        if s.endpoint_at(p, e)
            .is_some_and(|ep| format!("{:?}", ep.source).contains("payments-vm-3"))
        {
            return;
        }
        typed(s, "j");
    }
    panic!("payments-vm-3 is not on the Endpoints screen");
}

fn status(s: &State) -> String {
    s.ui.status
        .as_ref()
        .map(|(_, m)| m.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_failing_canary_rolls_back_to_the_files_as_they_were() {
    let (_dir, root) = example_copy();
    let file = root.join("payments.yaml");
    let original = read(&file);
    let plan_file = root.join(".meshdeck/shift-shop-payments.json");
    let mut s = on(&root);
    to_vm3(&mut s);
    let cmds = typed(&mut s, ":shift 50,100 30s 1%\n\n");
    let [Cmd::ShiftPlan(PlanOp::Create(plan))] = cmds.as_slice() else {
        panic!("the plan is kept before anything is written: {cmds:?}")
    };
    assert_eq!(plan.steps, vec![50.0, 100.0]);
    assert_eq!(plan.hold_secs, 30);
    assert_eq!(read(&file), original);

    // Kept: the first step goes out as an edit.
    let next = carry_out(&mut s, &root, cmds).await;
    assert!(plan_file.exists());
    let [Cmd::Apply { edits, .. }] = next.as_slice() else {
        panic!("{next:?}")
    };
    assert_eq!(weight(edits, "payments-vm-3"), Some(5000));
    let after = carry_out(&mut s, &root, next).await;
    assert!(read(&file).contains("weight: 5000"));
    assert!(s.edits.undo.is_empty(), "a step is not undone with u");
    settle(&mut s, &root, after).await;
    let run = s.edits.shift.as_ref().expect("running");
    assert!(run.line.contains("step 1 of 2 (50%)"), "{}", run.line);
    assert!(status(&s).contains("a step of the shift"), "{}", status(&s));

    // P pauses (said on the line) and resumes.
    typed(&mut s, "P");
    assert!(s.edits.shift.as_ref().unwrap().line.contains("paused"));
    typed(&mut s, "P");
    assert!(!s.edits.shift.as_ref().unwrap().line.contains("paused"));

    // The canary fails every request: the gate fails and the start weights go back.
    envoy(&mut s, 0, 0, 0);
    let mut cmds = update(&mut s, Msg::Tick);
    for round in 1..=10 {
        if s.edits.shift.as_ref().unwrap().shift.outcome.is_some() {
            break;
        }
        envoy(&mut s, 2 * round, 2 * round, round);
        cmds.extend(update(&mut s, Msg::Tick));
    }
    let run = s.edits.shift.as_ref().expect("rolling back");
    assert!(
        run.shift
            .outcome
            .as_ref()
            .unwrap()
            .describe()
            .contains("gate failed"),
        "{:?}",
        run.shift.outcome
    );
    assert!(status(&s).contains("rolling back"), "{}", status(&s));
    let rollback: Vec<&Cmd> = cmds
        .iter()
        .filter(|c| matches!(c, Cmd::Apply { .. }))
        .collect();
    let [Cmd::Apply { edits, .. }] = rollback.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(weight(edits, "payments-vm-3"), Some(10));
    assert_eq!(weight(edits, "payments-vm-1"), Some(70));
    settle(&mut s, &root, cmds).await;
    assert!(s.edits.shift.is_none());
    assert_eq!(read(&file), original);
    assert!(!plan_file.exists(), "the plan is removed at the end");
    assert!(
        matches!(&s.ui.status, Some((Level::Error, m)) if m.contains("gate failed") && m.contains("the weights are back")),
        "{:?}",
        s.ui.status
    );
}

#[tokio::test]
async fn quitting_aborts_first_and_a_second_console_is_refused_while_the_plan_is_kept() {
    let (_dir, root) = example_copy();
    let file = root.join("payments.yaml");
    let original = read(&file);
    let mut s = on(&root);
    to_vm3(&mut s);
    let cmds = typed(&mut s, ":shift 50,100\n\n");
    settle(&mut s, &root, cmds).await;
    assert!(read(&file).contains("weight: 5000"));

    // Another console on the same files is refused with who runs it (the plan file is not in
    // the registry, so it is the keeping that refuses: steps above the share it sees now).
    let mut other = on(&root);
    to_vm3(&mut other);
    let cmds = typed(&mut other, ":shift 75,100\n\n");
    let answers = carry_out(&mut other, &root, cmds).await;
    assert!(answers.is_empty(), "{answers:?}");
    assert!(other.edits.shift.is_none());
    assert!(
        status(&other).contains("already being shifted") && status(&other).contains("by alice"),
        "{}",
        status(&other)
    );

    // q while it runs: rolled back, not quit; q again once it is back quits.
    let cmds = typed(&mut s, "q");
    assert!(!s.ui.quit);
    assert!(
        status(&s).contains("quit again once it is back"),
        "{}",
        status(&s)
    );
    // While the rollback is unanswered a second q warns (a third would leave without it).
    typed(&mut s, "q");
    assert!(!s.ui.quit);
    assert!(
        status(&s).contains("q once more quits now"),
        "{}",
        status(&s)
    );
    settle(&mut s, &root, cmds).await;
    assert_eq!(read(&file), original);
    assert!(s.edits.shift.is_none());
    assert!(status(&s).contains("aborted on quit"), "{}", status(&s));
    typed(&mut s, "q");
    assert!(s.ui.quit);

    // Outside a service's Endpoints there is nothing to shift.
    let mut s = on(&root);
    typed(&mut s, ":shift\n");
    assert!(status(&s).contains("Endpoints"), "{}", status(&s));
}

/// A console that stopped mid-shift leaves its plan: another console cannot resume it while it
/// is fresh, and `:shift rollback` takes it over and puts the files back.
#[tokio::test]
async fn a_left_shift_is_taken_over_and_rolled_back() {
    let (_dir, root) = example_copy();
    let file = root.join("payments.yaml");
    let original = read(&file);
    let plan_file = root.join(".meshdeck/shift-shop-payments.json");
    let mut first = on(&root);
    to_vm3(&mut first);
    let cmds = typed(&mut first, ":shift 50,100\n\n");
    settle(&mut first, &root, cmds).await;
    assert!(read(&file).contains("weight: 5000"));
    drop(first);
    assert!(plan_file.exists());

    let mut s = on(&root);
    typed(&mut s, "jj\n");
    let cmds = typed(&mut s, ":shift resume\n");
    assert!(matches!(
        cmds.as_slice(),
        [Cmd::ShiftPlan(PlanOp::Take {
            rollback: false,
            ..
        })]
    ));
    settle(&mut s, &root, cmds).await;
    assert!(s.edits.shift.is_none());
    assert!(status(&s).contains("still running"), "{}", status(&s));

    let cmds = typed(&mut s, ":shift rollback\n");
    settle(&mut s, &root, cmds).await;
    assert!(s.edits.shift.is_none(), "{:?}", s.ui.status);
    assert_eq!(read(&file), original);
    assert!(!plan_file.exists());
    assert!(
        matches!(&s.ui.status, Some((Level::Info, m)) if m.contains("rolled back")),
        "{:?}",
        s.ui.status
    );
}

/// `:shift … MAX-P99`: the console polls the service's cluster stats while the shift runs, and
/// a p99 over the limit three readings in a row rolls it back, while no request fails.
#[tokio::test]
async fn a_slow_canary_fails_the_p99_gate() {
    use meshdeck::model::planes::stats::{ClusterReading, Field, Latency, StatsSource};
    let (_dir, root) = example_copy();
    let file = root.join("payments.yaml");
    let original = read(&file);
    let mut s = on(&root);
    to_vm3(&mut s);
    let cmds = typed(&mut s, ":shift 50,100 30s 1% 250ms\n");
    assert!(cmds.is_empty(), "a yes first: {cmds:?}");
    let shown = screen(&s, 160, 48);
    assert!(shown.contains("p99 at most 250ms"), "{shown}");
    let cmds = typed(&mut s, "y");
    settle(&mut s, &root, cmds).await;
    assert!(read(&file).contains("weight: 5000"));
    // The gated cluster's stats are asked for, on this screen as on any other.
    let wanted = meshdeck::update::planes::wanted_proxies(&s);
    assert!(
        wanted.iter().all(|t| t.stats == vec![CLUSTER.to_string()]),
        "{wanted:?}"
    );
    let mut cmds = Vec::new();
    let now_ms = meshdeck::model::planes::data::unix_ms(SystemTime::now());
    for round in 0..=6 {
        if s.edits.shift.as_ref().unwrap().shift.outcome.is_some() {
            break;
        }
        envoy(&mut s, 20 * round, 0, round);
        update(
            &mut s,
            Msg::Data(DataEvent::Stats {
                proxy: "east".into(),
                source: StatsSource::AdminJson,
                at_ms: now_ms + 1000 * round,
                readings: BTreeMap::from([(
                    CLUSTER.to_string(),
                    ClusterReading {
                        values: BTreeMap::from([(Field::RqTotal, 40 * round)]),
                        latency: Some(Latency::Quantiles {
                            p50: Some(20.0),
                            p99: Some(900.0),
                        }),
                    },
                )]),
            }),
        );
        cmds.extend(update(&mut s, Msg::Tick));
    }
    let outcome = s
        .edits
        .shift
        .as_ref()
        .expect("rolling back")
        .shift
        .outcome
        .clone();
    let why = outcome.map(|o| o.describe()).unwrap_or_default();
    assert!(why.contains("p99"), "{why}");
    settle(&mut s, &root, cmds).await;
    assert_eq!(read(&file), original);
}

/// `:shift` alone opens the form: the defaults, the weights they give, kept up to date as the
/// fields change; a value that does not read says why and starts nothing; enter starts it.
#[tokio::test]
async fn the_form_shows_each_steps_weights_and_starts_the_shift() {
    let (_dir, root) = example_copy();
    let mut s = on(&root);
    to_vm3(&mut s);
    assert!(typed(&mut s, ":shift\n").is_empty());
    let form = s.edits.shift_form.as_ref().expect("the form");
    // vm-3 has 10% already: the default first step (1%) is below it, and the form says so.
    let why = form.preview.clone().unwrap_err();
    assert!(why.contains("must be above"), "{why}");
    // Steps as typed: the table follows.
    typed(&mut s, &"\x08".repeat(13));
    typed(&mut s, "50,abc");
    let why = s
        .edits
        .shift_form
        .as_ref()
        .unwrap()
        .preview
        .clone()
        .unwrap_err();
    assert!(why.contains("not a percentage"), "{why}");
    assert!(typed(&mut s, "\n").is_empty(), "nothing starts");
    assert!(s.edits.shift_form.is_some(), "and nothing typed is lost");
    typed(&mut s, "\x08\x08\x08100\t\x08\x08\x0830s");
    let shown = screen(&s, 160, 48);
    assert!(shown.contains("in 2 steps, each held 30s"), "{shown}");
    assert!(shown.contains("50%"), "{shown}");
    let cmds = typed(&mut s, "\n");
    let [Cmd::ShiftPlan(PlanOp::Create(plan))] = cmds.as_slice() else {
        panic!("{cmds:?} {:?}", s.ui.status)
    };
    assert_eq!(
        (plan.steps.clone(), plan.hold_secs),
        (vec![50.0, 100.0], 30)
    );
    assert!(s.edits.shift_form.is_none());
    settle(&mut s, &root, cmds).await;
    assert!(read(&root.join("payments.yaml")).contains("weight: 5000"));
}
