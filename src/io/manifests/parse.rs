//! Turning the text of one manifest file into registry entries and located errors.

use super::documents::{self, DocSpan};
use super::yaml_tree;
use crate::model::object::{Object, ObjectError};
use crate::model::store::{Entry, Origin};
use std::path::Path;

pub use crate::msg::files::{LoadError, ParsedFile};

/// A short content hash: the file's revision, compared before writing.
pub fn revision_of(text: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    format!("{:016x}", h.finish())
}

pub const DEFAULT_NAMESPACE: &str = "default";

pub fn parse_text(path: &Path, text: &str) -> ParsedFile {
    let mut out = ParsedFile {
        path: path.to_path_buf(),
        revision: revision_of(text),
        ..Default::default()
    };
    for (doc_index, span) in documents::split(text).into_iter().enumerate() {
        match parse_doc(path, text, span, doc_index, &out.revision) {
            Ok(Some(entry)) => out.entries.push(entry),
            Ok(None) => out.skipped += 1,
            Err(e) => out.errors.push(e),
        }
    }
    out
}

fn parse_doc(
    path: &Path,
    text: &str,
    span: DocSpan,
    doc_index: usize,
    revision: &str,
) -> Result<Option<Entry>, LoadError> {
    let doc = &text[span.start..span.end];
    let err = |line: usize, message: String| LoadError {
        file: path.to_path_buf(),
        line: span.line + line.saturating_sub(1),
        message,
    };
    let value: serde_json::Value = match serde_saphyr::from_str(doc) {
        Ok(v) => v,
        Err(e) => {
            // The span parser gives a one-line message; the serde error a located one.
            return Err(match yaml_tree::parse(doc) {
                Err(t) => err(t.line, format!("YAML syntax: {}", t.message)),
                Ok(_) => {
                    let line = e.location().map_or(1, |l| l.line() as usize);
                    let msg = e.to_string();
                    err(
                        line,
                        msg.lines().next().unwrap_or("invalid YAML").to_string(),
                    )
                }
            });
        }
    };
    if !value.is_object() {
        return Err(err(
            1,
            "a manifest document must be a mapping (apiVersion, kind, metadata, spec)".into(),
        ));
    }
    match Object::from_value(value, DEFAULT_NAMESPACE) {
        Ok(object) => Ok(Some(Entry {
            object,
            origin: Some(Origin {
                path: path.to_path_buf(),
                doc: doc_index,
                line: span.line,
                revision: revision.to_string(),
            }),
        })),
        Err(ObjectError::NotIstio { .. }) => Ok(None),
        Err(ObjectError::Field {
            path: field,
            message,
        }) => {
            let line = yaml_tree::parse(doc)
                .ok()
                .flatten()
                .map_or(1, |root| root.line_of(&yaml_tree::parse_path(&field)));
            Err(err(line, format!("{field}: {message}")))
        }
        Err(other) => Err(err(1, other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n  name: vm1\nspec:\n  address: 10.0.0.1\n  weight: 5\n";

    #[test]
    fn one_bad_document_does_not_stop_the_others() {
        let text = format!(
            "{GOOD}---\napiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n  name: vm2\nspec:\n  weight: [1\n---\n{}",
            GOOD.replace("vm1", "vm3")
        );
        let p = parse_text(Path::new("m.yaml"), &text);
        assert_eq!(p.entries.len(), 2);
        assert_eq!(p.errors.len(), 1);
        assert!(p.errors[0].line >= 14, "{:?}", p.errors[0]);
        assert_eq!(p.entries[1].origin.as_ref().unwrap().doc, 2);
    }

    #[test]
    fn a_type_error_points_at_the_field_line() {
        let text = GOOD.replace("weight: 5", "weight: -5");
        let p = parse_text(Path::new("m.yaml"), &text);
        assert_eq!(p.entries.len(), 0);
        assert_eq!(p.errors[0].line, 7, "{:?}", p.errors[0]);
        assert!(
            p.errors[0].message.starts_with("spec.weight"),
            "{:?}",
            p.errors[0]
        );
        assert_eq!(p.errors[0].to_string().split(':').next(), Some("m.yaml"));
    }

    #[test]
    fn other_kinds_are_skipped() {
        let p = parse_text(
            Path::new("m.yaml"),
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n",
        );
        assert_eq!((p.entries.len(), p.errors.len(), p.skipped), (0, 0, 1));
    }
}
