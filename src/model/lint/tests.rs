use super::*;
use crate::io::manifests::parse::parse_text;
use crate::model::store::Store;
use std::path::Path;

fn store_of(text: &str) -> Store {
    let parsed = parse_text(Path::new("lint-all.yaml"), text);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let mut s = Store::new();
    for e in parsed.entries {
        s.upsert(e);
    }
    s
}

fn codes_for(findings: &[Finding], name: &str) -> Vec<&'static str> {
    let mut v: Vec<_> = findings
        .iter()
        .filter(|f| f.name == name)
        .map(|f| f.code.as_str())
        .collect();
    v.sort();
    v
}

#[test]
fn every_rule_fires_where_expected() {
    let store = store_of(include_str!("../../../tests/data/lint-all.yaml"));
    let f = run(&store);
    assert_eq!(codes_for(&f, "api-1"), vec!["MD002", "MD006"]);
    assert_eq!(codes_for(&f, "orphan"), vec!["MD005"]);
    assert_eq!(codes_for(&f, "empty"), vec!["MD004", "MD012"]);
    assert_eq!(codes_for(&f, "grp"), vec!["MD008", "MD008", "MD009"]);
    assert_eq!(codes_for(&f, "stray"), vec!["MD011"]);
    assert_eq!(codes_for(&f, "dup"), vec!["MD013", "MD013"]);
    assert_eq!(codes_for(&f, "hidden"), vec!["MD014"]);
    assert_eq!(codes_for(&f, "far"), vec!["MD005", "MD015"]);
    // api: bad inline address, duplicate 10.0.0.1, failover from a zone and to no region.
    let api: Vec<_> = f
        .iter()
        .filter(|x| x.name == "api")
        .map(|x| x.code.as_str())
        .collect();
    for code in ["MD001", "MD007", "MD010"] {
        assert!(api.contains(&code), "{code} missing in {api:?}");
    }
    assert!(has_errors(&f));
}

#[test]
fn all_zero_weights_are_flagged_only_when_every_endpoint_is_zero() {
    let base = "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: s, namespace: ns}\nspec:\n  hosts: [s.ns]\n  resolution: STATIC\n  ports: [{number: 80, name: http}]\n  endpoints:\n  - {address: 10.0.0.1, weight: 0}\n  - {address: 10.0.0.2, weight: W}\n";
    let f = run(&store_of(&base.replace('W', "0")));
    assert!(f.iter().any(|x| x.code == Code::AllWeightsZero));
    let f = run(&store_of(&base.replace('W', "5")));
    assert!(!f.iter().any(|x| x.code == Code::AllWeightsZero));
}

#[test]
fn findings_carry_file_and_line() {
    let store = store_of(include_str!("../../../tests/data/lint-all.yaml"));
    let f = run(&store);
    let orphan = f.iter().find(|x| x.name == "orphan").unwrap();
    assert_eq!(orphan.file.as_deref(), Some("lint-all.yaml"));
    assert_eq!(orphan.line, Some(33));
    assert!(orphan.message.contains("no ServiceEntry"));
}

#[test]
fn a_clean_registry_has_no_errors() {
    let mut s = Store::new();
    for (name, text) in crate::demo::example::FILES {
        for e in parse_text(Path::new(name), text).entries {
            s.upsert(e);
        }
    }
    let f = run(&s);
    assert!(!has_errors(&f), "{f:#?}");
}

#[test]
fn failover_naming_a_zone_says_which_region() {
    let text = include_str!("../../../tests/data/lint-all.yaml")
        .replace("from: us-east-1, to: mars", "from: us-east-1, to: us");
    let f = run(&store_of(&text));
    let m: Vec<_> = f
        .iter()
        .filter(|x| x.code == Code::BadFailoverRegion)
        .collect();
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0].severity, Severity::Error);
    assert!(
        m[0].message.contains("is a zone (of region \"us\")"),
        "{}",
        m[0].message
    );
}

#[test]
fn a_duplicated_host_says_who_gets_which() {
    let f = run(&store_of(include_str!("../../../tests/data/lint-all.yaml")));
    let dup: Vec<_> = f
        .iter()
        .filter(|x| x.code == Code::HostInSeveralNamespaces)
        .collect();
    let older = dup.iter().find(|x| x.namespace == "lint-a").unwrap();
    assert!(
        older.message.contains("also declared by lint-b/dup"),
        "{}",
        older.message
    );
    assert!(
        older.message.contains("this one is the oldest visible"),
        "{}",
        older.message
    );
    let newer = dup.iter().find(|x| x.namespace == "lint-b").unwrap();
    assert!(
        newer
            .message
            .contains("current Istio sends it only to proxies in lint-b"),
        "{}",
        newer.message
    );
}

#[test]
fn a_network_with_a_gateway_is_not_flagged() {
    let store = store_of(include_str!("../../../tests/data/lint-all.yaml"));
    let mesh = crate::model::visibility::Mesh::from_yaml(
        "networks:\n  net-b:\n    endpoints: [{fromRegistry: b}]\n    gateways: [{address: 192.0.2.9, port: 15443}]\n",
    )
    .unwrap();
    let f = super::run_with(&store, &mesh);
    assert!(!f.iter().any(|x| x.code == Code::NetworkWithoutGateway));
    let none =
        crate::model::visibility::Mesh::from_yaml("meshNetworks:\n  networks: {}\n").unwrap();
    let f = super::run_with(&store, &none);
    let far = f
        .iter()
        .find(|x| x.code == Code::NetworkWithoutGateway)
        .unwrap();
    assert!(
        far.message.contains("meshNetworks has no gateway for it"),
        "{}",
        far.message
    );
}
