//! `meshdeck check`: lint manifests for scripts and CI.

use super::{EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, args::Output, load};
use crate::io::manifests::yaml_tree;
use crate::model::lint::{self, Code, Finding, Severity};
use std::io::Write;
use std::path::PathBuf;

pub fn run(
    paths: &[PathBuf],
    mesh: &crate::model::visibility::Mesh,
    output: Output,
    out: &mut dyn Write,
) -> i32 {
    let loaded = load(paths);
    if loaded.errors.iter().any(|e| e.line == 0) && loaded.store.is_empty() {
        for e in &loaded.errors {
            let _ = writeln!(out, "{e}");
        }
        return EXIT_USAGE;
    }
    let mut findings: Vec<Finding> = loaded
        .errors
        .iter()
        .map(|e| Finding {
            code: Code::Unparsable,
            severity: Severity::Error,
            kind: None,
            namespace: String::new(),
            name: String::new(),
            field: String::new(),
            message: e.message.clone(),
            file: Some(e.file.display().to_string()),
            line: Some(e.line),
        })
        .collect();
    findings.extend(lint::run_with(&loaded.store, mesh));
    refine_lines(&loaded.store, &mut findings);
    let io_failure = loaded.errors.iter().any(|e| e.line == 0);
    let _ = match output {
        Output::Json | Output::Yaml => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&findings).unwrap_or_default()
        ),
        Output::Table => print_table(&findings, out),
    };
    if io_failure {
        EXIT_USAGE
    } else if lint::has_errors(&findings) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

/// Findings point at the document; with the file at hand, point at the field's own line.
fn refine_lines(store: &crate::model::store::Store, findings: &mut [Finding]) {
    let mut cache: std::collections::HashMap<PathBuf, String> = Default::default();
    for f in findings.iter_mut() {
        let Some(key) = f.object() else { continue };
        let Some(origin) = store.get(&key).and_then(|e| e.origin.clone()) else {
            continue;
        };
        let text = cache
            .entry(origin.path.clone())
            .or_insert_with(|| std::fs::read_to_string(&origin.path).unwrap_or_default());
        let docs = crate::io::manifests::documents::split(text);
        let Some(span) = docs.get(origin.doc) else {
            continue;
        };
        if let Ok(Some(root)) = yaml_tree::parse(&text[span.start..span.end]) {
            let line = root.line_of(&yaml_tree::parse_path(&f.field));
            f.line = Some(span.line + line - 1);
        }
    }
}

fn print_table(findings: &[Finding], out: &mut dyn Write) -> std::io::Result<()> {
    for f in findings {
        let obj = f
            .kind
            .map(|k| format!("{} {}/{}", k.short(), f.namespace, f.name))
            .unwrap_or_default();
        writeln!(
            out,
            "{}: {} {} {} {}{}",
            f.location(),
            f.severity.as_str(),
            f.code.as_str(),
            obj,
            if f.field.is_empty() {
                String::new()
            } else {
                format!("{}: ", f.field)
            },
            f.message
        )?;
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    writeln!(
        out,
        "{} problem(s): {} error(s), {} warning(s)",
        findings.len(),
        errors,
        findings.len() - errors
    )
}
