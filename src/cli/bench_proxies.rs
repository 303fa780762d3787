//! `meshdeck bench` (part): the Proxies screen with a fleet's syncz — thousands of proxies
//! from one xDS server — per frame, per sort and per filter keystroke.

use crate::config::keymap::Keymap;
use crate::config::theme::Theme;
use crate::model::planes::control::{ProxySync, TypeSync};
use crate::msg::Msg;
use crate::msg::xds::XdsEvent;
use crate::state::{Config, State};
use crate::update;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

fn fleet(n: usize) -> Vec<ProxySync> {
    (0..n)
        .map(|i| ProxySync {
            id: format!("fleet-{i:05}.ns-{}", i % 20),
            cluster: "Kubernetes".into(),
            locality: format!("r{}/z{}", i % 3, i % 7),
            control_plane: format!("istiod-{}", i % 3),
            types: ["CDS", "EDS", "LDS", "RDS"]
                .into_iter()
                .map(|t| {
                    let status = if i % 97 == 0 { "STALE" } else { "SYNCED" };
                    (
                        t.to_string(),
                        TypeSync {
                            status: status.into(),
                            version: format!("2026-12-04T04:{:02}:00Z/{}", i % 60, i % 11),
                            error: None,
                        },
                    )
                })
                .collect::<BTreeMap<_, _>>(),
        })
        .collect()
}

fn key(state: &mut State, c: char) {
    update::update(
        state,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
    );
}

fn ms(d: Duration, n: u32) -> f64 {
    d.as_secs_f64() * 1e3 / n as f64
}

pub fn run(sizes: &[usize], out: &mut dyn Write) {
    let _ = writeln!(out, "== Proxies screen with a fleet's syncz (200x50) ==");
    let theme = Theme::builtin("dark").unwrap_or_default();
    for &n in sizes {
        let mut config = Config::new("bench", true, Keymap::load(None, None).0);
        config.planes = Some(crate::state::PlanesStart {
            view: crate::state::planes::PlanesView::default(),
            view_namespace: None,
            view_locality: None,
        });
        let mut state = State::new(config);
        update::init(&mut state);
        let t = Instant::now();
        update::update(
            &mut state,
            Msg::Xds(XdsEvent::Syncz {
                server: "istiod".into(),
                proxies: fleet(n),
            }),
        );
        update::update(&mut state, Msg::Tick);
        let took_syncz = t.elapsed();
        key(&mut state, '6');
        let Ok(mut term) = Terminal::new(TestBackend::new(200, 50));
        let frames = 30;
        let t = Instant::now();
        for _ in 0..frames {
            let _ = term.draw(|f| crate::view::render(&state, &theme, f));
        }
        let frame = ms(t.elapsed(), frames);
        let t = Instant::now();
        key(&mut state, 's');
        let sort = t.elapsed();
        key(&mut state, '/');
        let t = Instant::now();
        for c in "fleet-0099".chars() {
            key(&mut state, c);
        }
        let filter = ms(t.elapsed(), 10);
        let shown = state.list().map_or(0, |l| l.rows.len());
        let _ = writeln!(
            out,
            "{n:>6} proxies: syncz applied {:>7.2} ms · frame {frame:>6.2} ms · sort {:>6.2} ms · filter keystroke {filter:>6.2} ms ({shown} shown)",
            took_syncz.as_secs_f64() * 1e3,
            sort.as_secs_f64() * 1e3,
        );
    }
}
