//! One-line charts in text: a column per second, eight heights, blank where nothing was
//! measured (an unknown second is not a zero).

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The sparkline of `values`, scaled from zero to their maximum.
pub fn spark(values: &[Option<f64>]) -> String {
    let top = values.iter().flatten().copied().fold(0.0_f64, f64::max);
    values
        .iter()
        .map(|v| match v {
            None => ' ',
            Some(_) if top <= 0.0 => BARS[0],
            Some(v) => {
                let i = ((v / top) * (BARS.len() - 1) as f64).round() as usize;
                BARS[i.min(BARS.len() - 1)]
            }
        })
        .collect()
}

/// The newest known value among the last few seconds; older counts as "no value now".
pub fn current(values: &[Option<f64>]) -> Option<f64> {
    values.iter().rev().take(5).flatten().next().copied()
}

/// A rate, count or latency in at most six columns; "-" when unknown.
pub fn number(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v >= 10_000.0 => format!("{:.0}k", v / 1000.0),
        Some(v) if v >= 100.0 || v.fract() == 0.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.1}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_to_the_maximum_and_leaves_unknown_seconds_blank() {
        assert_eq!(spark(&[Some(0.0), Some(5.0), None, Some(10.0)]), "▁▅ █");
        assert_eq!(spark(&[Some(0.0), Some(0.0)]), "▁▁");
        assert_eq!(spark(&[None, None]), "  ");
    }

    #[test]
    fn the_current_value_is_recent_or_none() {
        let mut w = vec![Some(3.0)];
        w.extend([None; 5]);
        assert_eq!(current(&w), None);
        assert_eq!(current(&[Some(1.0), Some(2.0), None]), Some(2.0));
    }

    #[test]
    fn numbers_stay_short() {
        assert_eq!(number(None), "-");
        assert_eq!(number(Some(2.0)), "2");
        assert_eq!(number(Some(2.24)), "2.2");
        assert_eq!(number(Some(431.7)), "432");
        assert_eq!(number(Some(25_300.0)), "25k");
    }
}
