//! A sorted map in one vector, for the few labels, annotations and unknown fields an object
//! has: a B-tree node holds room for eleven entries and costs half a kilobyte even for one.
//! `litemap` does the work; this wrapper only makes an empty map serialize as `{}` (litemap
//! writes an empty map as a sequence, which a flattened field cannot be).

use litemap::LiteMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::ops::{Deref, DerefMut};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SmallMap<K, V>(LiteMap<K, V>);

impl<K, V> Default for SmallMap<K, V> {
    fn default() -> Self {
        SmallMap(LiteMap::new())
    }
}

impl<K, V> SmallMap<K, V> {
    pub fn new() -> Self {
        Self::default()
    }
}

impl<K, V> Deref for SmallMap<K, V> {
    type Target = LiteMap<K, V>;
    fn deref(&self) -> &LiteMap<K, V> {
        &self.0
    }
}

impl<K, V> DerefMut for SmallMap<K, V> {
    fn deref_mut(&mut self) -> &mut LiteMap<K, V> {
        &mut self.0
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for SmallMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        SmallMap(iter.into_iter().collect())
    }
}

impl<K: Ord, V> Extend<(K, V)> for SmallMap<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.0.insert(k, v);
        }
    }
}

impl<K, V> IntoIterator for SmallMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_tuple_vec().into_iter()
    }
}

impl<'a, K: 'a, V: 'a> IntoIterator for &'a SmallMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Box<dyn Iterator<Item = (&'a K, &'a V)> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.0.iter())
    }
}

impl<K: Serialize, V: Serialize> Serialize for SmallMap<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter())
    }
}

impl<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>> Deserialize<'de> for SmallMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Read by pushing, the vector has room for more than it holds; an object's maps do
        // not grow afterwards, so the room is given back.
        let mut v = LiteMap::<K, V>::deserialize(d)?.into_tuple_vec();
        v.shrink_to_fit();
        Ok(SmallMap(LiteMap::from_sorted_store_unchecked(v)))
    }
}

/// For `skip_serializing_if`.
pub fn is_empty<K, V>(m: &SmallMap<K, V>) -> bool {
    m.0.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_full_maps_are_json_objects() {
        let empty: SmallMap<String, u32> = SmallMap::new();
        assert_eq!(serde_json::to_string(&empty).unwrap(), "{}");
        let m: SmallMap<String, u32> = serde_json::from_str(r#"{"b":2,"a":1}"#).unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"a":1,"b":2}"#);
        assert_eq!(m.get("a"), Some(&1));
    }
}
