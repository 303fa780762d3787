//! Which cluster an object was read from. A console on files or on one cluster leaves it
//! empty, so its keys, output and recordings are what they were before several clusters
//! could be watched; with `--context a --context b` every object carries its context's name.

use serde::{Serialize, Serializer};
use std::fmt;
use std::sync::Arc;

/// Shared, not copied: ten thousand objects of one cluster hold one string.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cluster(Option<Arc<str>>);

impl Cluster {
    /// The cluster of a console that watches one (or files): no name shown anywhere.
    pub const ONLY: Cluster = Cluster(None);

    pub fn named(name: &str) -> Cluster {
        if name.is_empty() {
            Cluster::ONLY
        } else {
            Cluster(Some(Arc::from(name)))
        }
    }

    pub fn is_only(&self) -> bool {
        self.0.is_none()
    }

    /// The context's name; "" for the only cluster.
    pub fn name(&self) -> &str {
        self.0.as_deref().unwrap_or("")
    }
}

impl fmt::Display for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Cluster {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_name_is_the_only_cluster() {
        assert!(Cluster::named("").is_only());
        assert!(!Cluster::named("east").is_only());
        assert_eq!(Cluster::named("east").name(), "east");
        assert_eq!(Cluster::named("east"), Cluster::named("east"));
        // The only cluster sorts first, so a single cluster's order is unchanged.
        assert!(Cluster::ONLY < Cluster::named("a"));
    }
}
