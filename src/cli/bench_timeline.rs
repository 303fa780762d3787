//! `bench`'s timeline figures: what the ring holds when full, what a change costs to record,
//! and the Timeline's rows at that size.

use crate::model::object::{Kind, ObjectKey};
use crate::model::timeline::{Change, ChangeKind, Origin, Seen, Timeline};
use std::io::Write;
use std::time::{Duration, Instant, SystemTime};

fn change(i: usize, start: SystemTime) -> Change {
    Change {
        at: start + Duration::from_millis(i as u64 * 10),
        kind: ChangeKind::Registry,
        object: Some(ObjectKey::new(
            Kind::WorkloadEntry,
            format!("ns{}", i % 50),
            format!("vm-{:05}", i % 10_000),
        )),
        target: String::new(),
        field: "spec.weight".into(),
        old: Seen::Value((i % 100).to_string()),
        new: Seen::Value(((i + 1) % 100).to_string()),
        who: Some("kubectl-edit".into()),
        origin: Origin::Watched,
    }
}

pub fn run(out: &mut dyn Write) {
    crate::heap::count();
    let start = SystemTime::now();
    let pushed = Timeline::CAP + Timeline::CAP / 2;
    let before = crate::heap::net_bytes();
    let mut tl = Timeline::default();
    let t = Instant::now();
    for i in 0..pushed {
        tl.push(change(i, start));
    }
    let push = t.elapsed();
    let held = crate::heap::net_bytes() - before;
    let _ = writeln!(out, "== timeline ==");
    let _ = writeln!(
        out,
        "record a change            {:>10.2} µs ({pushed} pushed, {} kept, {} dropped)",
        push.as_secs_f64() * 1e6 / pushed as f64,
        tl.len(),
        tl.dropped()
    );
    let _ = writeln!(
        out,
        "held when full             {:>10.1} MiB ({} B per change)",
        held as f64 / (1 << 20) as f64,
        held / tl.len().max(1) as isize
    );
    // A late one (history read after the watch started) lands in its place.
    let t = Instant::now();
    let late = 1000;
    for i in 0..late {
        tl.push(change(Timeline::CAP / 2 + i, start));
    }
    let _ = writeln!(
        out,
        "record one out of order    {:>10.2} µs",
        t.elapsed().as_secs_f64() * 1e6 / late as f64
    );
    let t = Instant::now();
    let text: usize = tl
        .iter()
        .map(|c| crate::present::changes::search_text(c).len())
        .sum();
    let _ = writeln!(
        out,
        "filter text of every row   {:>10.1} ms ({} KiB)",
        t.elapsed().as_secs_f64() * 1e3,
        text / 1024
    );
}
