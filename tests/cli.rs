//! The headless commands as scripts use them: exit codes, JSON shapes, and file effects.

mod common;
use common::*;
use std::process::Command;

fn meshdeck(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_meshdeck"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn check_exit_codes_and_json() {
    let (code, out, _) = meshdeck(&["check", "examples/registry"]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = meshdeck(&["check", "tests/data/lint-all.yaml", "-o", "json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let first = &v.as_array().unwrap()[0];
    for k in [
        "code",
        "severity",
        "kind",
        "namespace",
        "name",
        "field",
        "message",
        "file",
        "line",
    ] {
        assert!(first.get(k).is_some(), "missing {k} in {first}");
    }
    let orphan = v
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "orphan")
        .unwrap();
    assert_eq!(orphan["code"], "MD005");
    assert_eq!(orphan["line"], 38, "points at spec.labels");
    let (code, _, _) = meshdeck(&["check", "no/such/dir"]);
    assert_eq!(code, 2);
}

#[test]
fn check_reports_an_unparsable_document_and_loads_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let good = read(std::path::Path::new("examples/registry/payments.yaml"));
    std::fs::write(dir.path().join("a.yaml"), format!("{good}---\napiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n  name: broken\nspec:\n  weight: [\n")).unwrap();
    let (code, out, _) = meshdeck(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(out.contains("MD000") && out.contains("a.yaml:"), "{out}");
    let (_, out, _) = meshdeck(&[
        "get",
        "we",
        "-m",
        dir.path().to_str().unwrap(),
        "-o",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v.as_array().unwrap().len(),
        3,
        "the good entries still load"
    );
}

#[test]
fn get_endpoints_json_shape() {
    let (code, out, _) = meshdeck(&[
        "get",
        "endpoints",
        "payments.shop.internal",
        "-m",
        "examples/registry",
        "-o",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let eps = v.as_array().unwrap();
    assert_eq!(eps.len(), 3);
    let e = &eps[0];
    assert_eq!(e["service_host"], "payments.shop.internal");
    assert_eq!(e["service_port"], 80);
    assert_eq!(e["endpoint_port"], 8080);
    assert_eq!(e["source"]["kind"], "WorkloadEntry");
    assert_eq!(e["locality"]["region"], "us-east1");
    assert_eq!(e["weight"], 70);
    let sum: f64 = eps.iter().map(|e| e["share"].as_f64().unwrap()).sum();
    assert!((sum - 1.0).abs() < 1e-9);
    let (_, yaml, _) = meshdeck(&[
        "get",
        "se",
        "payments",
        "-m",
        "examples/registry",
        "-n",
        "shop",
        "-o",
        "yaml",
    ]);
    assert!(yaml.contains("payments.shop.internal"), "{yaml}");
}

#[test]
fn set_writes_validates_and_dry_runs() {
    let (_d, root) = example_copy();
    let r = root.to_str().unwrap();
    let path = root.join("payments.yaml");
    let before = read(&path);
    let (code, out, _) = meshdeck(&[
        "set",
        "weight",
        "shop/payments-vm-1",
        "33",
        "-m",
        r,
        "--dry-run",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("-   weight: 70") && out.contains("+   weight: 33"),
        "{out}"
    );
    assert_eq!(read(&path), before);
    let (code, out, _) = meshdeck(&["set", "weight", "shop/payments-vm-1", "-3", "-m", r]);
    assert_eq!(code, 1);
    assert!(out.contains("negative"), "{out}");
    let (code, out, _) = meshdeck(&["set", "locality", "shop/payments-vm-1", "a/b/c/d", "-m", r]);
    assert_eq!(code, 1);
    assert!(out.contains("4 segments"), "{out}");
    let (code, _, _) = meshdeck(&[
        "set",
        "weight",
        "shop/payments-vm-1",
        "33",
        "-m",
        r,
        "--readonly",
    ]);
    assert_eq!(code, 1);
    assert_eq!(read(&path), before);
    let (code, out, _) = meshdeck(&["set", "weight", "shop/nope", "33", "-m", r]);
    assert_eq!(code, 1);
    assert!(out.contains("no WorkloadEntry shop/nope"), "{out}");
    let (code, _, _) = meshdeck(&[
        "set",
        "locality",
        "shop/payments-vm-1",
        "eu-west1/eu-west1-a",
        "-m",
        r,
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        read(&path),
        before.replacen(
            "locality: us-east1/us-east1-b",
            "locality: eu-west1/eu-west1-a",
            1
        )
    );
}

#[test]
fn version_names_the_revision_and_completions_and_man_come_from_the_flags() {
    let (code, out, _) = meshdeck(&["--version"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with(&format!("meshdeck {} (", env!("CARGO_PKG_VERSION"))),
        "{out}"
    );
    for shell in ["bash", "zsh", "fish"] {
        let (code, out, err) = meshdeck(&["completions", shell]);
        assert_eq!(code, 0, "{err}");
        // Every subcommand is offered.
        for sub in ["check", "get", "set", "serve", "demo", "completions", "man"] {
            assert!(out.contains(sub), "{shell} completion lacks {sub}");
        }
    }
    let (code, out, _) = meshdeck(&["man"]);
    assert_eq!(code, 0);
    assert!(out.contains(".TH meshdeck 1"), "{out}");
    assert!(out.contains("\\-\\-readonly"), "flags are in the page");
    let (code, _, err) = meshdeck(&["completions", "tcsh"]);
    assert_eq!(code, 2, "an unknown shell is a usage error: {err}");
}

#[test]
fn replay_says_why_it_cannot_open_a_recording() {
    let (code, _, err) = meshdeck(&["replay", "/no/such/recording.jsonl"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot read the recording /no/such/recording.jsonl"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec.jsonl");
    std::fs::write(
        &rec,
        r#"{"time":"2026-12-04T03:00:00Z","kind":"edit","field":"weight","old":"1","new":"2","origin":"console"}"#,
    )
    .unwrap();
    let (code, _, err) = meshdeck(&["replay", rec.to_str().unwrap(), "--at", "soon"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--at soon") && err.contains("not a time"),
        "{err}"
    );
}

#[test]
fn prometheus_wants_a_url_outside_the_demo() {
    let (code, _, err) = meshdeck(&["--prometheus", "-m", "examples/registry"]);
    assert_eq!(code, 2);
    assert!(err.contains("--prometheus needs a URL"), "{err}");
    let (code, _, err) = meshdeck(&["--prometheus", "127.0.0.1:9", "-m", "examples/registry"]);
    assert_eq!(code, 2);
    assert!(err.contains("write http://HOST:PORT"), "{err}");
}
