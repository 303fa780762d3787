//! Snapshots of every screen at 80x24 and 160x48.

mod common;
use common::*;
use meshdeck::state::State;
use std::path::PathBuf;

fn both(name: &str, state: &State) {
    insta::assert_snapshot!(format!("{name}_80x24"), screen(state, 80, 24));
    insta::assert_snapshot!(format!("{name}_160x48"), screen(state, 160, 48));
}

#[test]
fn services() {
    both("services", &example_state());
}

#[test]
fn workload_entries() {
    let mut s = example_state();
    typed(&mut s, "2");
    both("workload_entries", &s);
}

#[test]
fn workload_groups() {
    let mut s = example_state();
    typed(&mut s, "3");
    both("workload_groups", &s);
}

#[test]
fn destination_rules() {
    let mut s = example_state();
    typed(&mut s, ":dr\n");
    both("destination_rules", &s);
}

#[test]
fn endpoints_with_viewpoint() {
    let mut s = example_state();
    typed(&mut s, "jj\n:view us-east1/us-east1-b\n");
    both("endpoints", &s);
}

#[test]
fn problems() {
    let mut s = state_on(&[PathBuf::from("tests/data/lint-all.yaml")], false);
    typed(&mut s, "5");
    both("problems", &s);
}

#[test]
fn yaml_detail() {
    let mut s = example_state();
    typed(&mut s, "2y");
    both("yaml", &s);
}

#[test]
fn help() {
    let mut s = example_state();
    typed(&mut s, "?");
    both("help", &s);
}

#[test]
fn edit_form_with_preview() {
    let mut s = example_state();
    typed(&mut s, "2e\x08\x0835");
    both("edit_single", &s);
}

#[test]
fn bulk_edit_with_error() {
    let mut s = example_state();
    typed(&mut s, "2  e");
    for _ in 0..5 {
        typed(&mut s, "\x08");
    }
    typed(&mut s, "90/10/5");
    both("edit_bulk_error", &s);
}

#[test]
fn filter_and_readonly() {
    let mut s = state_on(&[PathBuf::from("examples/registry")], true);
    typed(&mut s, "2/ratings");
    both("filter_readonly", &s);
}

#[test]
fn broken_user_config_is_named_in_the_status_bar() {
    let mut s = example_state();
    s.notice = None;
    s.config_errors.push(meshdeck::config::ConfigError {
        file: "/home/me/.config/meshdeck/keymap.toml".into(),
        line: 3,
        message: "key \"q\" is bound to both quit and edit".into(),
    });
    let text = screen(&s, 160, 48);
    assert!(
        text.contains("config: /home/me/.config/meshdeck/keymap.toml:3: key \"q\""),
        "{text}"
    );
    both("config_error", &s);
}

#[test]
fn endpoints_with_observed_traffic() {
    let mut s = example_state();
    typed(&mut s, "jj\n");
    let mut t = meshdeck::state::Traffic::default();
    t.localities
        .insert("proxy-east".into(), "us-east1/us-east1-b".into());
    t.per_proxy.insert(
        "proxy-east".into(),
        [
            ("10.10.1.11".to_string(), 14.0),
            ("10.10.1.12".to_string(), 4.0),
            ("10.20.1.13".to_string(), 2.0),
        ]
        .into(),
    );
    s.traffic = Some(t);
    let text = screen(&s, 160, 48);
    assert!(
        text.contains("OBSERVED") && text.contains("14.0/s  70%"),
        "{text}"
    );
    both("endpoints_observed", &s);
}
