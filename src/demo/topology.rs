//! The demo mesh, modelled on how teams bring VMs in: a legacy "details" VM behind a
//! ServiceEntry with targetPort, a "ratings" WorkloadGroup with an HTTP probe and several
//! auto-registered VMs, a "test" service with v1/v2 weighted 20/80 in two regions with
//! failover and outlier detection, and an external DNS service for contrast. Every address is
//! a loopback address.

use std::fmt::Write as _;
use std::net::IpAddr;

pub struct Vm {
    pub name: &'static str,
    pub ip: [u8; 4],
}

pub const DETAILS: Vm = Vm {
    name: "details-vm",
    ip: [127, 0, 0, 11],
};
pub const RATINGS: [Vm; 3] = [
    Vm {
        name: "ratings-127-0-0-21",
        ip: [127, 0, 0, 21],
    },
    Vm {
        name: "ratings-127-0-0-22",
        ip: [127, 0, 0, 22],
    },
    Vm {
        name: "ratings-127-0-0-23",
        ip: [127, 0, 0, 23],
    },
];
pub const TEST_V1: Vm = Vm {
    name: "test-v1",
    ip: [127, 0, 0, 31],
};
pub const TEST_V2: Vm = Vm {
    name: "test-v2",
    ip: [127, 0, 0, 32],
};
pub const EXTERNAL: Vm = Vm {
    name: "geo-api",
    ip: [127, 0, 0, 41],
};

pub fn all() -> Vec<&'static Vm> {
    let mut v = vec![&DETAILS];
    v.extend(RATINGS.iter());
    v.extend([&TEST_V1, &TEST_V2, &EXTERNAL]);
    v
}

pub const HOSTS: [&str; 3] = [
    "details.demo.internal",
    "ratings.demo.internal",
    "test.demo.internal",
];

/// Proxies: one in the failover source region (keeps traffic local), one elsewhere (sees the
/// 20/80 split of the test service).
pub const PROXIES: [(&str, &str); 2] = [
    ("proxy-east", "us-east1/us-east1-b"),
    ("proxy-eu", "eu-west1/eu-west1-a"),
];

fn ip(vm: &Vm) -> IpAddr {
    IpAddr::from(vm.ip)
}

/// The VM whose sidecar `meshdeck demo --ssh` runs, reached only through the demo's sshd.
pub const SIDECAR_VM: &Vm = &RATINGS[0];

/// How the console reaches that sidecar: its ssh destination and the admin on its loopback.
#[derive(Debug, Clone)]
pub struct SidecarAccess {
    pub ssh: String,
    pub admin: String,
}

/// The registry, as manifest files (name, text), for VMs all listening on `port`; `sidecar`
/// annotates the VM whose sidecar is reached through ssh.
pub fn manifests(port: u16, sidecar: Option<&SidecarAccess>) -> Vec<(&'static str, String)> {
    let details = format!(
        "# A legacy VM brought in by hand: ServiceEntry + WorkloadEntry, the port mapped by targetPort.
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: details
  namespace: demo
spec:
  hosts:
  - details.demo.internal
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - number: 80
    name: http
    protocol: HTTP
    targetPort: {port}
  workloadSelector:
    labels:
      app: details
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: {name}
  namespace: demo
spec:
  address: {addr}
  labels:
    app: details
  locality: us-east1/us-east1-b
  weight: 1
",
        name = DETAILS.name,
        addr = ip(&DETAILS)
    );
    let mut ratings = format!(
        "# VMs that auto-registered through a WorkloadGroup; its probe is run as an active health check.
apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata:
  name: ratings
  namespace: demo
spec:
  metadata:
    labels:
      app: ratings
  template:
    serviceAccount: ratings
    ports:
      http: {port}
  probe:
    periodSeconds: 1
    timeoutSeconds: 1
    failureThreshold: 2
    successThreshold: 1
    httpGet:
      path: /health
      port: {port}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: ratings
  namespace: demo
spec:
  hosts:
  - ratings.demo.internal
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - number: 80
    name: http
    protocol: HTTP
  workloadSelector:
    labels:
      app: ratings
"
    );
    for (i, vm) in RATINGS.iter().enumerate() {
        let zone = ["us-east1-b", "us-east1-c", "us-east1-d"][i];
        let _ = write!(
            ratings,
            "---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: {name}
  namespace: demo
  labels:
    app: ratings
  annotations:
    istio.io/autoRegistrationGroup: ratings
    istio.io/connectedAt: \"2026-11-21T06:00:00Z\"
    proxy.istio.io/health-checks-enabled: \"true\"{access}
  ownerReferences:
  - apiVersion: networking.istio.io/v1
    kind: WorkloadGroup
    name: ratings
    uid: 00000000-0000-0000-0000-0000000000a1
    controller: true
spec:
  address: {addr}
  labels:
    app: ratings
  locality: us-east1/{zone}
  serviceAccount: ratings
  ports:
    http: {port}
status:
  conditions:
  - type: Healthy
    status: \"True\"
",
            name = vm.name,
            addr = ip(vm),
            access = match sidecar.filter(|_| vm.name == SIDECAR_VM.name) {
                Some(a) => format!(
                    "\n    {}: \"{}\"\n    {}: \"{}\"",
                    crate::config::ssh::SSH_ANNOTATION,
                    a.ssh,
                    crate::config::ssh::ADMIN_ANNOTATION,
                    a.admin
                ),
                None => String::new(),
            }
        );
    }
    let test = format!(
        "# v1/v2 weighted 20/80 in two regions. proxy-east keeps its traffic in us-east1 (failover
# needs outlier detection); proxy-eu is in neither region and sees the 20/80 split.
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: test
  namespace: demo
spec:
  hosts:
  - test.demo.internal
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - number: 80
    name: http
    protocol: HTTP
  workloadSelector:
    labels:
      app: test
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: {v1}
  namespace: demo
spec:
  address: {a1}
  labels:
    app: test
    version: v1
  locality: us-east1/us-east1-b
  weight: 20
  ports:
    http: {port}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: {v2}
  namespace: demo
spec:
  address: {a2}
  labels:
    app: test
    version: v2
  locality: us-west1/us-west1-a
  weight: 80
  ports:
    http: {port}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: test
  namespace: demo
spec:
  host: test.demo.internal
  trafficPolicy:
    loadBalancer:
      simple: ROUND_ROBIN
      localityLbSetting:
        enabled: true
        failover:
        - from: us-east1
          to: us-west1
    outlierDetection:
      consecutive5xxErrors: 3
      interval: 1s
      baseEjectionTime: 15s
      maxEjectionPercent: 100
",
        v1 = TEST_V1.name,
        v2 = TEST_V2.name,
        a1 = ip(&TEST_V1),
        a2 = ip(&TEST_V2)
    );
    let external = format!(
        "# An external API for contrast: MESH_EXTERNAL, DNS resolution, endpoints inline. The
# \"DNS name\" is a loopback IP so that nothing here ever leaves this machine.
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: geo-api
  namespace: demo
spec:
  hosts:
  - geo.external.demo
  location: MESH_EXTERNAL
  resolution: DNS
  ports:
  - number: 80
    name: http
    protocol: HTTP
    targetPort: {port}
  endpoints:
  - address: {addr}
    locality: us-east1/us-east1-b
",
        addr = ip(&EXTERNAL)
    );
    vec![
        ("details.yaml", details),
        ("ratings.yaml", ratings),
        ("test.yaml", test),
        ("external.yaml", external),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::manifests::load::into_store;
    use crate::io::manifests::parse::parse_text;
    use crate::model::lint;

    #[test]
    fn the_demo_registry_is_clean_and_loopback_only() {
        let files: Vec<_> = manifests(9080, None)
            .into_iter()
            .map(|(n, t)| parse_text(std::path::Path::new(n), &t))
            .collect();
        for f in &files {
            assert!(f.errors.is_empty(), "{:?}", f.errors);
        }
        let store = into_store(files);
        let findings = lint::run(&store);
        assert!(!lint::has_errors(&findings), "{findings:#?}");
        for vm in all() {
            assert_eq!(vm.ip[0], 127);
        }
    }
}
