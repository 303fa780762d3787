//! What objects were before they changed, so the registry can be seen as it was at a moment:
//! the store now, with every object changed since put back as it was before its first change
//! after that moment. Bounded like the timeline, by count.

use crate::model::object::ObjectKey;
use crate::model::store::{Entry, Store};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::SystemTime;

#[derive(Debug, Clone)]
struct Version {
    at: SystemTime,
    key: ObjectKey,
    /// The object before the change at `at`; None: it did not exist.
    before: Option<Arc<Entry>>,
}

#[derive(Debug, Clone)]
pub struct Versions {
    kept: VecDeque<Version>,
    cap: usize,
}

impl Default for Versions {
    fn default() -> Self {
        Versions::with_cap(Versions::CAP)
    }
}

impl Versions {
    /// Objects are bigger than changes: fewer are kept (about 20 MiB of real-sized entries).
    pub const CAP: usize = 20_000;

    pub fn with_cap(cap: usize) -> Versions {
        Versions {
            kept: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    /// `key` changed at `at`; this is what it was before.
    pub fn record(&mut self, at: SystemTime, key: ObjectKey, before: Option<Entry>) {
        self.record_shared(at, key, before.map(Arc::new));
    }

    /// The same, with an entry someone else holds too (a replay's writes).
    pub fn record_shared(&mut self, at: SystemTime, key: ObjectKey, before: Option<Arc<Entry>>) {
        self.kept.push_back(Version { at, key, before });
        while self.kept.len() > self.cap {
            self.kept.pop_front();
        }
    }

    /// How far back the registry can be seen: the oldest change whose before is kept, or
    /// None when everything since the start is kept.
    pub fn horizon(&self) -> Option<SystemTime> {
        (self.kept.len() == self.cap)
            .then(|| self.kept.front().map(|v| v.at))
            .flatten()
    }

    /// The registry as it was just before `at` (before the changes made then), from the
    /// registry now.
    pub fn store_before(&self, now: &Store, at: SystemTime) -> Store {
        let mut then = now.clone();
        // Newest first, so the last put back is the one from the first change at or after `at`.
        for v in self.kept.iter().rev().take_while(|v| v.at >= at) {
            match &v.before {
                Some(entry) => then.upsert(Entry::clone(entry)),
                None => {
                    then.remove(&v.key);
                }
            }
        }
        then
    }

    pub fn len(&self) -> usize {
        self.kept.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }
}
