//! A set of resources per type, each with a content version, so that pushes send only what
//! changed and SotW versions change only when the content does.

use envoy_types::pb::google::protobuf::Any;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

#[derive(Debug, Clone, PartialEq)]
pub struct Versioned {
    pub version: String,
    pub any: Any,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resources {
    pub by_type: BTreeMap<String, BTreeMap<String, Versioned>>,
}

pub fn hash_bytes(bytes: &[u8]) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    format!("{:016x}", h.finish())
}

impl Resources {
    pub fn insert(&mut self, type_url: &str, name: String, any: Any) {
        let version = hash_bytes(&any.value);
        self.by_type
            .entry(type_url.to_string())
            .or_default()
            .insert(name, Versioned { version, any });
    }

    pub fn of(&self, type_url: &str) -> Option<&BTreeMap<String, Versioned>> {
        self.by_type.get(type_url)
    }

    /// The SotW version of a set of resources: changes exactly when one of them does.
    pub fn set_version<'a>(items: impl Iterator<Item = (&'a String, &'a Versioned)>) -> String {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for (name, v) in items {
            name.hash(&mut h);
            v.version.hash(&mut h);
        }
        format!("{:016x}", h.finish())
    }
}
