//! A small registry of VM-backed services, embedded in the binary. When meshdeck has no
//! manifests and no cluster it writes these to a fresh temporary directory and opens that, so
//! editing, undo and file watching work exactly as on real files.

use std::path::PathBuf;

pub const FILES: [(&str, &str); 3] = [
    (
        "payments.yaml",
        include_str!("../../examples/registry/payments.yaml"),
    ),
    (
        "ratings.yaml",
        include_str!("../../examples/registry/ratings.yaml"),
    ),
    (
        "legacy.yaml",
        include_str!("../../examples/registry/legacy.yaml"),
    ),
];

/// Writes the example registry to a new temporary directory and returns it.
pub fn materialize() -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("meshdeck-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    for (name, text) in FILES {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(dir)
}
