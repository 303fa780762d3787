//! A YAML document as a tree of nodes with byte spans, for finding the exact bytes of one
//! scalar (to rewrite it and nothing else) and the line of a field (for error messages).

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, StructureStyle};

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Scalar {
        value: String,
        style: ScalarStyle,
        start: usize,
        end: usize,
        line: usize,
    },
    Map {
        flow: bool,
        start: usize,
        line: usize,
        entries: Vec<(Node, Node)>,
    },
    Seq {
        start: usize,
        line: usize,
        items: Vec<Node>,
    },
    Alias {
        start: usize,
        line: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    Key(String),
    Index(usize),
}

/// `spec.endpoints[0].weight` → [Key(spec), Key(endpoints), Index(0), Key(weight)].
pub fn parse_path(path: &str) -> Vec<PathSeg> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            if i > 0 {
                out.push(PathSeg::Key(rest[..i].to_string()));
            }
            rest = &rest[i..];
            while let Some(stripped) = rest.strip_prefix('[') {
                let close = stripped.find(']').unwrap_or(stripped.len());
                match stripped[..close].parse() {
                    Ok(n) => out.push(PathSeg::Index(n)),
                    Err(_) => out.push(PathSeg::Key(stripped[..close].to_string())),
                }
                rest = stripped.get(close + 1..).unwrap_or("");
            }
        } else if !rest.is_empty() {
            out.push(PathSeg::Key(rest.to_string()));
        }
    }
    out
}

impl Node {
    pub fn start(&self) -> usize {
        match self {
            Node::Scalar { start, .. }
            | Node::Map { start, .. }
            | Node::Seq { start, .. }
            | Node::Alias { start, .. } => *start,
        }
    }

    pub fn line(&self) -> usize {
        match self {
            Node::Scalar { line, .. }
            | Node::Map { line, .. }
            | Node::Seq { line, .. }
            | Node::Alias { line, .. } => *line,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map { entries, .. } => entries
                .iter()
                .find(|(k, _)| matches!(k, Node::Scalar { value, .. } if value == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The key node of `key` in this map (its line is where the field is written).
    pub fn key_node(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map { entries, .. } => entries
                .iter()
                .find(|(k, _)| matches!(k, Node::Scalar { value, .. } if value == key))
                .map(|(k, _)| k),
            _ => None,
        }
    }

    pub fn at(&self, path: &[PathSeg]) -> Option<&Node> {
        let mut cur = self;
        for seg in path {
            cur = match (seg, cur) {
                (PathSeg::Key(k), n) => n.get(k)?,
                (PathSeg::Index(i), Node::Seq { items, .. }) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// Line of the deepest part of `path` that exists: the field itself, or its nearest parent.
    pub fn line_of(&self, path: &[PathSeg]) -> usize {
        let mut cur = self;
        let mut line = self.line();
        for seg in path {
            let next = match (seg, cur) {
                (PathSeg::Key(k), n) => {
                    if let Some(kn) = n.key_node(k) {
                        line = kn.line();
                    }
                    n.get(k)
                }
                (PathSeg::Index(i), Node::Seq { items, .. }) => items.get(*i),
                _ => None,
            };
            match next {
                Some(n) => {
                    if matches!(seg, PathSeg::Index(_)) {
                        line = n.line();
                    }
                    cur = n
                }
                None => break,
            }
        }
        line
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("line {line}: {message}")]
pub struct TreeError {
    pub line: usize,
    pub message: String,
}

/// Parses the first document of `text`. Offsets are bytes into `text`; lines are 1-based.
pub fn parse(text: &str) -> Result<Option<Node>, TreeError> {
    let char_to_byte: Vec<usize> = text
        .char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(text.len()))
        .collect();
    let byte = |m: &serde_saphyr::granit_parser::Marker| {
        m.byte_offset()
            .unwrap_or_else(|| char_to_byte.get(m.index()).copied().unwrap_or(text.len()))
    };
    let mut stack: Vec<Node> = Vec::new();
    // For maps: whether the next scalar is a key (pending key stored separately).
    let mut pending_keys: Vec<Option<Node>> = Vec::new();
    let mut root: Option<Node> = None;
    for ev in Parser::new_from_str(text) {
        let (ev, span) = ev.map_err(|e| TreeError {
            line: e.marker().line(),
            message: e.info().to_string(),
        })?;
        let start = byte(&span.start);
        let line = span.start.line();
        let node = match ev {
            Event::DocumentEnd if root.is_some() => break,
            Event::Scalar(value, style, _, _) => Some(Node::Scalar {
                value: value.to_string(),
                style,
                start,
                end: byte(&span.end),
                line,
            }),
            Event::Alias(_) => Some(Node::Alias { start, line }),
            Event::MappingStart(style, _, _) => {
                stack.push(Node::Map {
                    flow: style == StructureStyle::Flow,
                    start,
                    line,
                    entries: Vec::new(),
                });
                pending_keys.push(None);
                None
            }
            Event::SequenceStart(_, _, _) => {
                stack.push(Node::Seq {
                    start,
                    line,
                    items: Vec::new(),
                });
                pending_keys.push(None);
                None
            }
            Event::MappingEnd | Event::SequenceEnd => {
                pending_keys.pop();
                stack.pop()
            }
            _ => None,
        };
        let Some(node) = node else { continue };
        match stack.last_mut() {
            None => root = Some(node),
            Some(Node::Seq { items, .. }) => items.push(node),
            Some(Node::Map { entries, .. }) => {
                let slot = pending_keys
                    .last_mut()
                    .expect("a key slot per open collection");
                match slot.take() {
                    None => *slot = Some(node),
                    Some(key) => entries.push((key, node)),
                }
            }
            Some(_) => {}
        }
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "# head\nspec:\n  address: 10.0.0.1 # the vm\n  weight: 20\n  locality: \"us/z1\"\n  endpoints:\n  - address: a\n    weight: 3\n  - {address: b, weight: 4}\n";

    fn scalar(n: &Node) -> (&str, usize, usize) {
        match n {
            Node::Scalar {
                value, start, end, ..
            } => (value.as_str(), *start, *end),
            other => panic!("not a scalar: {other:?}"),
        }
    }

    #[test]
    fn scalar_spans_cover_exactly_the_value() {
        let root = parse(DOC).unwrap().unwrap();
        let (v, s, e) = scalar(root.at(&parse_path("spec.weight")).unwrap());
        assert_eq!((v, &DOC[s..e]), ("20", "20"));
        let (v, s, e) = scalar(root.at(&parse_path("spec.address")).unwrap());
        assert_eq!((v, &DOC[s..e]), ("10.0.0.1", "10.0.0.1"));
        let (v, s, e) = scalar(root.at(&parse_path("spec.locality")).unwrap());
        assert_eq!(v, "us/z1");
        assert_eq!(&DOC[s..e], "\"us/z1\"");
        let (_, s, e) = scalar(root.at(&parse_path("spec.endpoints[1].weight")).unwrap());
        assert_eq!(&DOC[s..e], "4");
        let (_, s, e) = scalar(root.at(&parse_path("spec.endpoints[0].weight")).unwrap());
        assert_eq!(&DOC[s..e], "3");
    }

    #[test]
    fn lines_point_at_the_field() {
        let root = parse(DOC).unwrap().unwrap();
        assert_eq!(root.line_of(&parse_path("spec.weight")), 4);
        assert_eq!(root.line_of(&parse_path("spec.endpoints[1].address")), 9);
        assert_eq!(root.line_of(&parse_path("spec.nothing")), 2);
    }

    #[test]
    fn syntax_errors_carry_a_line() {
        let err = parse("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(err.line >= 2, "{err:?}");
    }

    #[test]
    fn paths_parse() {
        assert_eq!(
            parse_path("spec.endpoints[2].weight"),
            vec![
                PathSeg::Key("spec".into()),
                PathSeg::Key("endpoints".into()),
                PathSeg::Index(2),
                PathSeg::Key("weight".into())
            ]
        );
    }
}
