//! Splitting a multi-document YAML file into documents with their byte ranges and lines, so
//! that one broken document does not take the others down with it.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocSpan {
    pub start: usize,
    pub end: usize,
    /// 1-based line of the document's first line.
    pub line: usize,
}

fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker).is_some_and(|rest| {
        rest.is_empty() || rest.starts_with([' ', '\t', '\r']) || rest.starts_with('#')
    })
}

pub fn split(text: &str) -> Vec<DocSpan> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut start_line = 1;
    let mut offset = 0;
    for (line_no, line) in (1..).zip(text.split_inclusive('\n')) {
        let bare = line.trim_end_matches(['\n', '\r']);
        if is_marker(bare, "---") || is_marker(bare, "...") {
            docs.push(DocSpan {
                start,
                end: offset,
                line: start_line,
            });
            start = offset + line.len();
            start_line = line_no + 1;
        }
        offset += line.len();
    }
    docs.push(DocSpan {
        start,
        end: text.len(),
        line: start_line,
    });
    docs.retain(|d| has_content(&text[d.start..d.end]));
    docs
}

fn has_content(doc: &str) -> bool {
    doc.lines().any(|l| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#') && !t.starts_with('%')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_markers_and_skips_empty_docs() {
        let text = "# c\n---\na: 1\n---\n# only a comment\n---\nb: 2\n...\n";
        let docs = split(text);
        assert_eq!(docs.len(), 2);
        assert_eq!(&text[docs[0].start..docs[0].end], "a: 1\n");
        assert_eq!(docs[0].line, 3);
        assert_eq!(&text[docs[1].start..docs[1].end], "b: 2\n");
        assert_eq!(docs[1].line, 7);
    }

    #[test]
    fn a_file_without_markers_is_one_doc() {
        let docs = split("a: 1\nb: ---\n");
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].line, 1);
    }
}
