//! `meshdeck bench`: load+index, one-object update, filter per keystroke and frame render on
//! generated registries, plus peak memory. Prints figures; asserts nothing about speed.

use crate::config::keymap::Keymap;
use crate::config::theme::Theme;
use crate::io::manifests::load::into_store;
use crate::io::manifests::parse::parse_text;
use crate::model::object::{Kind, Object};
use crate::model::store::Entry;
use crate::msg::Msg;
use crate::state::{Config, Screen, State};
use crate::update;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// A registry of `wes` WorkloadEntries behind `ses` ServiceEntries, as one YAML text.
pub fn generate(wes: usize, ses: usize) -> String {
    let mut s = String::with_capacity(wes * 330 + ses * 400);
    for i in 0..ses {
        let _ = write!(
            s,
            "---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: svc-{i}\n  namespace: ns-{ns}\nspec:\n  hosts:\n  - svc-{i}.example.internal\n  location: MESH_INTERNAL\n  resolution: STATIC\n  ports:\n  - number: 80\n    name: http\n    targetPort: 8080\n  workloadSelector:\n    labels:\n      app: svc-{i}\n",
            ns = i % 10
        );
    }
    for i in 0..wes {
        let svc = i % ses.max(1);
        let _ = write!(
            s,
            "---\napiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n  name: vm-{i}\n  namespace: ns-{ns}\nspec:\n  address: 10.{a}.{b}.{c}\n  labels:\n    app: svc-{svc}\n  locality: region-{r}/zone-{z}\n  weight: {w}\n",
            ns = svc % 10,
            a = (i >> 16) & 255,
            b = (i >> 8) & 255,
            c = i & 255,
            r = i % 3,
            z = i % 7,
            w = 1 + i % 100
        );
    }
    s
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn per(d: Duration, n: usize) -> String {
    let us = d.as_secs_f64() * 1e6 / n.max(1) as f64;
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.1} µs")
    }
}

pub fn run(sizes: &[usize], out: &mut dyn Write) -> i32 {
    for &wes in sizes {
        let ses = (wes / 100).max(1000.min(wes));
        let _ = writeln!(out, "== {wes} WorkloadEntries, {ses} ServiceEntries ==");
        let text = generate(wes, ses);
        let t = Instant::now();
        let parsed = parse_text(Path::new("bench.yaml"), &text);
        let parse = t.elapsed();
        let sample: Vec<Entry> = parsed
            .entries
            .iter()
            .filter(|e| e.object.kind() == Kind::WorkloadEntry)
            .take(1000)
            .cloned()
            .collect();
        let t = Instant::now();
        let store = into_store(vec![parsed]);
        let index = t.elapsed();
        let _ = writeln!(
            out,
            "load (parse {} MiB YAML)   {:>10.1} ms",
            text.len() / (1 << 20),
            parse.as_secs_f64() * 1e3
        );
        let _ = writeln!(
            out,
            "index (store + selectors)  {:>10.1} ms",
            index.as_secs_f64() * 1e3
        );
        drop(text);

        let mut state = State::new(Config {
            store,
            ..Config::new("bench", false, Keymap::load(None, None).0)
        });
        update::init(&mut state);
        let t = Instant::now();
        let findings = crate::model::lint::run(&state.registry.store);
        let _ = writeln!(
            out,
            "lint, whole registry       {:>10.1} ms ({} findings)",
            t.elapsed().as_secs_f64() * 1e3,
            findings.len()
        );

        // One-object update: change the weight and labels of an existing entry, re-index it.
        let t = Instant::now();
        for (n, mut e) in sample.into_iter().enumerate() {
            if let Object::WorkloadEntry(we) = &mut e.object {
                we.spec.weight = Some(1000 + n as u32);
                we.spec
                    .labels
                    .insert("app".into(), format!("svc-{}", n % ses));
            }
            state.registry.store.upsert(e);
        }
        let _ = writeln!(
            out,
            "one-object update          {:>13}",
            per(t.elapsed(), 1000)
        );

        // Filter: type "vm-12" on the WorkloadEntries screen, one keystroke at a time.
        update::update(
            &mut state,
            Msg::Key(KeyEvent::new(KeyCode::Char('2'), KeyModifiers::NONE)),
        );
        debug_assert_eq!(state.screen(), &Screen::List(Kind::WorkloadEntry));
        update::update(
            &mut state,
            Msg::Key(KeyEvent::new(KeyCode::Char('/'), KeyModifiers::NONE)),
        );
        let keys = "vm-12";
        let t = Instant::now();
        let mut first = Duration::ZERO;
        for c in keys.chars() {
            update::update(
                &mut state,
                Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
            );
            if first.is_zero() {
                first = t.elapsed();
            }
        }
        let filter = t.elapsed();
        let shown = state.list().map_or(0, |l| l.rows.len());
        let _ = writeln!(
            out,
            "filter per keystroke       {:>13} ({} of {} rows match {keys:?}; the first key {}, the others {} each)",
            per(filter, keys.len()),
            shown,
            state.registry.store.count(Kind::WorkloadEntry),
            per(first, 1),
            per(filter - first, keys.len() - 1),
        );
        update::update(
            &mut state,
            Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
        );

        // Sort the Services by ENDPOINTS (column 6): the first sort derives every service once;
        // typing a filter over it re-sorts from the cached keys.
        let press = |state: &mut State, c: char| {
            update::update(
                state,
                Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
            );
        };
        let before = state.registry.derived.derivations;
        let t = Instant::now();
        press(&mut state, '1');
        for _ in 0..6 {
            press(&mut state, 's');
        }
        let first = t.elapsed();
        let sorted = state.registry.derived.derivations - before;
        press(&mut state, '/');
        let t = Instant::now();
        for c in "svc-1".chars() {
            press(&mut state, c);
        }
        let typing = t.elapsed();
        let _ = writeln!(
            out,
            "sort services by ENDPOINTS  {:>12} to open and sort ({sorted} derivations), then {} per filter key ({} more)",
            per(first, 1),
            per(typing, 5),
            state.registry.derived.derivations - before - sorted
        );
        update::update(
            &mut state,
            Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
        );
        // Back to column 0 (7 columns).
        press(&mut state, 's');

        // Render one frame at 200x50, on the Services screen (endpoint counts cached per store
        // generation).
        let theme = Theme::builtin("dark").unwrap_or_default();
        let Ok(mut term) = Terminal::new(TestBackend::new(200, 50));
        let frames = 50;
        let t = Instant::now();
        for _ in 0..frames {
            let _ = term.draw(|f| crate::view::render(&state, &theme, f));
        }
        let _ = writeln!(
            out,
            "render 200x50 (services)   {:>13}",
            per(t.elapsed(), frames)
        );
        update::update(
            &mut state,
            Msg::Key(KeyEvent::new(KeyCode::Char('2'), KeyModifiers::NONE)),
        );
        let t = Instant::now();
        for _ in 0..frames {
            let _ = term.draw(|f| crate::view::render(&state, &theme, f));
        }
        let _ = writeln!(
            out,
            "render 200x50 (entries)    {:>13}",
            per(t.elapsed(), frames)
        );
        let _ = writeln!(
            out,
            "peak memory (VmHWM)        {:>10.1} MiB",
            peak_rss_mib()
        );
    }
    super::bench_timeline::run(out);
    super::bench_proxies::run(&[1_000, 5_000], out);
    0
}
