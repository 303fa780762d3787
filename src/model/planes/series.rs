//! Time series for the charts: one value per wall-clock second, five minutes kept. Readings
//! arrive at their own pace (a poll every second, a push every flush interval, sometimes late),
//! so a reading fills every second it covers; seconds nothing covered stay unknown (NaN)
//! rather than pretending to be zero.

use std::collections::VecDeque;

/// Seconds kept per series.
pub const SLOTS: usize = 300;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// The second (Unix time) of the last slot.
    end: u64,
    slots: VecDeque<f32>,
}

impl Series {
    /// Sets every second in `(from, to]` to `v` (at least the second `to`).
    pub fn fill(&mut self, from: u64, to: u64, v: f64) {
        let from = from
            .min(to.saturating_sub(1))
            .max(to.saturating_sub(SLOTS as u64));
        if self.slots.is_empty() || to >= self.end + SLOTS as u64 {
            self.slots.clear();
            self.end = from;
        }
        while self.end < to {
            self.slots.push_back(f32::NAN);
            self.end += 1;
        }
        let len = self.slots.len() as u64;
        for s in from + 1..=to {
            let back = self.end - s;
            if back < len {
                self.slots[(len - 1 - back) as usize] = v as f32;
            }
        }
        while self.slots.len() > SLOTS {
            self.slots.pop_front();
        }
    }

    /// The value of one second, if something covered it.
    pub fn at(&self, second: u64) -> Option<f64> {
        if second > self.end {
            return None;
        }
        let back = (self.end - second) as usize;
        let len = self.slots.len();
        (back < len)
            .then(|| self.slots[len - 1 - back])
            .filter(|v| !v.is_nan())
            .map(f64::from)
    }

    /// The `n` seconds ending at `end`, oldest first.
    pub fn window(&self, end: u64, n: usize) -> Vec<Option<f64>> {
        (0..n as u64)
            .rev()
            .map(|back| end.checked_sub(back).and_then(|s| self.at(s)))
            .collect()
    }

    /// The newest known value and its second.
    pub fn last(&self) -> Option<(u64, f64)> {
        let len = self.slots.len() as u64;
        (0..len).find_map(|back| self.at(self.end - back).map(|v| (self.end - back, v)))
    }

    pub fn end(&self) -> Option<u64> {
        (!self.slots.is_empty()).then_some(self.end)
    }
}

/// A counter, charted as its rate per second between readings. A counter that went down
/// (Envoy restarted) starts over without a rate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RateSeries {
    pub series: Series,
    last: Option<(u64, u64)>,
}

impl RateSeries {
    pub fn record(&mut self, at_ms: u64, value: u64) {
        if let Some((prev_ms, prev)) = self.last
            && at_ms > prev_ms
            && value >= prev
        {
            let rate = (value - prev) as f64 * 1000.0 / (at_ms - prev_ms) as f64;
            self.series.fill(prev_ms / 1000, at_ms / 1000, rate);
        }
        if self.last.is_none_or(|(prev_ms, _)| at_ms > prev_ms) {
            self.last = Some((at_ms, value));
        }
    }
}

/// A gauge (or a value measured over the last interval), charted as read; `None` marks the
/// seconds as measured-but-empty (e.g. no request to time).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GaugeSeries {
    pub series: Series,
    last_ms: Option<u64>,
}

impl GaugeSeries {
    pub fn record(&mut self, at_ms: u64, value: Option<f64>) {
        let from = match self.last_ms {
            Some(prev) if prev < at_ms => prev / 1000,
            _ => (at_ms / 1000).saturating_sub(1),
        };
        self.series
            .fill(from, at_ms / 1000, value.unwrap_or(f64::NAN));
        self.last_ms = Some(self.last_ms.map_or(at_ms, |p| p.max(at_ms)));
    }
}

/// Per-second sums of several series (e.g. one cluster across proxies); unknown where all are.
pub fn sum(windows: &[Vec<Option<f64>>]) -> Vec<Option<f64>> {
    combine(windows, |a, b| a + b)
}

/// Per-second maximum of several series (latency: the worst proxy).
pub fn max(windows: &[Vec<Option<f64>>]) -> Vec<Option<f64>> {
    combine(windows, f64::max)
}

fn combine(windows: &[Vec<Option<f64>>], f: impl Fn(f64, f64) -> f64) -> Vec<Option<f64>> {
    let n = windows.iter().map(Vec::len).max().unwrap_or(0);
    (0..n)
        .map(|i| {
            windows
                .iter()
                .filter_map(|w| w.get(i).copied().flatten())
                .reduce(&f)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_fills_the_seconds_it_covers_and_gaps_stay_unknown() {
        let mut s = Series::default();
        s.fill(99, 100, 1.0);
        s.fill(100, 103, 2.0);
        s.fill(105, 106, 3.0);
        assert_eq!(
            s.window(106, 8),
            vec![
                None,
                Some(1.0),
                Some(2.0),
                Some(2.0),
                Some(2.0),
                None,
                None,
                Some(3.0)
            ]
        );
        assert_eq!(s.last(), Some((106, 3.0)));
    }

    #[test]
    fn keeps_five_minutes_and_survives_a_long_gap() {
        let mut s = Series::default();
        for t in 1..=1000 {
            s.fill(t - 1, t, t as f64);
        }
        assert_eq!(s.slots.len(), SLOTS);
        assert_eq!(s.at(1000 - SLOTS as u64), None);
        assert_eq!(s.at(1000 - SLOTS as u64 + 1), Some(701.0));
        s.fill(5000, 5001, 7.0);
        assert_eq!(s.window(5001, 2), vec![None, Some(7.0)]);
        assert_eq!(s.at(1000), None);
    }

    #[test]
    fn a_late_reading_lands_in_its_own_seconds() {
        let mut s = Series::default();
        s.fill(9, 10, 1.0);
        s.fill(19, 20, 2.0);
        s.fill(14, 15, 5.0);
        assert_eq!(s.at(15), Some(5.0));
        assert_eq!(s.at(20), Some(2.0));
    }

    #[test]
    fn counter_rates_span_the_interval_and_restart_after_a_reset() {
        let mut r = RateSeries::default();
        r.record(10_000, 100);
        r.record(12_000, 160);
        assert_eq!(r.series.window(12, 3), vec![None, Some(30.0), Some(30.0)]);
        r.record(13_000, 5); // Envoy restarted: no negative rate
        assert_eq!(r.series.at(13), None);
        r.record(14_000, 15);
        assert_eq!(r.series.at(14), Some(10.0));
    }

    #[test]
    fn gauges_cover_back_to_the_previous_reading_and_none_is_unknown() {
        let mut g = GaugeSeries::default();
        g.record(10_500, Some(4.0));
        g.record(15_500, None);
        g.record(16_500, Some(2.0));
        assert_eq!(g.series.at(10), Some(4.0));
        assert_eq!(g.series.at(9), None);
        assert_eq!(g.series.at(13), None);
        assert_eq!(g.series.at(16), Some(2.0));
    }

    #[test]
    fn sums_and_maxima_skip_unknown_seconds() {
        let a = vec![Some(1.0), None, Some(3.0)];
        let b = vec![Some(2.0), None, None];
        assert_eq!(
            sum(&[a.clone(), b.clone()]),
            vec![Some(3.0), None, Some(3.0)]
        );
        assert_eq!(max(&[a, b]), vec![Some(2.0), None, Some(3.0)]);
    }
}
