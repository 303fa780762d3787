//! Rebuilding the rows of the current screen: scope, filter, sort. Runs on a keystroke in the
//! filter, a store change or a screen switch; views only slice what is here.

use crate::model::endpoint::derive;
use crate::model::object::{Kind, Object};
use crate::state::{RowId, Screen, State};
use crate::view::rows::cells;
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

/// A compiled filter: fuzzy by default, a regex when the text starts with `/`.
pub enum Filter {
    All,
    Fuzzy(Pattern, Matcher),
    Regex(regex::Regex),
    BadRegex,
}

impl Filter {
    pub fn new(text: &str) -> Filter {
        if text.is_empty() {
            Filter::All
        } else if let Some(re) = text.strip_prefix('/') {
            regex::RegexBuilder::new(re)
                .case_insensitive(true)
                .build()
                .map_or(Filter::BadRegex, Filter::Regex)
        } else {
            Filter::Fuzzy(
                Pattern::parse(text, CaseMatching::Ignore, Normalization::Smart),
                Matcher::new(Config::DEFAULT),
            )
        }
    }

    pub fn matches(&mut self, haystack: &str) -> bool {
        match self {
            Filter::All => true,
            Filter::BadRegex => false,
            Filter::Regex(re) => re.is_match(haystack),
            Filter::Fuzzy(p, m) => {
                let mut buf = Vec::new();
                p.score(Utf32Str::new(haystack, &mut buf), m).is_some()
            }
        }
    }
}

/// What a row is found by: names, addresses, hosts, localities, labels.
pub fn search_text(obj: &Object) -> String {
    let key = obj.key();
    let mut s = format!("{}/{}", key.namespace, key.name);
    let mut push = |t: &str| {
        s.push(' ');
        s.push_str(t);
    };
    match obj {
        Object::ServiceEntry(se) => se.spec.hosts.iter().for_each(|h| push(h)),
        Object::WorkloadEntry(we) => {
            push(we.spec.address.as_deref().unwrap_or(""));
            push(we.spec.locality.as_deref().unwrap_or(""));
            we.spec
                .labels
                .iter()
                .for_each(|(k, v)| push(&format!("{k}={v}")));
        }
        Object::DestinationRule(dr) => push(&dr.spec.host),
        Object::WorkloadGroup(_) | Object::Sidecar(_) => {}
    }
    s
}

pub fn rebuild(state: &mut State) {
    let screen = state.screen().clone();
    let mut view = state.lists.remove(&screen).unwrap_or_default();
    let mut filter = Filter::new(&view.filter);
    let ns = state.namespace.clone();
    let in_ns = |n: &str| ns.as_deref().is_none_or(|want| want == n);
    match &screen {
        Screen::List(kind) => {
            let mut total = 0;
            let mut rows: Vec<RowId> = Vec::new();
            for e in state.store.entries(*kind) {
                let key = e.object.key();
                if !in_ns(&key.namespace) {
                    continue;
                }
                total += 1;
                if filter.matches(&search_text(&e.object)) {
                    rows.push(RowId::Object(key));
                }
            }
            if view.sort_column > 1 {
                let col = view.sort_column;
                let mut keyed: Vec<(String, RowId)> = rows
                    .into_iter()
                    .map(|r| {
                        let cell = match &r {
                            RowId::Object(k) => state
                                .store
                                .get(k)
                                .map(|e| cells(&state.store, &e.object))
                                .and_then(|c| c.get(col).cloned()),
                            _ => None,
                        };
                        (cell.unwrap_or_default(), r)
                    })
                    .collect();
                keyed.sort_by(|a, b| natural_cmp(&a.0, &b.0));
                rows = keyed.into_iter().map(|(_, r)| r).collect();
            } else if view.sort_column == 1 {
                rows.sort_by(|a, b| match (a, b) {
                    (RowId::Object(x), RowId::Object(y)) => x.name.cmp(&y.name),
                    _ => std::cmp::Ordering::Equal,
                });
            }
            if view.sort_reverse {
                rows.reverse();
            }
            view.total = total;
            view.rows = rows;
        }
        Screen::Problems => {
            view.total = state.findings.len();
            view.rows = state
                .findings
                .iter()
                .enumerate()
                .filter(|(_, f)| in_ns(&f.namespace) || f.namespace.is_empty())
                .filter(|(_, f)| {
                    filter.matches(&format!(
                        "{} {} {}/{} {} {}",
                        f.code.as_str(),
                        f.severity.as_str(),
                        f.namespace,
                        f.name,
                        f.field,
                        f.message
                    ))
                })
                .map(|(i, _)| RowId::Finding(i))
                .collect();
        }
        Screen::Endpoints(se) => {
            state.endpoints = derive(&state.store, se, &state.viewpoint);
            let mut rows = Vec::new();
            let mut total = 0;
            if let Some(d) = &state.endpoints {
                for (pi, p) in d.ports.iter().enumerate() {
                    for (ei, ep) in p.endpoints.iter().enumerate() {
                        total += 1;
                        let hay = format!(
                            "{} {} {} {:?}",
                            ep.address,
                            ep.locality,
                            ep.health.label(),
                            ep.source
                        );
                        if filter.matches(&hay) {
                            rows.push(RowId::Endpoint(pi, ei));
                        }
                    }
                }
            }
            view.total = total;
            view.rows = rows;
        }
        Screen::Yaml(key) => {
            let lines = state
                .store
                .get(key)
                .map(|e| yaml_of(&e.object).lines().count())
                .unwrap_or(0);
            view.total = lines;
            view.rows = (0..lines).map(RowId::Line).collect();
        }
    }
    view.marked.retain(|m| {
        view.rows.contains(m) || matches!(m, RowId::Object(k) if state.store.get(k).is_some())
    });
    view.clamp();
    state.lists.insert(screen, view);
}

pub fn yaml_of(obj: &Object) -> String {
    serde_saphyr::to_string(&obj.to_value()).unwrap_or_else(|e| format!("# cannot render: {e}"))
}

/// Orders "vm-2" before "vm-10" and numbers numerically.
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
        _ => a.cmp(b),
    }
}

pub fn kind_of(screen: &Screen) -> Option<Kind> {
    match screen {
        Screen::List(k) => Some(*k),
        _ => None,
    }
}
