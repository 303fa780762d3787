//! The conformance corpus: `../shared/fixtures/istiod/`, recorded from a real istiod and a
//! real Envoy. Every folder with `probe-*` files is a scenario; every probe file set is one
//! proxy's view: its namespace from the file name (or `tests/data/istiod-corpus.toml`, which
//! also gives the localities and labels the recordings' NOTES.md state), its inputs
//! (`input.yaml`, or `input-base.yaml` plus the phase's `*-PHASE.yaml`), and what istiod sent:
//! each cluster of `probe-….cds.json`, with its endpoints from the cluster's own
//! load_assignment (DNS) or from the EDS the recording holds (`istiod-eds-raw.json`, istiod's
//! own bytes, where present; else Envoy's `/config_dump`). A new scenario is a new folder.

use meshdeck::io::manifests::load::into_store;
use meshdeck::io::manifests::parse::parse_text;
use meshdeck::model::expected::SentEndpoint;
use meshdeck::model::locality::Locality;
use meshdeck::model::meta::Labels;
use meshdeck::model::object::{Kind, Object, ObjectKey};
use meshdeck::model::share::Viewpoint;
use meshdeck::model::store::Store;
use meshdeck::model::visibility::HostRule;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The release the recordings were made with (their README).
pub const ISTIOD_VERSION: &str = "1.14-maistra-2.3";

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/istiod")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedCluster {
    pub dns: bool,
    pub endpoints: BTreeSet<SentEndpoint>,
}

/// One recorded proxy in one scenario.
pub struct Probe {
    pub scenario: String,
    /// `cx-fo-ra.1-failover`: the part of the file names between `probe-` and the kind.
    pub stem: String,
    pub namespace: String,
    pub locality: Option<Locality>,
    pub labels: Labels,
    pub inputs: Vec<PathBuf>,
    pub sent: BTreeMap<String, RecordedCluster>,
    /// Envoy's `/clusters?format=json` for the scenario's clusters.
    pub envoy: BTreeMap<String, BTreeSet<EnvoyHost>>,
}

impl Probe {
    pub fn name(&self) -> String {
        format!("{}/{}", self.scenario, self.stem)
    }

    /// The viewpoint as istiod saw this probe; the recordings are Istio 1.14.
    pub fn viewpoint(&self) -> Viewpoint {
        Viewpoint {
            locality: self.locality.clone(),
            labels: self.labels.clone(),
            namespace: Some(self.namespace.clone()),
            rule: HostRule::for_version(Some(ISTIOD_VERSION)),
            ..Default::default()
        }
    }

    /// The registry the scenario applied, with the WorkloadEntry statuses its input's
    /// `kubectl patch … --subresource=status` comments set.
    pub fn store(&self) -> Store {
        let mut files = Vec::new();
        let mut patches = Vec::new();
        for p in &self.inputs {
            let text = std::fs::read_to_string(p).unwrap();
            patches.extend(status_patches(&text));
            let parsed = parse_text(p, &text);
            assert!(
                parsed.errors.is_empty(),
                "{}: {:?}",
                p.display(),
                parsed.errors
            );
            files.push(parsed);
        }
        let mut store = into_store(files);
        for (ns, name, status) in patches {
            let key = ObjectKey::new(Kind::WorkloadEntry, &ns, &name);
            let mut entry = store
                .get(&key)
                .unwrap_or_else(|| panic!("{}: status for unknown {ns}/{name}", self.name()))
                .clone();
            if let Object::WorkloadEntry(we) = &mut entry.object {
                we.status = Some(serde_json::from_value(status).unwrap());
            }
            store.upsert(entry);
        }
        store
    }
}

/// `# kubectl -n NS patch workloadentry NAME --subresource=status --type=merge -p '{…}'`.
fn status_patches(text: &str) -> Vec<(String, String, Value)> {
    let re = regex::Regex::new(
        r"(?m)^#\s*kubectl -n (\S+) patch workloadentry (\S+)\s+--subresource=status --type=merge -p '(.*)'\s*$",
    )
    .unwrap();
    re.captures_iter(text)
        .map(|c| {
            let patch: Value = serde_json::from_str(&c[3]).unwrap();
            (c[1].to_string(), c[2].to_string(), patch["status"].clone())
        })
        .collect()
}

#[derive(serde::Deserialize, Default)]
struct Overrides {
    #[serde(default)]
    probe: BTreeMap<String, ProbeOverride>,
}

#[derive(serde::Deserialize, Default, Clone)]
struct ProbeOverride {
    namespace: Option<String>,
    locality: Option<String>,
    #[serde(default)]
    labels: Labels,
}

/// A field in snake_case (Envoy's config_dump) or camelCase (protojson, istiod's raw EDS).
fn field<'a>(v: &'a Value, snake: &str) -> Option<&'a Value> {
    v.get(snake).or_else(|| {
        let camel: String = snake
            .split('_')
            .enumerate()
            .map(|(i, p)| {
                if i == 0 {
                    p.to_string()
                } else {
                    p[..1].to_uppercase() + &p[1..]
                }
            })
            .collect();
        v.get(camel)
    })
}

fn locality_text(v: Option<&Value>) -> String {
    let Some(v) = v else { return String::new() };
    let part = |k: &str| {
        field(v, k)
            .and_then(|s| s.as_str())
            .unwrap_or("")
            .to_string()
    };
    Locality {
        region: part("region"),
        zone: part("zone"),
        subzone: part("sub_zone"),
    }
    .to_string()
}

fn u32_of(v: Option<&Value>, default: u32) -> u32 {
    match v {
        Some(Value::Number(n)) => n.as_u64().map_or(default, |n| n as u32),
        Some(Value::Object(o)) => o
            .get("value")
            .and_then(|n| n.as_u64())
            .map_or(default, |n| n as u32),
        _ => default,
    }
}

/// The endpoints of a ClusterLoadAssignment, as the corpus compares them.
pub fn assignment_endpoints(cla: &Value) -> BTreeSet<SentEndpoint> {
    let mut out = BTreeSet::new();
    for group in field(cla, "endpoints")
        .and_then(|e| e.as_array())
        .into_iter()
        .flatten()
    {
        let locality = locality_text(field(group, "locality"));
        let priority = u32_of(field(group, "priority"), 0);
        let locality_weight = u32_of(field(group, "load_balancing_weight"), 0);
        for lb in field(group, "lb_endpoints")
            .and_then(|e| e.as_array())
            .into_iter()
            .flatten()
        {
            let sock = field(lb, "endpoint")
                .and_then(|e| field(e, "address"))
                .and_then(|a| field(a, "socket_address"))
                .unwrap_or(&Value::Null);
            out.insert(SentEndpoint {
                address: field(sock, "address")
                    .and_then(|a| a.as_str())
                    .unwrap_or("")
                    .into(),
                port: u32_of(field(sock, "port_value"), 0),
                weight: u32_of(field(lb, "load_balancing_weight"), 1),
                locality: locality.clone(),
                priority,
                locality_weight,
            });
        }
    }
    out
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn sent(dir: &Path, stem: &str) -> BTreeMap<String, RecordedCluster> {
    let cds = read_json(&dir.join(format!("probe-{stem}.cds.json")));
    let eds_file = read_json(&dir.join(format!("probe-{stem}.eds.json")));
    let mut eds: BTreeMap<String, Value> = BTreeMap::new();
    for e in eds_file.as_array().into_iter().flatten() {
        let cla = e.get("endpoint_config").unwrap_or(e);
        if let Some(name) = field(cla, "cluster_name").and_then(|n| n.as_str()) {
            eds.insert(name.to_string(), cla.clone());
        }
    }
    // istiod's own bytes, where the recording has them, are the truth for EDS.
    let raw = dir.join("istiod-eds-raw.json");
    if raw.exists() {
        for cla in read_json(&raw)["resources"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if let Some(name) = field(cla, "cluster_name").and_then(|n| n.as_str()) {
                eds.insert(name.to_string(), cla.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    for c in cds.as_array().into_iter().flatten() {
        let c = c.get("cluster").unwrap_or(c);
        let name = c["name"].as_str().unwrap().to_string();
        let dns = c.get("load_assignment").is_some() && c["type"] != "EDS";
        let endpoints = match (dns, eds.get(&name)) {
            (true, _) => assignment_endpoints(&c["load_assignment"]),
            (false, Some(cla)) => assignment_endpoints(cla),
            (false, None) => BTreeSet::new(),
        };
        out.insert(name, RecordedCluster { dns, endpoints });
    }
    out
}

fn envoy(dir: &Path, stem: &str) -> BTreeMap<String, BTreeSet<EnvoyHost>> {
    envoy_hosts(&read_json(&dir.join(format!("probe-{stem}.clusters.json"))))
}

/// A host as Envoy's `/clusters?format=json` shows it: address, port, weight, locality,
/// priority, EDS health.
pub type EnvoyHost = (String, u32, u32, String, u32, String);

/// The `outbound|…` clusters of an Envoy's `/clusters?format=json` (a list, or the admin
/// API's `{cluster_statuses: […]}`).
pub fn envoy_hosts(v: &Value) -> BTreeMap<String, BTreeSet<EnvoyHost>> {
    let list = v.get("cluster_statuses").unwrap_or(v);
    let v = list;
    let mut out = BTreeMap::new();
    for c in v.as_array().into_iter().flatten() {
        let name = c["name"].as_str().unwrap_or("").to_string();
        if !name.starts_with("outbound|") {
            continue;
        }
        let hosts = c["host_statuses"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|h| {
                // The recordings were filtered to the address itself; the admin API nests it.
                let a = &h["address"];
                let sock = a.get("socket_address").unwrap_or(a);
                (
                    sock["address"].as_str().unwrap_or("").to_string(),
                    u32_of(sock.get("port_value"), 0),
                    u32_of(h.get("weight"), 1),
                    locality_text(h.get("locality")),
                    u32_of(h.get("priority"), 0),
                    h["health_status"]["eds_health_status"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                )
            })
            .collect();
        out.insert(name, hosts);
    }
    out
}

pub fn probes() -> Vec<Probe> {
    let root = root();
    assert!(
        root.is_dir(),
        "{} is missing: the conformance corpus is recorded there",
        root.display()
    );
    let overrides: Overrides = toml::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/istiod-corpus.toml"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let scenario = dir.file_name().unwrap().to_string_lossy().to_string();
        let mut stems: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| {
                let n = e.ok()?.file_name().to_string_lossy().to_string();
                Some(
                    n.strip_prefix("probe-")?
                        .strip_suffix(".cds.json")?
                        .to_string(),
                )
            })
            .collect();
        stems.sort();
        for stem in stems {
            let (who, phase) = match stem.split_once('.') {
                Some((w, p)) => (w.to_string(), Some(p.to_string())),
                None => (stem.clone(), None),
            };
            let o = overrides.probe.get(&who).cloned().unwrap_or_default();
            let inputs = match &phase {
                None => vec![dir.join("input.yaml")],
                Some(phase) => {
                    let mut v = vec![dir.join("input-base.yaml")];
                    let mut extra: Vec<PathBuf> = std::fs::read_dir(&dir)
                        .unwrap()
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| {
                            let n = p.file_name().unwrap().to_string_lossy();
                            n.ends_with(&format!("-{phase}.yaml")) && !n.starts_with("input")
                        })
                        .collect();
                    assert_eq!(extra.len(), 1, "{scenario}: one input for phase {phase}");
                    v.append(&mut extra);
                    v
                }
            };
            out.push(Probe {
                scenario: scenario.clone(),
                namespace: o.namespace.unwrap_or_else(|| who.clone()),
                locality: o.locality.as_deref().map(Locality::parse),
                labels: o.labels,
                inputs,
                sent: sent(&dir, &stem),
                envoy: envoy(&dir, &stem),
                stem,
            });
        }
    }
    out
}
