//! What a flight recording holds, one JSON line each: the changes the Timeline shows, and the
//! objects themselves as they were written (a line per object at the start, then one per
//! write or delete), so a replay can show the registry as it was at any moment of it.
//!
//! A change line is what `meshdeck changes -o json` prints (no `type`): recordings made before
//! objects were recorded still read, they only show no registry.

use super::{Change, ChangeKind, Origin, Seen};
use crate::model::object::{Kind, Object, ObjectKey};
use serde_json::{Value, json};
use std::time::SystemTime;

#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Change(Change),
    /// The object as it is from `at` on (created or written).
    Object {
        at: SystemTime,
        object: Box<Object>,
    },
    /// The object as the console found it when it started recording (or at the head of a
    /// rotated file): where a replay starts, not a write.
    Snapshot {
        at: SystemTime,
        object: Box<Object>,
    },
    Deleted {
        at: SystemTime,
        key: ObjectKey,
    },
    /// Everything recorded so far is gone (the console switched context or namespace).
    Reset {
        at: SystemTime,
    },
}

/// Milliseconds: a write and the snapshot before it are often in one second, and a replay
/// must tell them apart.
fn time_text(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

fn key_json(k: &ObjectKey) -> Value {
    json!({"kind": k.kind.as_str(), "namespace": k.namespace, "name": k.name})
}

impl Line {
    pub fn at(&self) -> SystemTime {
        match self {
            Line::Change(c) => c.at,
            Line::Object { at, .. }
            | Line::Snapshot { at, .. }
            | Line::Deleted { at, .. }
            | Line::Reset { at } => *at,
        }
    }

    pub fn to_json(&self) -> Value {
        match self {
            Line::Change(c) => {
                let mut v = c.to_json();
                v["time"] = time_text(c.at).into();
                v
            }
            Line::Object { at, object } => {
                json!({"type": "object", "time": time_text(*at), "object": object.to_value()})
            }
            Line::Snapshot { at, object } => {
                json!({"type": "snapshot", "time": time_text(*at), "object": object.to_value()})
            }
            Line::Deleted { at, key } => {
                json!({"type": "deleted", "time": time_text(*at), "key": key_json(key)})
            }
            Line::Reset { at } => json!({"type": "reset", "time": time_text(*at)}),
        }
    }

    /// Reads one line back; the error says what is wrong with it, for "line N: …".
    pub fn parse(text: &str) -> Result<Line, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let at = parse_time(&v)?;
        match v.get("type").and_then(Value::as_str) {
            None => Change::from_json(&v).map(Line::Change),
            Some(kind @ ("object" | "snapshot")) => {
                let obj = v
                    .get("object")
                    .cloned()
                    .ok_or_else(|| format!("{kind} line without object"))?;
                let object =
                    Box::new(Object::from_value(obj, "default").map_err(|e| e.to_string())?);
                Ok(if kind == "object" {
                    Line::Object { at, object }
                } else {
                    Line::Snapshot { at, object }
                })
            }
            Some("deleted") => Ok(Line::Deleted {
                at,
                key: parse_key(v.get("key")).ok_or("a deleted line without its key")?,
            }),
            Some("reset") => Ok(Line::Reset { at }),
            Some(other) => Err(format!("unknown line type {other:?}")),
        }
    }
}

fn parse_time(v: &Value) -> Result<SystemTime, String> {
    let text = v.get("time").and_then(Value::as_str).ok_or("no time")?;
    humantime::parse_rfc3339_weak(text).map_err(|e| format!("time {text:?}: {e}"))
}

fn parse_key(v: Option<&Value>) -> Option<ObjectKey> {
    let v = v?;
    let s = |f: &str| v.get(f).and_then(Value::as_str);
    Some(ObjectKey::new(
        Kind::from_kind_name(s("kind")?)?,
        s("namespace")?,
        s("name")?,
    ))
}

impl Seen {
    fn from_json(v: Option<&Value>) -> Seen {
        match v {
            Some(Value::String(s)) => Seen::Value(s.clone()),
            Some(Value::Object(m)) if m.get("absent") == Some(&Value::Bool(true)) => Seen::Absent,
            _ => Seen::Unknown,
        }
    }
}

impl Change {
    /// The inverse of `to_json`.
    pub fn from_json(v: &Value) -> Result<Change, String> {
        let s = |f: &str| v.get(f).and_then(Value::as_str);
        let kind = s("kind").ok_or("no kind")?;
        let origin = s("origin").ok_or("no origin")?;
        Ok(Change {
            at: parse_time(v)?,
            kind: ChangeKind::ALL
                .into_iter()
                .find(|k| k.as_str() == kind)
                .ok_or_else(|| format!("unknown kind {kind:?}"))?,
            object: match v.get("object") {
                None | Some(Value::Null) => None,
                some => Some(
                    parse_key(some).ok_or("an object that names no kind, namespace and name")?,
                ),
            },
            target: s("target").unwrap_or_default().to_string(),
            field: s("field").unwrap_or_default().to_string(),
            old: Seen::from_json(v.get("old")),
            new: Seen::from_json(v.get("new")),
            who: s("who").map(str::to_string),
            origin: Origin::ALL
                .into_iter()
                .find(|o| o.as_str() == origin)
                .ok_or_else(|| format!("unknown origin {origin:?}"))?,
        })
    }
}
