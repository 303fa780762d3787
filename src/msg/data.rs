//! What the Envoy admin poller and the metrics receiver report to `update`, and what the poller
//! is told to poll.

use crate::model::planes::data::EnvoyClusters;
use crate::model::planes::stats::{Readings, StatsSource};
use std::time::{Instant, SystemTime};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PollTarget {
    pub name: String,
    /// `http://HOST:PORT` of the admin listener.
    pub admin: String,
    /// Where to read Prometheus text instead of the admin's `/stats` (15090, 15020).
    pub prometheus: Option<String>,
    /// The clusters whose stats to read too (charts on screen); none: only `/clusters`.
    pub stats: Vec<String>,
    /// An edit is being followed: read every `verify::READ_EVERY`, not at the usual pace
    /// (an admin reached over ssh keeps its pace).
    pub quick: bool,
}

impl PollTarget {
    pub fn new(name: impl Into<String>, admin: impl Into<String>) -> PollTarget {
        PollTarget {
            name: name.into(),
            admin: admin.into(),
            prometheus: None,
            stats: Vec::new(),
            quick: false,
        }
    }
}

#[derive(Debug, Clone)]
pub enum DataEvent {
    Clusters {
        proxy: String,
        clusters: EnvoyClusters,
        at: Instant,
        wall: SystemTime,
    },
    Failed {
        proxy: String,
        error: String,
    },
    /// Cluster stats, polled or pushed; `at_ms` is Unix time.
    Stats {
        proxy: String,
        source: StatsSource,
        at_ms: u64,
        readings: Readings,
    },
    StatsFailed {
        proxy: String,
        error: String,
    },
}
