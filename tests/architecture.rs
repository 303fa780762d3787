//! The house rules ARCHITECTURE.md states, checked on the source text: who may change State,
//! which layers may import which, and that keys come from the keymap.

use std::path::{Path, PathBuf};

fn rust_files(dir: &str) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::from(dir)];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                out.push((p, text));
            }
        }
    }
    out.sort();
    out
}

/// Lines of the shipped code (unit tests, which may use anything, are left out) that are `bad`.
fn offenders(files: &[(PathBuf, String)], bad: impl Fn(&str) -> bool) -> Vec<String> {
    files
        .iter()
        .filter(|(p, _)| !p.ends_with("tests.rs"))
        .flat_map(|(p, text)| {
            let shipped = text.split("#[cfg(test)]").next().unwrap_or_default();
            shipped
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim_start().starts_with("//") && bad(l))
                .map(move |(i, l)| format!("{}:{}: {}", p.display(), i + 1, l.trim()))
        })
        .collect()
}

#[test]
fn only_update_writes_state() {
    // The places that hold a `State` by value or `&mut`: the loop, the start-up, the benches.
    let mut files = rust_files("src/cli");
    for f in ["src/app.rs", "src/main.rs"] {
        files.push((f.into(), std::fs::read_to_string(f).unwrap()));
    }
    let write = regex::Regex::new(
        r"\b(state|s\.state)\.[a-z_]+(\.[a-z_]+)*\s*(=[^=>]|\+=|-=)|\b(state|s\.state)\.[a-z_]+\.(push|insert|clear|remove|retain|extend|take)\(",
    )
    .unwrap();
    let found = offenders(&files, |l| write.is_match(l));
    assert!(
        found.is_empty(),
        "State written outside update:\n{}",
        found.join("\n")
    );
}

#[test]
fn update_and_view_do_not_import_each_other_and_state_msg_and_model_stay_below_io() {
    let rules: [(&str, &str); 7] = [
        ("src/view", "crate::update"),
        ("src/update", "crate::view"),
        ("src/io", "crate::state"),
        // The vocabulary State and the messages are made of lives below io (model/, msg/).
        ("src/state", "crate::io"),
        ("src/msg", "crate::io"),
        ("src/model", "crate::io"),
        ("src/model", "crate::state"),
    ];
    for (dir, forbidden) in rules {
        let found = offenders(&rust_files(dir), |l| l.contains(forbidden));
        assert!(
            found.is_empty(),
            "{dir} imports {forbidden}:\n{}",
            found.join("\n")
        );
    }
}

#[test]
fn no_key_is_matched_by_hand_in_update() {
    // A typed character is text, not a binding; every other key comes from keymaps/*.toml.
    let found = offenders(&rust_files("src/update"), |l| {
        l.contains("KeyCode::") && !l.contains("KeyCode::Char(c)")
    });
    assert!(
        found.is_empty(),
        "keys matched outside the keymap:\n{}",
        found.join("\n")
    );
    assert!(Path::new("keymaps/default.toml").exists());
}

#[test]
fn no_struct_in_state_has_more_than_twelve_public_fields() {
    let field = regex::Regex::new(r"^\s+pub [a-z_]+:").unwrap();
    let mut too_big = Vec::new();
    for (path, text) in rust_files("src/state") {
        let mut current: Option<(String, usize)> = None;
        for line in text.lines() {
            if let Some(name) = line
                .strip_prefix("pub struct ")
                .and_then(|r| r.split([' ', '{', '<', '(']).next())
            {
                current = Some((name.to_string(), 0));
            } else if line.starts_with('}') {
                if let Some((name, n)) = current.take()
                    && n > 12
                {
                    too_big.push(format!("{}: {name} has {n}", path.display()));
                }
            } else if let Some((_, n)) = current.as_mut()
                && field.is_match(line)
            {
                *n += 1;
            }
        }
    }
    assert!(too_big.is_empty(), "{}", too_big.join("\n"));
}
