//! `meshdeck bench --fleet N`: N synthetic proxies (24 clusters each) behind one loopback
//! exporter, scraped by a real Prometheus; the time of the queries the console makes (the
//! count, one query for the Charts' clusters summed over every proxy, and for reference the
//! same per proxy), and the Charts screen rendered from the sums.

use crate::config::keymap::Keymap;
use crate::config::theme::Theme;
use crate::demo::fleet;
use crate::demo::prometheus::{Prometheus, Scrape};
use crate::io::prometheus;
use crate::model::planes::data::unix_ms;
use crate::model::planes::stats::StatsSource;
use crate::msg::Msg;
use crate::msg::data::DataEvent;
use crate::state::{Config, State};
use crate::update;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::io::Write;
use std::time::{Duration, Instant, SystemTime};

const CLUSTERS: usize = 24;
const ROUNDS: usize = 10;
const COUNTED_WITHIN: Duration = Duration::from_secs(180);
/// Fleets are scraped every 15 to 60 s; every 5 s is a busy server.
const SCRAPE_EVERY: Duration = Duration::from_secs(5);

fn p50(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

async fn timed<T>(f: impl AsyncFn() -> Result<T, String>) -> anyhow::Result<(f64, T)> {
    let mut took = Vec::new();
    let mut last = None;
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let r = f().await.map_err(|e| anyhow::anyhow!(e))?;
        took.push(t.elapsed().as_secs_f64() * 1e3);
        last = Some(r);
    }
    Ok((p50(took), last.expect("ROUNDS > 0")))
}

pub async fn run(n: usize, out: &mut dyn Write) -> anyhow::Result<i32> {
    let n = n.clamp(1, fleet::MAX_PROXIES);
    let exporter = fleet::start(n, CLUSTERS).await?;
    let prom =
        Prometheus::start(&[Scrape::many(exporter.address.to_string())], SCRAPE_EVERY).await?;
    let started = Instant::now();
    loop {
        if prometheus::proxies(&prom.url).await.unwrap_or(0) >= n {
            break;
        }
        if started.elapsed() > COUNTED_WITHIN {
            anyhow::bail!("Prometheus had not scraped {n} proxies within {COUNTED_WITHIN:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let clusters: Vec<String> = (0..CLUSTERS).map(fleet::cluster).collect();
    let (count_ms, counted) = timed(|| prometheus::proxies(&prom.url)).await?;
    let (summed_ms, summed) = timed(|| prometheus::summed(&prom.url, &clusters)).await?;
    let (each_ms, each) = timed(|| prometheus::readings(&prom.url, &clusters)).await?;
    // The Charts screen from the sums, as the console holds them.
    let mut config = Config::new("bench", true, Keymap::load(None, None).0);
    let view = crate::state::planes::PlanesView {
        prometheus: Some(prom.url.clone()),
        ..Default::default()
    };
    config.planes = Some(crate::state::PlanesStart {
        view,
        view_namespace: None,
        view_locality: None,
    });
    let mut state = State::new(config);
    update::init(&mut state);
    let at_ms = unix_ms(SystemTime::now());
    for (i, (proxy, readings)) in summed.into_iter().enumerate() {
        update::update(
            &mut state,
            Msg::Data(DataEvent::Stats {
                proxy,
                source: StatsSource::Server,
                at_ms: at_ms + i as u64,
                readings,
            }),
        );
    }
    update::update(
        &mut state,
        Msg::Key(KeyEvent::new(KeyCode::Char('7'), KeyModifiers::NONE)),
    );
    let theme = Theme::builtin("dark").unwrap_or_default();
    let Ok(mut term) = Terminal::new(TestBackend::new(200, 50));
    let frames = 30;
    let t = Instant::now();
    for _ in 0..frames {
        let _ = term.draw(|f| crate::view::render(&state, &theme, f));
    }
    let frame_ms = t.elapsed().as_secs_f64() * 1e3 / frames as f64;
    let rows = state.list().map_or(0, |l| l.rows.len());
    writeln!(
        out,
        "== a fleet through a real Prometheus: {n} proxies x {CLUSTERS} clusters, one exporter scraped every {}s, p50 of {ROUNDS} ==",
        SCRAPE_EVERY.as_secs()
    )?;
    writeln!(
        out,
        "count the proxies                     {count_ms:>8.1} ms ({counted} counted)"
    )?;
    writeln!(
        out,
        "the Charts' {CLUSTERS} clusters, summed         {summed_ms:>8.1} ms (one query)"
    )?;
    writeln!(
        out,
        "  reference: the same per proxy        {each_ms:>8.1} ms ({} proxies' series)",
        each.len()
    )?;
    writeln!(
        out,
        "Charts frame from the sums (200x50)   {frame_ms:>8.2} ms ({rows} rows)"
    )?;
    Ok(0)
}
