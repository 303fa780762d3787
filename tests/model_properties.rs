//! Property tests: the incremental indexes agree with a brute-force scan after any sequence of
//! inserts, updates and deletes; the shares of a port always sum to 1.

use meshdeck::model::destination_rule::{Failover, LocalityLbSetting};
use meshdeck::model::locality::Locality;
use meshdeck::model::object::{Kind, Object, ObjectKey};
use meshdeck::model::selector;
use meshdeck::model::share::{Policy, ShareInput, Viewpoint, compute};
use meshdeck::model::store::{Entry, Store, we_labels};
use proptest::prelude::*;
use serde_json::json;
use std::collections::BTreeSet;

#[derive(Debug, Clone)]
enum Op {
    UpsertWe { name: u8, app: u8, ns: u8 },
    UpsertSe { name: u8, app: Option<u8>, ns: u8 },
    Delete { kind_se: bool, name: u8, ns: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..12u8, 0..3u8, 0..2u8).prop_map(|(name, app, ns)| Op::UpsertWe { name, app, ns }),
        (0..4u8, proptest::option::of(0..3u8), 0..2u8).prop_map(|(name, app, ns)| Op::UpsertSe {
            name,
            app,
            ns
        }),
        (any::<bool>(), 0..12u8, 0..2u8).prop_map(|(kind_se, name, ns)| Op::Delete {
            kind_se,
            name,
            ns
        }),
    ]
}

fn entry(v: serde_json::Value) -> Entry {
    Entry {
        object: Object::from_value(v, "default").unwrap(),
        origin: None,
    }
}

fn apply(store: &mut Store, op: &Op) {
    match op {
        Op::UpsertWe { name, app, ns } => store.upsert(entry(json!({
            "apiVersion": "networking.istio.io/v1", "kind": "WorkloadEntry",
            "metadata": {"name": format!("we{name}"), "namespace": format!("ns{ns}")},
            "spec": {"address": "10.0.0.1", "labels": {"app": format!("a{app}"), "tier": "x"}}}))),
        Op::UpsertSe { name, app, ns } => {
            let sel = match app {
                Some(a) => json!({"labels": {"app": format!("a{a}")}}),
                None => json!({"labels": {}}),
            };
            store.upsert(entry(json!({
                "apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
                "metadata": {"name": format!("se{name}"), "namespace": format!("ns{ns}")},
                "spec": {"hosts": ["h"], "workloadSelector": sel}})))
        }
        Op::Delete { kind_se, name, ns } => {
            let (kind, prefix) = if *kind_se {
                (Kind::ServiceEntry, "se")
            } else {
                (Kind::WorkloadEntry, "we")
            };
            store.remove(&ObjectKey::new(
                kind,
                format!("ns{ns}"),
                format!("{prefix}{name}"),
            ));
        }
    }
}

fn brute_force(store: &Store, se: &ObjectKey) -> BTreeSet<ObjectKey> {
    let Some(Object::ServiceEntry(s)) = store.get(se).map(|e| &e.object) else {
        return BTreeSet::new();
    };
    let Some(sel) = &s.spec.workload_selector else {
        return BTreeSet::new();
    };
    store
        .entries(Kind::WorkloadEntry)
        .filter_map(|e| match &e.object {
            Object::WorkloadEntry(w)
                if w.metadata.namespace == s.metadata.namespace
                    && selector::matches(&sel.labels, &we_labels(w)) =>
            {
                Some(e.object.key())
            }
            _ => None,
        })
        .collect()
}

fn check_indexes(store: &Store) -> Result<(), TestCaseError> {
    let ses: Vec<ObjectKey> = store.keys(Kind::ServiceEntry).cloned().collect();
    for se in &ses {
        let indexed: BTreeSet<ObjectKey> = store.selected_wes(se).cloned().collect();
        prop_assert_eq!(&indexed, &brute_force(store, se));
    }
    let wes: Vec<ObjectKey> = store.keys(Kind::WorkloadEntry).cloned().collect();
    for we in &wes {
        let reverse: BTreeSet<ObjectKey> = store.selecting_ses(we).cloned().collect();
        let expected: BTreeSet<ObjectKey> = ses
            .iter()
            .filter(|se| brute_force(store, se).contains(we))
            .cloned()
            .collect();
        prop_assert_eq!(reverse, expected);
    }
    Ok(())
}

/// One store per kind, as the watchers build them from a list.
fn shards(store: &Store) -> Vec<(Kind, Store)> {
    [Kind::ServiceEntry, Kind::WorkloadEntry]
        .into_iter()
        .map(|kind| (kind, store.entries(kind).cloned().collect()))
        .collect()
}

proptest! {
    #[test]
    fn indexes_match_a_full_scan(ops in proptest::collection::vec(op(), 1..60)) {
        let mut store = Store::new();
        for op in &ops {
            apply(&mut store, op);
        }
        check_indexes(&store)?;
    }

    /// Lists swapped in whole (first sync or relist, in either order of kinds) leave the same
    /// objects and the same links as events applied one by one.
    #[test]
    fn synced_shards_match_events(
        before in proptest::collection::vec(op(), 0..40),
        after in proptest::collection::vec(op(), 1..60),
        wes_first in any::<bool>(),
    ) {
        let mut old = Store::new();
        for op in &before {
            apply(&mut old, op);
        }
        let mut truth = Store::new();
        for op in &after {
            apply(&mut truth, op);
        }
        let mut lists = shards(&truth);
        if wes_first {
            lists.reverse();
        }
        for (kind, shard) in lists {
            old.replace_kind(kind, &meshdeck::model::cluster::Cluster::ONLY, shard);
        }
        check_indexes(&old)?;
        for kind in [Kind::ServiceEntry, Kind::WorkloadEntry] {
            let got: Vec<_> = old.entries(kind).collect();
            let want: Vec<_> = truth.entries(kind).collect();
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn shares_of_a_port_sum_to_one(
        eps in proptest::collection::vec((0..100u32, 0..3usize, 0..2usize, any::<bool>()), 1..12),
        view_region in 0..3usize,
        failover in any::<bool>(),
    ) {
        let regions = ["r0", "r1", "r2"];
        let inputs: Vec<ShareInput> = eps.iter().map(|(w, r, z, healthy)| ShareInput {
            weight: *w,
            locality: Locality::parse(&format!("{}/z{z}", regions[*r])),
            healthy: *healthy,
            ..Default::default()
        }).collect();
        let lb = LocalityLbSetting {
            failover: vec![Failover { from: "r0".into(), to: "r1".into() }],
            ..Default::default()
        };
        let policy = Policy { locality_lb: failover.then_some(&lb), outlier_detection: true, ..Default::default() };
        let view = Viewpoint { locality: Some(Locality::parse(&format!("{}/z0", regions[view_region]))), ..Default::default() };
        let out = compute(&inputs, policy, &view);
        let sum: f64 = out.iter().map(|s| s.share).sum();
        let any_healthy = inputs.iter().any(|i| i.healthy);
        if any_healthy {
            prop_assert!((sum - 1.0).abs() < 1e-9, "sum {}", sum);
        } else {
            prop_assert_eq!(sum, 0.0);
        }
        for (i, s) in inputs.iter().zip(&out) {
            prop_assert!(s.share >= 0.0);
            if !i.healthy { prop_assert_eq!(s.share, 0.0); }
        }
    }
}
