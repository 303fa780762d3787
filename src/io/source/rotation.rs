//! Drain and restore in a manifest file, written the way the other edits are: only the bytes of
//! the fields involved change. In a file nobody probes, health checks on without a Healthy
//! condition already keep an entry out of EDS (istiod and the embedded control plane agree), so
//! drain adds the annotation and, where the file declares `Healthy=True`, turns that one scalar
//! to `False`. The record goes in `meshdeck.io/drained`, as in a cluster.

use crate::io::manifests::scalar_edit::{NewValue, remove_at, set_at};
use crate::io::manifests::yaml_tree::PathSeg;
use crate::model::drain::{DRAINED_ANNOTATION, DrainRecord, HEALTHY};
use crate::model::health::HEALTH_CHECKS_ANNOTATION;
use crate::model::object::WorkloadEntry;

fn annotation(name: &str) -> Vec<PathSeg> {
    vec![
        PathSeg::Key("metadata".into()),
        PathSeg::Key("annotations".into()),
        PathSeg::Key(name.into()),
    ]
}

/// The index of the Healthy condition and its status, as the file has them.
fn healthy(we: &WorkloadEntry) -> Option<(usize, &str)> {
    let conditions = &we.status.as_ref()?.conditions;
    conditions
        .iter()
        .position(|c| c.type_ == HEALTHY)
        .map(|i| (i, conditions[i].status.as_str()))
}

fn condition_status(i: usize) -> Vec<PathSeg> {
    vec![
        PathSeg::Key("status".into()),
        PathSeg::Key("conditions".into()),
        PathSeg::Index(i),
        PathSeg::Key("status".into()),
    ]
}

fn str(s: &str) -> NewValue {
    NewValue::Str(s.to_string())
}

/// `text` with document `doc` (holding `we`) drained as `record` says.
pub fn drain_text(
    text: &str,
    doc: usize,
    we: &WorkloadEntry,
    record: &DrainRecord,
) -> Result<String, String> {
    if let Some(r) = DrainRecord::of(we) {
        let by = r.map(|r| r.by).unwrap_or_else(|_| "someone".into());
        return Err(format!("it is already drained (by {by})"));
    }
    let mut out = text.to_string();
    let hc = we.metadata.annotations.get(HEALTH_CHECKS_ANNOTATION);
    if hc.map(String::as_str) != Some("true") {
        out = set_at(
            &out,
            doc,
            &annotation(HEALTH_CHECKS_ANNOTATION),
            hc.map(String::as_str),
            &str("true"),
        )
        .map_err(|e| e.to_string())?;
    }
    out = set_at(
        &out,
        doc,
        &annotation(DRAINED_ANNOTATION),
        None,
        &str(&record.to_json()),
    )
    .map_err(|e| e.to_string())?;
    if let Some((i, status)) = healthy(we)
        && status != "False"
    {
        out = set_at(&out, doc, &condition_status(i), Some(status), &str("False"))
            .map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// `text` with document `doc` put back as the record on `we` says it was before the drain.
pub fn restore_text(text: &str, doc: usize, we: &WorkloadEntry) -> Result<String, String> {
    let record = match DrainRecord::of(we) {
        Some(Ok(r)) => r,
        Some(Err(e)) => return Err(e),
        None => {
            return Err(format!(
                "it is not drained: no {DRAINED_ANNOTATION} annotation"
            ));
        }
    };
    let mut out =
        remove_at(text, doc, &annotation(DRAINED_ANNOTATION)).map_err(|e| e.to_string())?;
    let hc = we.metadata.annotations.get(HEALTH_CHECKS_ANNOTATION);
    // Only what drain changed, and only if it is still as drain left it.
    if record.annotation_changed() && hc.map(String::as_str) == Some("true") {
        let path = annotation(HEALTH_CHECKS_ANNOTATION);
        out = match &record.annotation_before {
            None => remove_at(&out, doc, &path),
            Some(v) => set_at(&out, doc, &path, Some("true"), &str(v)),
        }
        .map_err(|e| e.to_string())?;
    }
    if let (Some(before), Some((i, "False"))) = (&record.condition_before, healthy(we))
        && before.status != "False"
    {
        out = set_at(
            &out,
            doc,
            &condition_status(i),
            Some("False"),
            &str(&before.status),
        )
        .map_err(|e| e.to_string())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::manifests::parse::parse_text;
    use crate::model::health::{Health, of_workload_entry};
    use crate::model::object::Object;

    fn entry(text: &str) -> WorkloadEntry {
        let p = parse_text(std::path::Path::new("t.yaml"), text);
        assert!(p.errors.is_empty(), "{:?}\n{text}", p.errors);
        match p.entries.into_iter().next().map(|e| e.object) {
            Some(Object::WorkloadEntry(we)) => we,
            other => panic!("{other:?}"),
        }
    }

    fn record(we: &WorkloadEntry) -> DrainRecord {
        DrainRecord::found_on(we, "alice", "2026-12-02T10:00:00Z")
    }

    fn round_trip(text: &str) {
        let we = entry(text);
        let before = of_workload_entry(&we);
        let drained = drain_text(text, 0, &we, &record(&we)).unwrap();
        let dwe = entry(&drained);
        assert_eq!(of_workload_entry(&dwe), Health::Unhealthy, "{drained}");
        assert_eq!(DrainRecord::of(&dwe).unwrap().unwrap().by, "alice");
        assert!(drain_text(&drained, 0, &dwe, &record(&dwe)).is_err());
        let restored = restore_text(&drained, 0, &dwe).unwrap();
        assert_eq!(restored, text, "restore puts back the very bytes");
        assert_eq!(of_workload_entry(&entry(&restored)), before);
        assert!(
            restore_text(text, 0, &we)
                .unwrap_err()
                .contains("not drained")
        );
    }

    #[test]
    fn an_entry_without_annotations_drains_and_comes_back_byte_for_byte() {
        round_trip(
            "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n  name: vm1 # first\n  namespace: shop\nspec:\n  address: 10.0.0.1\n",
        );
    }

    #[test]
    fn an_annotation_someone_else_wrote_stays() {
        round_trip(
            "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n  name: vm1\n  namespace: shop\n  annotations:\n    owner: team-a\nspec:\n  address: 10.0.0.1\n",
        );
    }

    #[test]
    fn a_declared_healthy_condition_is_turned_and_turned_back() {
        round_trip(
            "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n  name: vm1\n  namespace: shop\n  annotations: {proxy.istio.io/health-checks-enabled: \"true\"}\nspec:\n  address: 10.0.0.1\nstatus:\n  conditions:\n  - type: Healthy\n    status: \"True\"\n",
        );
    }
}
