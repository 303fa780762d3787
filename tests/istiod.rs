//! istiod found through the cluster, as far as this machine can have one: the fake API server
//! lists an istiod pod, serves `istio-ca-root-cert` and the TokenRequest API, and port-forwards
//! the pod's 15012 to meshdeck's own control plane serving TLS with a certificate for
//! `istiod.istio-system.svc` that insists on the bearer token — and a sidecar's admin port
//! (a real Envoy) is reached the same way.

mod common;
use common::mesh::*;
use common::wait::until;
use envoy_types::pb::envoy::service::discovery::v3::aggregated_discovery_service_server::AggregatedDiscoveryServiceServer;
use meshdeck::cli::planes::{PlaneArgs, gather};
use meshdeck::controlplane::auth::Authenticator;
use meshdeck::controlplane::server::{Ads, Options};
use meshdeck::io::envoy::bootstrap::ApiType;
use meshdeck::io::kube::client::Target;
use meshdeck::testing::apiserver::FakeApiServer;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

const POD: &str = "istiod-5d8f9c7b4-x2x9q";

struct Pki {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
}

fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["istiod.istio-system.svc".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// The control plane's ADS over TLS with istiod's rules on 15012: `auth` decides which
/// tokens are accepted (Unauthenticated otherwise), and a node outside its token's namespace
/// is refused (PermissionDenied). The bearer tokens it saw are kept.
async fn tls_ads(
    cp: &ControlPlane,
    pki: &Pki,
    auth: Authenticator,
    seen: Arc<Mutex<Vec<String>>>,
) -> std::net::SocketAddr {
    use tonic::transport::{Identity, Server, ServerTlsConfig};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let ads = Ads::with_options(
        cp.registry.subscribe(),
        cp.status.clone(),
        Options {
            auth: Some(auth),
            ..Default::default()
        },
    );
    let record = move |req: tonic::Request<()>| {
        let got = req
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        seen.lock().unwrap().push(got);
        Ok(req)
    };
    let tls = ServerTlsConfig::new().identity(Identity::from_pem(&pki.cert_pem, &pki.key_pem));
    let server = Server::builder().tls_config(tls).unwrap().add_service(
        AggregatedDiscoveryServiceServer::with_interceptor(ads, record),
    );
    tokio::spawn(
        server.serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    addr
}

/// The fake API server's TokenReview, which a test can make refuse every token.
fn revocable(fake: &FakeApiServer) -> (Authenticator, Arc<AtomicBool>) {
    let revoked = Arc::new(AtomicBool::new(false));
    let inner = fake.istio_ca_authenticator();
    let flag = revoked.clone();
    let auth = Authenticator::new(move |t| {
        if flag.load(Ordering::SeqCst) {
            return Err("revoked".into());
        }
        inner.check(t)
    });
    (auth, revoked)
}

fn pod(ns: &str, name: &str, app: &str, phase: &str) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": app}},
        "spec": {"containers": [{"name": "discovery", "image": "istio/pilot"}]},
        "status": {"phase": phase, "podIP": "10.244.0.12"}})
}

fn istiod_args(kubeconfig: &std::path::Path) -> PlaneArgs {
    PlaneArgs {
        istiod: true,
        istiod_namespace: "istio-system".into(),
        istiod_sa: "default".into(),
        kube: Some(Target {
            kubeconfig: Some(kubeconfig.to_path_buf()),
            context: None,
        }),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn istiod_is_found_through_the_cluster_with_its_ca_and_a_token() {
    let vms = vms(&[("i-1", 61)]).await;
    let text = service_yaml("istiod.demo.internal", "i", &[(&vms[0], 3, "r1/z1")]);
    let cp = ControlPlane::start(store_of(&text)).await;
    let proxy = Proxy::start("vm-east", "r1/z1", cp.addr, ApiType::StateOfTheWorld).await;
    cp.wait_synced("vm-east").await;
    let pki = pki();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let fake = FakeApiServer::start().await.unwrap();
    let (auth, revoked) = revocable(&fake);
    let tls = tls_ads(&cp, &pki, auth, seen.clone()).await;

    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    fake.write_kubeconfig(&kubeconfig, "admin", None).unwrap();
    let args = istiod_args(&kubeconfig);

    // Nothing there yet: each missing piece is named.
    let err = gather(&args, BTreeSet::new(), true).await.err().unwrap();
    assert!(
        err.contains("no running istiod pod (label app=istiod) in namespace istio-system"),
        "{err}"
    );
    fake.upsert(pod("istio-system", "istiod-old", "istiod", "Pending"))
        .unwrap();
    fake.upsert(pod("istio-system", "prometheus-0", "prometheus", "Running"))
        .unwrap();
    fake.upsert(pod("istio-system", POD, "istiod", "Running"))
        .unwrap();
    let err = gather(&args, BTreeSet::new(), true).await.err().unwrap();
    assert!(
        err.contains("configmap istio-system/istio-ca-root-cert"),
        "{err}"
    );
    fake.set_config_map(
        "istio-system",
        "istio-ca-root-cert",
        json!({"root-cert.pem": pki.ca_pem}),
    );
    let err = gather(&args, BTreeSet::new(), true).await.err().unwrap();
    assert!(
        err.contains(&format!("port-forward to istio-system/{POD}:15012")),
        "{err}"
    );
    fake.forward("istio-system", POD, 15012, tls);

    // The token the API server issues is the one istiod is shown.
    let issued = fake.tokens().len();
    let g = gather(&args, BTreeSet::new(), true)
        .await
        .expect("gathered through the cluster");
    let tokens = fake.tokens();
    assert_eq!(tokens.len(), issued + 1);
    assert_eq!(tokens[issued].1, json!(["istio-ca"]), "audience istio-ca");
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .any(|b| *b == format!("Bearer {}", tokens[issued].0))
    );
    let east = g
        .syncs
        .iter()
        .find(|p| p.short_id() == "vm-east")
        .unwrap_or_else(|| panic!("{:#?}", g.syncs));
    assert_eq!(
        east.control_plane, POD,
        "each istiod replica is its own server"
    );
    assert_eq!(east.status_of("EDS"), "SYNCED");
    assert_eq!(g.control.len(), 1);
    assert_eq!(g.control[0].server, POD);

    // The console node follows the token's account wherever it lives: istiod's rule.
    let other_sa = PlaneArgs {
        istiod_sa: "cx-auth/probe".into(),
        ..istiod_args(&kubeconfig)
    };
    let g = gather(&other_sa, BTreeSet::new(), true)
        .await
        .expect("a token for cx-auth/probe is accepted with a node in cx-auth");
    assert_eq!(g.control.len(), 1);

    // A token istiod does not accept is an error that says so, at once, not an empty answer
    // or a retry loop.
    revoked.store(true, Ordering::SeqCst);
    let started = std::time::Instant::now();
    let err = gather(&args, BTreeSet::new(), true).await.err().unwrap();
    assert!(
        err.contains(POD)
            && err.contains("istiod did not accept the token for istio-system/default"),
        "{err}"
    );
    assert!(
        started.elapsed() < meshdeck::cli::planes::WAIT,
        "a refusal is final, not waited out"
    );
    revoked.store(false, Ordering::SeqCst);

    // A sidecar's admin port, through the API server too.
    fake.upsert(pod("demo", "vm-east", "i", "Running")).unwrap();
    fake.forward(
        "demo",
        "vm-east",
        15000,
        proxy.admin.trim_start_matches("http://").parse().unwrap(),
    );
    let with_admin = PlaneArgs {
        envoy_admin: vec!["pod/demo/vm-east".into()],
        ..istiod_args(&kubeconfig)
    };
    let g = gather(
        &with_admin,
        BTreeSet::from(["outbound|80||istiod.demo.internal".to_string()]),
        true,
    )
    .await
    .expect("admin through a port-forward");
    let p = &g.proxies[0];
    assert_eq!(p.name, "vm-east");
    let hosts = &p.clusters["outbound|80||istiod.demo.internal"];
    assert_eq!(hosts.values().next().unwrap().weight, 3, "{hosts:?}");

    // The binary does the same: `meshdeck proxies --istiod`.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_meshdeck"))
        .args(["proxies", "--istiod", "--kubeconfig"])
        .arg(&kubeconfig)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("vm-east"))
        .unwrap_or_else(|| panic!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert!(line.contains("SYNCED") && line.contains(POD), "{line}");
}

/// The istio-ca token is asked for again before it expires and the sessions send the new one;
/// a token the API server answers with a shorter life is renewed on that shorter schedule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_istio_ca_token_is_renewed_before_it_expires() {
    use meshdeck::io::kube::{client, istiod};
    use meshdeck::io::xds::target::BearerToken;
    let fake = FakeApiServer::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    fake.write_kubeconfig(&kubeconfig, "admin", None).unwrap();
    let c = client::connect(&client::Target {
        kubeconfig: Some(kubeconfig),
        context: None,
    })
    .await
    .unwrap();
    // Two seconds of life: the renewal comes after about 1.6 s.
    let first = istiod::token(&c.client, "istio-system", "default", 2)
        .await
        .unwrap();
    assert!(
        first.lifetime <= std::time::Duration::from_secs(2),
        "{:?}",
        first.lifetime
    );
    let token = BearerToken::new(first.value.clone());
    let task = istiod::keep_fresh(
        c.client.clone(),
        "istio-system".into(),
        "default".into(),
        2,
        token.clone(),
        first.lifetime,
    );
    let ten = std::time::Duration::from_secs(10);
    until(
        "the token is renewed",
        ten,
        async || token.get(),
        |t| *t != first.value,
    )
    .await;
    let tokens = fake.tokens();
    assert_eq!(
        token.get(),
        tokens.last().unwrap().0,
        "the newest issued token is used"
    );
    assert_eq!(tokens.last().unwrap().1, json!(["istio-ca"]));
    // A forbidden renewal keeps the token it has (and retries later) rather than dropping it.
    let token_requests = || {
        fake.requests()
            .iter()
            .filter(|r| r.starts_with("POST") && r.contains("/serviceaccounts/default/token"))
            .count()
    };
    fake.forbid("admin", "serviceaccounts/token");
    let held = token.get();
    let asked = token_requests();
    // The next renewal is refused: wait until it has been asked for, then look.
    until(
        "a renewal is asked for",
        ten,
        async || token_requests(),
        |n| *n > asked,
    )
    .await;
    assert_eq!(
        fake.tokens().len(),
        tokens.len(),
        "the refused one issued nothing"
    );
    assert_eq!(token.get(), held);
    task.abort();
}

/// `--xds HOST:15012 --xds-ca … --xds-token-file …`: the console node is in the namespace the
/// token's claims name; a token whose account cannot be read needs `--xds-namespace`, and a
/// wrong one is refused by the server and said so, in terms of the rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_file_sets_the_node_namespace_and_a_refusal_says_why() {
    use meshdeck::io::xds::identity::{ServiceAccount, unsigned_token};
    let vms = vms(&[("t-1", 62)]).await;
    let text = service_yaml("token.demo.internal", "t", &[(&vms[0], 1, "r1/z1")]);
    let cp = ControlPlane::start(store_of(&text)).await;
    let pki = pki();
    let probe = ServiceAccount {
        namespace: "cx-auth".into(),
        name: "probe".into(),
    };
    let jwt = unsigned_token(&probe, &["istio-ca".into()], 1);
    let (jwt_ok, account) = (jwt.clone(), probe.clone());
    // An opaque token stands for the same account, as a TokenReview would say.
    let auth = Authenticator::new(move |t| match t {
        "opaque-probe-token" => Ok(account.clone()),
        t if t == jwt_ok => Ok(account.clone()),
        _ => Err("unknown token".into()),
    });
    let addr = tls_ads(&cp, &pki, auth, Arc::new(Mutex::new(Vec::new()))).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("root-cert.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let jwt_file = dir.path().join("jwt");
    std::fs::write(&jwt_file, format!("{jwt}\n")).unwrap();
    let opaque = dir.path().join("opaque");
    std::fs::write(&opaque, "opaque-probe-token").unwrap();
    let proxies = |token: &std::path::Path, extra: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_meshdeck"));
        c.args(["proxies", "--xds", &addr.to_string(), "--xds-server-name"])
            .arg("istiod.istio-system.svc")
            .arg("--xds-ca")
            .arg(&ca)
            .arg("--xds-token-file")
            .arg(token)
            .args(extra);
        let out = c.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (code, out) = proxies(&jwt_file, &[]);
    assert_eq!(code, Some(0), "the JWT's namespace is the node's: {out}");
    let (code, out) = proxies(&opaque, &[]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("cannot tell which service account"), "{out}");
    let (code, out) = proxies(&opaque, &["--xds-namespace", "cx-auth"]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = proxies(&opaque, &["--xds-namespace", "cx-other"]);
    assert_ne!(code, Some(0), "{out}");
    assert!(
        out.contains("istiod refused this identity: the token is for cx-auth/probe, the console node claims namespace cx-other"),
        "{out}"
    );
    let (code, out) = proxies(&jwt_file, &["--xds-namespace", "cx-other"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("contradicts --xds-token-file"), "{out}");
    cp.stop().await;
}
