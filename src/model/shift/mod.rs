//! A staged traffic shift: the chosen endpoints' share of a service moved in steps, each held
//! while gates read the data plane, rolled back to the weights it started from when a gate
//! fails. `plan` is what is persisted (so another console sees it), `weights` the arithmetic of
//! a step, `gate` the decisions, `run` the state machine, on clocks the caller gives.

pub mod edits;
pub mod gate;
pub mod plan;
pub mod run;
#[cfg(test)]
mod tests;

pub use gate::{Counts, Gates, ProxySample, Reading};
pub use plan::{Member, Plan, PlanState, SHIFT_ANNOTATION, endpoint_name, parse_endpoint};
pub use run::{Outcome, Phase, Shift};

/// The total weight a step's shares are written in: fine enough for 0.01 % steps, small enough
/// that Envoy's per-locality sum of weights stays far from `u32::MAX`.
pub const SCALE: u64 = 10_000;

/// Weights that give `to` (the indexes in `members` that are shifted to) `percent` of the
/// traffic, each side split in the proportion of its weights at the start (unset and 0 count
/// as 1, as istiod sends them). A side with nothing left gets 0, which istiod sends as 1: the
/// old endpoints keep a trickle of 1 in `SCALE` each at 100 %.
pub fn weights(members: &[Member], percent: f64, to: &[bool]) -> Vec<u32> {
    let share = (percent.clamp(0.0, 100.0) / 100.0 * SCALE as f64).round() as u64;
    let effective = |m: &Member| u64::from(m.weight.unwrap_or(0).max(1));
    let side_sum = |side: bool| -> u64 {
        members
            .iter()
            .zip(to)
            .filter(|(_, t)| **t == side)
            .map(|(m, _)| effective(m))
            .sum()
    };
    let (to_sum, rest_sum) = (side_sum(true), side_sum(false));
    members
        .iter()
        .zip(to)
        .map(|(m, t)| {
            let (total, sum) = if *t {
                (share, to_sum)
            } else {
                (SCALE - share, rest_sum)
            };
            (total * effective(m) + sum / 2)
                .checked_div(sum)
                .unwrap_or(0) as u32
        })
        .collect()
}

/// The share of the traffic `to` has at the start, from the declared weights (what a step
/// must be above).
pub fn share_now(members: &[Member], to: &[bool]) -> f64 {
    let effective = |m: &Member| f64::from(m.weight.unwrap_or(0).max(1));
    let all: f64 = members.iter().map(effective).sum();
    let ours: f64 = members
        .iter()
        .zip(to)
        .filter(|(_, t)| **t)
        .map(|(m, _)| effective(m))
        .sum();
    if all == 0.0 { 0.0 } else { ours / all * 100.0 }
}

/// Steps as the user writes them (`1,5,25,50,100`): percentages, rising, in (0, 100].
pub fn parse_steps(text: &str) -> Result<Vec<f64>, String> {
    let mut steps = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let n: f64 = part
            .trim_end_matches('%')
            .parse()
            .map_err(|_| format!("step {part:?} is not a percentage"))?;
        if !(n > 0.0 && n <= 100.0) {
            return Err(format!(
                "step {part}: a step is a share above 0 and at most 100"
            ));
        }
        if steps.last().is_some_and(|l| *l >= n) {
            return Err(format!(
                "steps must rise: {part} comes after {}",
                steps.last().unwrap()
            ));
        }
        steps.push(n);
    }
    if steps.is_empty() {
        return Err("no steps: give shares such as 1,5,25,50,100".into());
    }
    Ok(steps)
}

/// A ratio as the user writes it: `1%` or `0.01`.
pub fn parse_ratio(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| format!("{text:?} is not a ratio: write 1% or 0.01"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{text:?}: a ratio is between 0% and 100%"))
    }
}

/// A latency as the user writes it: `250ms`, `1s` (milliseconds).
pub fn parse_millis(text: &str) -> Result<f64, String> {
    humantime::parse_duration(text.trim())
        .map(|d| d.as_secs_f64() * 1000.0)
        .map_err(|e| format!("{text:?} is not a latency such as 250ms: {e}"))
}
