use super::*;
use crate::io::manifests::load::into_store;
use crate::io::manifests::parse::parse_text;

fn store(text: &str) -> Store {
    let p = parse_text(std::path::Path::new("t.yaml"), text);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    into_store(vec![p])
}

fn se(ns: &str, name: &str, host: &str, created: &str, export: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {{name: {name}, namespace: {ns}, creationTimestamp: \"{created}\"}}\nspec:\n  hosts: [{host}]\n  exportTo: {export}\n  ports: [{{number: 80, name: http}}]\n---\n"
    )
}

fn proxy<'a>(ns: &'a str, rule: HostRule, mesh: &'a Mesh, labels: &'a Labels) -> Proxy<'a> {
    Proxy {
        namespace: ns,
        labels,
        rule,
        mesh,
    }
}

fn get<'a>(s: &'a Store, ns: &str, name: &str) -> &'a ServiceEntry {
    match s
        .get(&ObjectKey::new(Kind::ServiceEntry, ns, name))
        .map(|e| &e.object)
    {
        Some(Object::ServiceEntry(se)) => se,
        _ => panic!("no se {ns}/{name}"),
    }
}

/// The recorded 06-exportto: `["."]` only in its own namespace, `["cx-other"]` only there.
#[test]
fn export_to_follows_the_recording() {
    let s = store(
        &(se(
            "cx-exp",
            "exp-dot",
            "exp-dot.cx.test",
            "2026-01-01T00:00:00Z",
            "[\".\"]",
        ) + &se(
            "cx-exp",
            "exp-other",
            "exp-other.cx.test",
            "2026-01-01T00:00:00Z",
            "[cx-other]",
        )),
    );
    let mesh = Mesh::default();
    let dot = get(&s, "cx-exp", "exp-dot");
    let other = get(&s, "cx-exp", "exp-other");
    assert!(exported_to(dot, "cx-exp", &mesh));
    assert!(!exported_to(dot, "cx-other", &mesh));
    assert!(!exported_to(other, "cx-exp", &mesh));
    assert!(exported_to(other, "cx-other", &mesh));
    let l = Labels::new();
    let h = hidden(
        &s,
        other,
        "exp-other.cx.test",
        &proxy("cx-exp-out", HostRule::default(), &mesh, &l),
    )
    .unwrap();
    assert_eq!(h.code(), "not-exported");
    assert!(
        h.reason("exp-other.cx.test", "cx-exp-out")
            .contains("exported to [cx-other], not to cx-exp-out")
    );
}

#[test]
fn the_mesh_default_applies_without_export_to() {
    let s = store(&se("a", "x", "x.test", "2026-01-01T00:00:00Z", "[]"));
    let x = get(&s, "a", "x");
    let mesh = Mesh {
        default_service_export_to: vec![".".into()],
        ..Mesh::default()
    };
    assert!(exported_to(x, "a", &mesh));
    assert!(!exported_to(x, "b", &mesh));
    assert!(exported_to(x, "b", &Mesh::default()));
}

/// Two namespaces declare one host: Istio 1.14 gives everyone the oldest, current Istio a
/// proxy's own namespace first.
#[test]
fn a_host_in_two_namespaces_has_one_winner_per_rule() {
    let s = store(
        &(se(
            "ns1",
            "svc1",
            "svc1.internal.com",
            "2026-01-01T00:00:00Z",
            "[]",
        ) + &se(
            "seed1",
            "svc1",
            "svc1.internal.com",
            "2026-06-01T00:00:00Z",
            "[]",
        )),
    );
    let mesh = Mesh::default();
    let l = Labels::new();
    let old = get(&s, "ns1", "svc1");
    let new = get(&s, "seed1", "svc1");
    for ns in ["seed1", "ns1", "other"] {
        let p = proxy(ns, HostRule::OldestVisible, &mesh, &l);
        assert_eq!(
            winner(&s, "svc1.internal.com", &p)
                .unwrap()
                .metadata
                .namespace
                .as_deref(),
            Some("ns1")
        );
    }
    let p = proxy("seed1", HostRule::OwnNamespaceFirst, &mesh, &l);
    assert_eq!(
        winner(&s, "svc1.internal.com", &p)
            .unwrap()
            .metadata
            .namespace
            .as_deref(),
        Some("seed1")
    );
    let h = hidden(&s, old, "svc1.internal.com", &p).unwrap();
    assert_eq!(h.code(), "shadowed");
    let p = proxy("other", HostRule::OwnNamespaceFirst, &mesh, &l);
    let h = hidden(&s, new, "svc1.internal.com", &p).unwrap();
    let text = h.reason("svc1.internal.com", "other");
    assert!(text.contains("also declared by se ns1/svc1"), "{text}");
    assert!(
        text.contains("only proxies in seed1 get this one"),
        "{text}"
    );
    assert!(hidden(&s, old, "svc1.internal.com", &p).is_none());
}

/// The recorded 07-sidecar-egress: only the listed host gets a cluster.
#[test]
fn sidecar_egress_narrows_what_a_namespace_sees() {
    let text = se(
        "cx-sc-svc",
        "sc-a",
        "sc-a.cx.test",
        "2026-01-01T00:00:00Z",
        "[]",
    ) + &se(
        "cx-sc-svc",
        "sc-b",
        "sc-b.cx.test",
        "2026-01-01T00:00:00Z",
        "[]",
    ) + "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: cx-sc}\nspec:\n  egress:\n  - hosts: [\"cx-sc-svc/sc-a.cx.test\"]\n";
    let s = store(&text);
    let mesh = Mesh::default();
    let l = Labels::new();
    let p = proxy("cx-sc", HostRule::default(), &mesh, &l);
    assert!(hidden(&s, get(&s, "cx-sc-svc", "sc-a"), "sc-a.cx.test", &p).is_none());
    let h = hidden(&s, get(&s, "cx-sc-svc", "sc-b"), "sc-b.cx.test", &p).unwrap();
    assert_eq!(h.code(), "outside-sidecar-egress");
    let elsewhere = proxy("cx-sc-svc", HostRule::default(), &mesh, &l);
    assert!(hidden(&s, get(&s, "cx-sc-svc", "sc-b"), "sc-b.cx.test", &elsewhere).is_none());
}

#[test]
fn the_rule_follows_the_version_istiod_names() {
    assert_eq!(
        HostRule::for_version(Some("1.14-maistra-2.3")),
        HostRule::OldestVisible
    );
    assert_eq!(
        HostRule::for_version(Some("1.19.3")),
        HostRule::OldestVisible
    );
    assert_eq!(
        HostRule::for_version(Some("1.28.0")),
        HostRule::OwnNamespaceFirst
    );
    assert_eq!(HostRule::for_version(None), HostRule::OwnNamespaceFirst);
    assert_eq!(
        HostRule::for_version(Some("unknown")),
        HostRule::OwnNamespaceFirst
    );
}

#[test]
fn egress_patterns() {
    let text = "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: a}\nspec:\n  egress:\n  - hosts: [\"./*\", \"istio-system/*\", \"*/*.shared.test\", \"~/none.test\"]\n";
    let s = store(text);
    let Some(Object::Sidecar(sc)) = s
        .get(&ObjectKey::new(Kind::Sidecar, "a", "default"))
        .map(|e| &e.object)
    else {
        panic!()
    };
    assert!(egress_allows(sc, "a", "anything.test"));
    assert!(egress_allows(sc, "istio-system", "x"));
    assert!(egress_allows(sc, "b", "db.shared.test"));
    assert!(!egress_allows(sc, "b", "db.other.test"));
    assert!(!egress_allows(sc, "b", "none.test"));
}
