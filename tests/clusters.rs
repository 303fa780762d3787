//! Several clusters in one registry: objects of the same name stay apart, selection stays in
//! its own cluster, a host declared in the same namespace of two clusters gets the endpoints of
//! both, and one cluster's relist or loss never touches the other's objects.

use meshdeck::model::cluster::Cluster;
use meshdeck::model::endpoint::derive;
use meshdeck::model::object::{Kind, Object, ObjectKey};
use meshdeck::model::share::Viewpoint;
use meshdeck::model::store::{Entry, Store};
use serde_json::json;

fn payments(cluster: &Cluster, weights: &[u32]) -> Vec<Entry> {
    let mut out = vec![
        json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
        "metadata": {"name": "payments", "namespace": "shop"},
        "spec": {"hosts": ["payments.example.com"], "location": "MESH_INTERNAL",
            "resolution": "STATIC", "ports": [{"number": 8080, "name": "http"}],
            "workloadSelector": {"labels": {"app": "payments"}}}}),
    ];
    for (i, w) in weights.iter().enumerate() {
        let labels = json!({"app": "payments"});
        out.push(
            json!({"apiVersion": "networking.istio.io/v1", "kind": "WorkloadEntry",
            "metadata": {"name": format!("vm-{i}"), "namespace": "shop"},
            "spec": {"address": format!("10.{}.0.{i}", cluster.name().len()), "weight": w,
                "network": format!("net-{}", cluster.name()), "labels": labels}}),
        );
    }
    out.into_iter()
        .map(|v| {
            let mut object = Object::from_value(v, "default").unwrap();
            object.set_cluster(cluster);
            Entry {
                object,
                origin: None,
            }
        })
        .collect()
}

fn key(kind: Kind, name: &str, cluster: &Cluster) -> ObjectKey {
    ObjectKey::new(kind, "shop", name).in_cluster(cluster)
}

#[test]
fn a_host_in_the_same_namespace_of_two_clusters_gets_both_clusters_endpoints() {
    let (east, west) = (Cluster::named("east"), Cluster::named("west"));
    let mut store: Store = payments(&east, &[70, 30]).into_iter().collect();
    for e in payments(&west, &[50, 50]) {
        store.upsert(e);
    }
    assert_eq!(store.count(Kind::ServiceEntry), 2);
    assert_eq!(store.count(Kind::WorkloadEntry), 4);
    // Selection never crosses clusters: each ServiceEntry selects its own two.
    let se_east = key(Kind::ServiceEntry, "payments", &east);
    let selected: Vec<_> = store.selected_wes(&se_east).collect();
    assert_eq!(selected.len(), 2);
    assert!(selected.iter().all(|k| k.cluster == east), "{selected:?}");
    // Endpoints: both clusters', each with its cluster and network, shares over all four.
    let d = derive(&store, &se_east, &Viewpoint::default()).unwrap();
    let eps = &d.ports[0].endpoints;
    assert_eq!(eps.len(), 4, "{eps:?}");
    for ep in eps {
        let c = ep.source.cluster().name();
        assert_eq!(ep.network, format!("net-{c}"));
    }
    let west_share: f64 = eps
        .iter()
        .filter(|e| e.source.cluster() == &west)
        .map(|e| e.share)
        .sum();
    assert!((west_share - 100.0 / 200.0).abs() < 1e-9, "{west_share}");
    // Neither declaration shadows the other: each cluster picks its own.
    assert!(d.hidden.is_empty(), "{:?}", d.hidden);
}

#[test]
fn one_clusters_relist_and_loss_leave_the_other_alone() {
    let (east, west) = (Cluster::named("east"), Cluster::named("west"));
    let mut store = Store::new();
    for (c, w) in [(&east, [70, 30]), (&west, [50, 50])] {
        let entries = payments(c, &w);
        for kind in [Kind::ServiceEntry, Kind::WorkloadEntry] {
            let shard: Store = entries
                .iter()
                .filter(|e| e.object.kind() == kind)
                .cloned()
                .collect();
            store.replace_kind(kind, c, shard);
        }
    }
    assert_eq!(store.count(Kind::WorkloadEntry), 4);
    // West relists with one entry gone: east keeps both of its own.
    let shard: Store = payments(&west, &[50])
        .into_iter()
        .filter(|e| e.object.kind() == Kind::WorkloadEntry)
        .collect();
    store.replace_kind(Kind::WorkloadEntry, &west, shard);
    assert_eq!(store.count(Kind::WorkloadEntry), 3);
    assert!(
        store
            .get(&key(Kind::WorkloadEntry, "vm-1", &east))
            .is_some()
    );
    assert!(
        store
            .get(&key(Kind::WorkloadEntry, "vm-1", &west))
            .is_none()
    );
    let se_west = key(Kind::ServiceEntry, "payments", &west);
    assert_eq!(store.selected_wes(&se_west).count(), 1);
    let se_east = key(Kind::ServiceEntry, "payments", &east);
    assert_eq!(store.selected_wes(&se_east).count(), 2);
}

#[test]
fn the_same_name_in_two_clusters_is_two_objects_and_says_where_it_is() {
    let (east, west) = (Cluster::named("east"), Cluster::named("west"));
    let a = key(Kind::WorkloadEntry, "vm-0", &east);
    let b = key(Kind::WorkloadEntry, "vm-0", &west);
    assert_ne!(a, b);
    assert_eq!(a.to_string(), "we shop/vm-0 @east");
    // One cluster alone: keys are shown as they always were.
    assert_eq!(
        ObjectKey::new(Kind::WorkloadEntry, "shop", "vm-0").to_string(),
        "we shop/vm-0"
    );
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(json["cluster"], "east");
    let json = serde_json::to_value(ObjectKey::new(Kind::WorkloadEntry, "shop", "x")).unwrap();
    assert!(json.get("cluster").is_none(), "{json}");
}

#[test]
fn a_shift_on_a_merged_host_moves_its_own_clusters_weights_and_names_the_cluster() {
    use meshdeck::model::shift::{Plan, gate::Gates, parse_endpoint, plan::Request};
    let (east, west) = (Cluster::named("east"), Cluster::named("west"));
    let mut store: Store = payments(&east, &[90, 10]).into_iter().collect();
    for e in payments(&west, &[50, 50]) {
        store.upsert(e);
    }
    let service = key(Kind::ServiceEntry, "payments", &west);
    let to = [parse_endpoint("shop/vm-1@west").unwrap()];
    assert_eq!(to[0].cluster(), &west);
    let plan = Plan::new(
        &store,
        Request {
            service: &service,
            to: &to,
            steps: vec![60.0, 100.0],
            hold: std::time::Duration::from_secs(10),
            gates: Gates {
                max_errors: 0.01,
                max_p99_ms: None,
            },
            by: "alice",
            owner: "alice@jump:1",
            now: std::time::SystemTime::UNIX_EPOCH,
        },
    )
    .unwrap();
    // Only west's two entries are members; east's keep their weights.
    let names: Vec<&str> = plan.members.iter().map(|m| m.endpoint.as_str()).collect();
    assert_eq!(names, ["shop/vm-0@west", "shop/vm-1@west"]);
    // The plan, read back from its annotation, still knows its cluster.
    let again = Plan::from_json(&plan.to_json()).unwrap();
    assert_eq!(again.service_key(), service);
    assert!(again.sources().iter().all(|s| s.cluster() == &west));
}
