//! Rewriting one scalar of one document in place: only that value's bytes change, so comments,
//! key order, quoting and indentation stay as the author wrote them.

use super::documents;
use super::yaml_tree::{self, Node, PathSeg};
use serde_saphyr::granit_parser::ScalarStyle;

#[derive(Debug, Clone, PartialEq)]
pub enum NewValue {
    Int(u32),
    Str(String),
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EditError {
    #[error("document {0} is no longer in the file")]
    NoDocument(usize),
    #[error("the document does not parse: {0}")]
    Syntax(String),
    #[error("{0} is missing, so {1} cannot be added")]
    NoParent(String, String),
    #[error("{0} is not a plain value (it is a list, map or alias)")]
    NotScalar(String),
    #[error("{path} is {found} in the file now, not {expected}")]
    Changed {
        path: String,
        expected: String,
        found: String,
    },
}

fn render(value: &NewValue, style: Option<ScalarStyle>) -> String {
    match (value, style) {
        (NewValue::Int(n), _) => n.to_string(),
        (NewValue::Str(s), Some(ScalarStyle::SingleQuoted)) => {
            format!("'{}'", s.replace('\'', "''"))
        }
        (NewValue::Str(s), Some(ScalarStyle::DoubleQuoted)) => json_quote(s),
        (NewValue::Str(s), _) if is_safe_plain(s) => s.clone(),
        (NewValue::Str(s), _) => json_quote(s),
    }
}

fn json_quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// A string that YAML reads back as the same string when written without quotes.
fn is_safe_plain(s: &str) -> bool {
    let special = matches!(
        s.to_ascii_lowercase().as_str(),
        "true" | "false" | "null" | "~" | "yes" | "no" | "on" | "off"
    );
    !s.is_empty()
        && !special
        && s.parse::<f64>().is_err()
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

/// Sets `path` (e.g. `spec.weight`) in document `doc` of `text` to `value`. `expected` is the
/// value the caller saw (None: the field was absent); if the file says otherwise, nothing is
/// written and the difference is reported.
pub fn set_scalar(
    text: &str,
    doc: usize,
    path: &str,
    expected: Option<&str>,
    value: &NewValue,
) -> Result<String, EditError> {
    set_at(text, doc, &yaml_tree::parse_path(path), expected, value)
}

fn show_path(segs: &[PathSeg]) -> String {
    let mut out = String::new();
    for s in segs {
        match s {
            PathSeg::Key(k) if k.contains('.') => out.push_str(&format!("[{k}]")),
            PathSeg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k)
            }
            PathSeg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

struct Doc<'t> {
    start: usize,
    text: &'t str,
    root: Node,
}

fn document(text: &str, doc: usize) -> Result<Doc<'_>, EditError> {
    let span = *documents::split(text)
        .get(doc)
        .ok_or(EditError::NoDocument(doc))?;
    let doc_text = &text[span.start..span.end];
    let root = yaml_tree::parse(doc_text)
        .map_err(|e| EditError::Syntax(e.to_string()))?
        .ok_or(EditError::NoDocument(doc))?;
    Ok(Doc {
        start: span.start,
        text: doc_text,
        root,
    })
}

fn splice(text: &str, at: usize, remove_to: usize, insert: &str) -> String {
    let mut out = String::with_capacity(text.len() + insert.len());
    out.push_str(&text[..at]);
    out.push_str(insert);
    out.push_str(&text[remove_to..]);
    out
}

/// `set_scalar` on a path given as segments, so keys may hold dots (annotation names). Maps
/// missing on the way are created, in the style of the nearest one that exists.
pub fn set_at(
    text: &str,
    doc: usize,
    segs: &[PathSeg],
    expected: Option<&str>,
    value: &NewValue,
) -> Result<String, EditError> {
    let path = show_path(segs);
    let d = document(text, doc)?;
    let Some((PathSeg::Key(field), parent_path)) = segs.split_last() else {
        return Err(EditError::NotScalar(path));
    };
    let found = d.root.at(parent_path).and_then(|p| p.get(field));
    let found_text = match found {
        None => None,
        Some(Node::Scalar { value, .. }) => Some(value.as_str()),
        Some(_) => return Err(EditError::NotScalar(path)),
    };
    if found_text != expected {
        let show = |v: Option<&str>| v.map_or("absent".to_string(), |s| format!("{s:?}"));
        return Err(EditError::Changed {
            path,
            expected: show(expected),
            found: show(found_text),
        });
    }
    let (at, remove_to, insert) = match found {
        Some(Node::Scalar {
            style, start, end, ..
        }) => (*start, *end, render(value, Some(*style))),
        _ => {
            // The deepest map on the path that exists; the keys after it are created.
            let existing = (0..=parent_path.len())
                .rev()
                .find(|n| matches!(d.root.at(&parent_path[..*n]), Some(Node::Map { .. })))
                .ok_or_else(|| EditError::NoParent(show_path(parent_path), path.clone()))?;
            let missing: Vec<&str> = segs[existing..]
                .iter()
                .map(|s| match s {
                    PathSeg::Key(k) => Ok(k.as_str()),
                    PathSeg::Index(_) => Err(EditError::NoParent(
                        show_path(&segs[..existing + 1]),
                        path.clone(),
                    )),
                })
                .collect::<Result<_, _>>()?;
            let parent = d.root.at(&parent_path[..existing]).expect("found above");
            insertion(d.text, parent, &missing, value, &path)?
        }
    };
    Ok(splice(text, d.start + at, d.start + remove_to, &insert))
}

/// Removes `segs` (a key and its plain value) from document `doc`; a map left empty goes with
/// it. Absent already: the text comes back unchanged.
pub fn remove_at(text: &str, doc: usize, segs: &[PathSeg]) -> Result<String, EditError> {
    let path = show_path(segs);
    let d = document(text, doc)?;
    let Some((PathSeg::Key(field), parent_path)) = segs.split_last() else {
        return Err(EditError::NotScalar(path));
    };
    let Some(Node::Map { entries, flow, .. }) = d.root.at(parent_path) else {
        return Ok(text.to_string());
    };
    let Some(i) = entries
        .iter()
        .position(|(k, _)| matches!(k, Node::Scalar { value, .. } if value == field))
    else {
        return Ok(text.to_string());
    };
    let Some(end) = node_end(&entries[i].1) else {
        return Err(EditError::NotScalar(path));
    };
    // A map left empty goes with its key, when it is a key's value.
    if entries.len() == 1 && matches!(parent_path.last(), Some(PathSeg::Key(_))) {
        return remove_at(text, doc, parent_path);
    }
    Ok(remove_entry(text, &d, entries, i, end, *flow))
}

fn remove_entry(
    text: &str,
    d: &Doc<'_>,
    entries: &[(Node, Node)],
    i: usize,
    end: usize,
    flow: bool,
) -> String {
    let key_start = entries[i].0.start();
    let (from, to) = if flow {
        match (entries.get(i + 1), i.checked_sub(1)) {
            (Some((next, _)), _) => (key_start, next.start()),
            (None, Some(prev)) => (node_end(&entries[prev].1).unwrap_or(key_start), end),
            (None, None) => (key_start, end),
        }
    } else {
        let line_start = d.text[..key_start].rfind('\n').map_or(0, |n| n + 1);
        let line_end = d.text[end..]
            .find('\n')
            .map_or(d.text.len(), |n| end + n + 1);
        (line_start, line_end)
    };
    splice(text, d.start + from, d.start + to, "")
}

/// Where a node's text ends: its last scalar's end. None for what has none (an alias, `{}`).
fn node_end(n: &Node) -> Option<usize> {
    match n {
        Node::Scalar { end, .. } => Some(*end),
        Node::Map { entries, .. } => entries.last().and_then(|(_, v)| node_end(v)),
        Node::Seq { items, .. } => items.last().and_then(node_end),
        Node::Alias { .. } => None,
    }
}

/// Where and what to insert for keys the map does not have yet (`keys[0]` in `parent`, the rest
/// nested under it): just before the map's first key, in the map's own style, so indentation
/// comes out right in block and flow maps.
fn insertion(
    doc_text: &str,
    parent: &Node,
    keys: &[&str],
    value: &NewValue,
    path: &str,
) -> Result<(usize, usize, String), EditError> {
    let Node::Map {
        flow,
        entries,
        start,
        ..
    } = parent
    else {
        return Err(EditError::NoParent(String::new(), path.into()));
    };
    let rendered = render(value, None);
    let key = |k: &str| render(&NewValue::Str(k.to_string()), None);
    let flow_chain = || {
        let mut out = format!("{}: {rendered}", key(keys[keys.len() - 1]));
        for k in keys[..keys.len() - 1].iter().rev() {
            out = format!("{}: {{{out}}}", key(k));
        }
        out
    };
    match (entries.first(), flow) {
        (Some((first, _)), false) => {
            let at = first.start();
            let line_start = doc_text[..at].rfind('\n').map_or(0, |i| i + 1);
            let col = doc_text[line_start..at].chars().count();
            let mut out = String::new();
            for (depth, k) in keys.iter().enumerate() {
                if depth > 0 {
                    out.push_str(&" ".repeat(col + 2 * depth));
                }
                if depth + 1 == keys.len() {
                    out.push_str(&format!("{}: {rendered}\n", key(k)));
                } else {
                    out.push_str(&format!("{}:\n", key(k)));
                }
            }
            out.push_str(&" ".repeat(col));
            Ok((at, at, out))
        }
        (Some((first, _)), true) => {
            let at = first.start();
            Ok((at, at, format!("{}, ", flow_chain())))
        }
        (None, true) => Ok((start + 1, start + 1, flow_chain())),
        (None, false) => Err(EditError::NoParent(String::new(), path.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# keep me\napiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n  name: vm1\nspec:\n  address: 10.0.0.1   # the vm\n  weight: 20 # old\n  locality: 'us/z1'\n---\nkind: WorkloadEntry\nspec:\n  address: 10.0.0.2\n  endpoints:\n  - address: a\n  - {address: b}\n";

    #[test]
    fn only_the_scalar_bytes_change() {
        let out = set_scalar(TEXT, 0, "spec.weight", Some("20"), &NewValue::Int(35)).unwrap();
        assert_eq!(out, TEXT.replace("weight: 20 # old", "weight: 35 # old"));
    }

    #[test]
    fn quoting_style_is_kept() {
        let out = set_scalar(
            TEXT,
            0,
            "spec.locality",
            Some("us/z1"),
            &NewValue::Str("eu/z2".into()),
        )
        .unwrap();
        assert_eq!(out, TEXT.replace("'us/z1'", "'eu/z2'"));
    }

    #[test]
    fn a_missing_field_is_inserted_at_the_maps_indentation() {
        let out = set_scalar(TEXT, 1, "spec.weight", None, &NewValue::Int(7)).unwrap();
        assert!(
            out.contains("spec:\n  weight: 7\n  address: 10.0.0.2\n"),
            "{out}"
        );
        let out = set_scalar(TEXT, 1, "spec.endpoints[0].weight", None, &NewValue::Int(3)).unwrap();
        assert!(out.contains("  - weight: 3\n    address: a\n"), "{out}");
        let out = set_scalar(TEXT, 1, "spec.endpoints[1].weight", None, &NewValue::Int(4)).unwrap();
        assert!(out.contains("  - {weight: 4, address: b}\n"), "{out}");
    }

    fn annotation(name: &str) -> Vec<PathSeg> {
        vec![
            PathSeg::Key("metadata".into()),
            PathSeg::Key("annotations".into()),
            PathSeg::Key(name.into()),
        ]
    }

    #[test]
    fn a_missing_map_is_created_and_goes_again_when_emptied() {
        let hc = annotation("proxy.istio.io/health-checks-enabled");
        let rec = annotation("meshdeck.io/drained");
        let out = set_at(TEXT, 0, &hc, None, &NewValue::Str("true".into())).unwrap();
        assert!(
            out.contains("metadata:\n  annotations:\n    proxy.istio.io/health-checks-enabled: \"true\"\n  name: vm1\n"),
            "{out}"
        );
        let out = set_at(
            &out,
            0,
            &rec,
            None,
            &NewValue::Str("{\"by\":\"a b\"}".into()),
        )
        .unwrap();
        assert!(
            out.contains("  annotations:\n    meshdeck.io/drained: \"{\\\"by\\\":\\\"a b\\\"}\"\n    proxy.istio.io"),
            "{out}"
        );
        let parsed = documents::split(&out).len();
        assert_eq!(parsed, 2);
        let back = remove_at(&out, 0, &rec).unwrap();
        let back = remove_at(&back, 0, &hc).unwrap();
        assert_eq!(back, TEXT);
        // Already gone: nothing changes.
        assert_eq!(remove_at(TEXT, 0, &hc).unwrap(), TEXT);
    }

    #[test]
    fn keys_go_from_flow_maps_too() {
        let text = "metadata: {name: a, annotations: {x: \"1\", y: '2'}}\n";
        let out = remove_at(text, 0, &annotation("x")).unwrap();
        assert_eq!(out, "metadata: {name: a, annotations: {y: '2'}}\n");
        let out = remove_at(text, 0, &annotation("y")).unwrap();
        assert_eq!(out, "metadata: {name: a, annotations: {x: \"1\"}}\n");
        let out = set_at(
            "metadata: {name: a}\n",
            0,
            &annotation("k.io/x"),
            None,
            &NewValue::Str("v".into()),
        )
        .unwrap();
        assert_eq!(out, "metadata: {annotations: {k.io/x: v}, name: a}\n");
    }

    #[test]
    fn a_changed_value_is_refused() {
        let err = set_scalar(TEXT, 0, "spec.weight", Some("21"), &NewValue::Int(35)).unwrap_err();
        assert!(matches!(err, EditError::Changed { .. }), "{err:?}");
        assert!(err.to_string().contains("\"20\""));
    }

    #[test]
    fn strings_that_yaml_would_misread_are_quoted() {
        let out = set_scalar(
            TEXT,
            1,
            "spec.locality",
            None,
            &NewValue::Str("true".into()),
        )
        .unwrap();
        assert!(out.contains("locality: \"true\""), "{out}");
        let out = set_scalar(
            TEXT,
            1,
            "spec.locality",
            None,
            &NewValue::Str(String::new()),
        )
        .unwrap();
        assert!(out.contains("locality: \"\""), "{out}");
    }
}
