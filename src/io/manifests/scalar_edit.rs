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
    let span = *documents::split(text)
        .get(doc)
        .ok_or(EditError::NoDocument(doc))?;
    let doc_text = &text[span.start..span.end];
    let root = yaml_tree::parse(doc_text)
        .map_err(|e| EditError::Syntax(e.to_string()))?
        .ok_or(EditError::NoDocument(doc))?;
    let segs = yaml_tree::parse_path(path);
    let (parent_path, last) = segs.split_at(segs.len().saturating_sub(1));
    let Some(PathSeg::Key(field)) = last.first() else {
        return Err(EditError::NotScalar(path.into()));
    };
    let parent_name = path.rsplit_once('.').map_or("", |(p, _)| p).to_string();
    let parent = root
        .at(parent_path)
        .ok_or_else(|| EditError::NoParent(parent_name.clone(), path.into()))?;
    let found = parent.get(field);
    let found_text = match found {
        None => None,
        Some(Node::Scalar { value, .. }) => Some(value.as_str()),
        Some(_) => return Err(EditError::NotScalar(path.into())),
    };
    if found_text != expected {
        let show = |v: Option<&str>| v.map_or("absent".to_string(), |s| format!("{s:?}"));
        return Err(EditError::Changed {
            path: path.into(),
            expected: show(expected),
            found: show(found_text),
        });
    }
    let (at, remove_to, insert) = match found {
        Some(Node::Scalar {
            style, start, end, ..
        }) => (*start, *end, render(value, Some(*style))),
        _ => insertion(doc_text, parent, field, value, &parent_name, path)?,
    };
    let mut out = String::with_capacity(text.len() + insert.len());
    out.push_str(&text[..span.start + at]);
    out.push_str(&insert);
    out.push_str(&text[span.start + remove_to..]);
    Ok(out)
}

/// Where and what to insert for a field the map does not have yet: just before the map's
/// first key, in the map's own style, so indentation comes out right in block and flow maps.
fn insertion(
    doc_text: &str,
    parent: &Node,
    field: &str,
    value: &NewValue,
    parent_name: &str,
    path: &str,
) -> Result<(usize, usize, String), EditError> {
    let Node::Map {
        flow,
        entries,
        start,
        ..
    } = parent
    else {
        return Err(EditError::NoParent(parent_name.into(), path.into()));
    };
    let rendered = render(value, None);
    match (entries.first(), flow) {
        (Some((key, _)), false) => {
            let at = key.start();
            let line_start = doc_text[..at].rfind('\n').map_or(0, |i| i + 1);
            let col = doc_text[line_start..at].chars().count();
            Ok((at, at, format!("{field}: {rendered}\n{}", " ".repeat(col))))
        }
        (Some((key, _)), true) => {
            let at = key.start();
            Ok((at, at, format!("{field}: {rendered}, ")))
        }
        (None, true) => Ok((start + 1, start + 1, format!("{field}: {rendered}"))),
        (None, false) => Err(EditError::NoParent(parent_name.into(), path.into())),
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
