//! The fake API server with the recorded test data, and a KubeSource writing to it as `user`.
#![allow(dead_code)]

use meshdeck::io::kube::apply::KubeSource;
use meshdeck::io::kube::client;
use meshdeck::model::object::Kind;
use meshdeck::testing::apiserver::FakeApiServer;
use std::collections::BTreeMap;

pub async fn source(user: &str) -> (FakeApiServer, KubeSource, tempfile::TempDir) {
    let fake = FakeApiServer::start().await.unwrap();
    fake.apply_yaml(include_str!("../../../shared/fixtures/kube/testdata.yaml"))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    fake.write_kubeconfig(&kc, user, None).unwrap();
    let c = client::connect(&client::Target {
        kubeconfig: Some(kc),
        context: None,
    })
    .await
    .unwrap();
    let user = meshdeck::io::kube::access::whoami(&c.client).await;
    let versions: BTreeMap<Kind, String> =
        Kind::ALL.iter().map(|k| (*k, "v1".to_string())).collect();
    let source = KubeSource {
        client: c.client,
        versions,
        readonly: false,
        label: "fake".into(),
        context: "fake".into(),
        user,
        audit_log: Some(dir.path().join("audit.jsonl")),
        dry_run: false,
    };
    (fake, source, dir)
}
