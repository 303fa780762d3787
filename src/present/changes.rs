//! A change as cells: the Timeline's rows, `meshdeck changes`' table and what the filter
//! matches, all the same text.

use crate::model::timeline::{Change, ChangeKind, Origin, Seen};

pub const HEADER: [&str; 6] = ["TIME (UTC)", "KIND", "OBJECT", "FIELD", "CHANGE", "WHO"];

/// `2026-12-03T10:04:31Z`; a time read from managedFields is its manager's latest write, so
/// the field was set then or before: `≤` says so.
pub fn time(c: &Change, with_date: bool) -> String {
    let full = humantime::format_rfc3339_seconds(c.at).to_string();
    let shown = if with_date {
        full.trim_end_matches('Z').replace('T', " ")
    } else {
        full.get(11..19).unwrap_or(&full).to_string()
    };
    if c.origin == Origin::ManagedFields {
        format!("≤{shown}")
    } else {
        shown
    }
}

pub fn kind(k: ChangeKind) -> &'static str {
    match k {
        ChangeKind::Registry => "registry",
        ChangeKind::Health => "health",
        ChangeKind::Connection => "connect",
        ChangeKind::ControlPlane => "xds",
        ChangeKind::Edit => "edit",
    }
}

/// `3 → 5`; an old value nobody saw reads `? → 5`, an absent one `— → 5`; a creation or a
/// message has one side only.
pub fn values(c: &Change) -> String {
    match (&c.old, &c.new) {
        (Seen::Absent, Seen::Value(v)) if c.field == "created" => v.clone(),
        (Seen::Value(v), Seen::Absent) if c.field == "deleted" => v.clone(),
        (Seen::Unknown, Seen::Value(v)) if c.origin == Origin::Event => v.clone(),
        (Seen::Unknown, Seen::Unknown) => "(values not recorded)".into(),
        (old, new) => format!("{} → {}", old.text(), new.text()),
    }
}

/// A field path in the fewest words that still name it, for a narrow screen:
/// `metadata.annotations.istio.io/connectedAt` → `connectedAt`,
/// `status.conditions[Healthy].status` → `Healthy`, `spec.weight` → `weight`,
/// `envoy outbound|80||host` → `envoy` (the host is in OBJECT).
pub fn short_field(field: &str) -> &str {
    if let Some(rest) = field.strip_prefix("status.conditions[") {
        return rest.split(']').next().unwrap_or(rest);
    }
    if let Some(rest) = field.strip_prefix("metadata.annotations.") {
        return rest.rsplit('/').next().unwrap_or(rest);
    }
    if field.starts_with("envoy ") {
        return "envoy";
    }
    for prefix in ["metadata.annotations.", "metadata.", "spec."] {
        if let Some(rest) = field.strip_prefix(prefix) {
            return rest;
        }
    }
    field
}

/// The cells of a row; `wide` gives the date and whole field paths.
pub fn cells(c: &Change, wide: bool) -> [String; 6] {
    [
        time(c, wide),
        kind(c.kind).to_string(),
        c.subject(),
        if wide {
            c.field.clone()
        } else {
            // A list of fields (history) is shortened field by field.
            c.field
                .split(", ")
                .map(short_field)
                .collect::<Vec<_>>()
                .join(", ")
        },
        values(c),
        c.who_text().to_string(),
    ]
}

/// What the Timeline's filter searches: every cell, and the kind's full name.
pub fn search_text(c: &Change) -> String {
    let mut s = cells(c, true).join(" ");
    s.push(' ');
    s.push_str(c.kind.as_str());
    s
}
