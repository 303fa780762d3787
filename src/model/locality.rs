//! Locality strings (`region/zone/subzone`) as Istio reads them.

use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Locality {
    pub region: String,
    pub zone: String,
    pub subzone: String,
}

pub const LOCALITY_LABEL: &str = "topology.istio.io/locality";

impl Locality {
    /// Istio splits on `/` and keeps the first three segments; anything after is ignored.
    pub fn parse(s: &str) -> Locality {
        let mut it = s.split('/');
        let mut next = || it.next().unwrap_or("").to_string();
        Locality {
            region: next(),
            zone: next(),
            subzone: next(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.region.is_empty() && self.zone.is_empty() && self.subzone.is_empty()
    }

    /// Matches a DR pattern like `us-east/*`, `us-east/zone1/*` or `*`.
    pub fn matches_pattern(&self, pattern: &str) -> bool {
        let parts: Vec<&str> = pattern.split('/').collect();
        let mine = [&self.region, &self.zone, &self.subzone];
        for (i, p) in parts.iter().enumerate() {
            if *p == "*" {
                return true;
            }
            match mine.get(i) {
                Some(m) if m.as_str() == *p => {}
                _ => return false,
            }
        }
        true
    }
}

impl fmt::Display for Locality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return Ok(());
        }
        write!(f, "{}", self.region)?;
        if !self.zone.is_empty() || !self.subzone.is_empty() {
            write!(f, "/{}", self.zone)?;
        }
        if !self.subzone.is_empty() {
            write!(f, "/{}", self.subzone)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_segments_are_dropped() {
        let l = Locality::parse("us/us-east-1/az-1/r11");
        assert_eq!(l.region, "us");
        assert_eq!(l.zone, "us-east-1");
        assert_eq!(l.subzone, "az-1");
        assert_eq!(l.to_string(), "us/us-east-1/az-1");
    }

    #[test]
    fn short_forms_parse() {
        assert_eq!(Locality::parse("eu").to_string(), "eu");
        assert_eq!(Locality::parse("eu/z1").zone, "z1");
        assert!(Locality::parse("").is_empty());
    }

    #[test]
    fn patterns_match_with_wildcards() {
        let l = Locality::parse("us-east/z1/s1");
        assert!(l.matches_pattern("*"));
        assert!(l.matches_pattern("us-east/*"));
        assert!(l.matches_pattern("us-east/z1/*"));
        assert!(l.matches_pattern("us-east/z1/s1"));
        assert!(l.matches_pattern("us-east"));
        assert!(!l.matches_pattern("us-west/*"));
        assert!(!l.matches_pattern("us-east/z2/*"));
    }
}
