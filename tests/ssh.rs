//! VM sidecars over ssh, with a real OpenSSH server on loopback (`sshd -i` per connection, as
//! `ssh.socket` runs it) and a real Envoy whose admin is reached only through it: success, an
//! unknown host key, a refused key, a dropped connection that comes back, many streams to one
//! host over one master, and a remote log read line by line.

mod common;
use common::mesh::*;
use common::wait;
use meshdeck::demo::sshd::Sshd;
use meshdeck::io::envoy::bootstrap::ApiType;
use meshdeck::io::ssh::{Destination, Pool, Route, Settings};
use std::time::Duration;

const WITHIN: Duration = Duration::from_secs(3);

fn settings(config: std::path::PathBuf) -> Settings {
    Settings {
        config_file: Some(config),
        connect_timeout: Duration::from_secs(3),
        persist: Duration::from_secs(10),
        ..Settings::default()
    }
}

async fn sshd(dir: &tempfile::TempDir) -> Sshd {
    Sshd::start("127.0.0.1".parse().unwrap(), dir.path())
        .await
        .unwrap_or_else(|e| panic!("sshd: {e}"))
}

/// An Envoy with nothing but its admin API, on the "VM"'s loopback.
async fn sidecar() -> (ControlPlane, Proxy, String) {
    let cp = ControlPlane::start(store_of("")).await;
    let proxy = Proxy::start("vm-sidecar", "r1/z1", cp.addr, ApiType::StateOfTheWorld).await;
    let admin = proxy.admin.trim_start_matches("http://").to_string();
    (cp, proxy, admin)
}

fn route(s: &Sshd, admin: &str) -> Route {
    Route::parse(&format!("ssh://{}/{admin}", s.destination())).unwrap()
}

#[tokio::test]
async fn envoy_admin_answers_through_ssh_and_streams_share_one_master() {
    let dir = tempfile::tempdir().unwrap();
    let server = sshd(&dir).await;
    let (_cp, _proxy, admin) = sidecar().await;
    let pool = Pool::new(settings(server.client_config.clone()));
    let r = route(&server, &admin);
    let first = pool
        .get(&r, "/server_info", WITHIN)
        .await
        .expect("admin via ssh");
    assert_eq!(first.status, 200);
    assert!(String::from_utf8_lossy(&first.body).contains("\"state\": \"LIVE\""));
    // Twenty streams at once, as twenty entries on one host would ask: one TCP connection.
    let many =
        futures::future::join_all((0..20).map(|_| pool.get(&r, "/clusters?format=json", WITHIN)))
            .await;
    assert!(
        many.iter()
            .all(|a| a.as_ref().is_ok_and(|a| a.status == 200)),
        "{many:?}"
    );
    assert_eq!(server.connections(), 1, "one master carries every stream");
    pool.close_all();
}

#[tokio::test]
async fn an_unknown_host_key_is_refused_and_never_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let server = sshd(&dir).await;
    let config = server.unknown_host_config().unwrap();
    let pool = Pool::new(settings(config.clone()));
    let err = pool
        .get(&route(&server, "127.0.0.1:15000"), "/", WITHIN)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        "host key for 127.0.0.1 not known (meshdeck never accepts a new key: add it to known_hosts)"
    );
    let known = std::fs::read_to_string(dir.path().join("no_known_hosts")).unwrap();
    assert_eq!(known, "", "nothing was added to known_hosts");
}

#[tokio::test]
async fn a_refused_key_says_permission_denied_for_whom() {
    let dir = tempfile::tempdir().unwrap();
    let server = sshd(&dir).await;
    let pool = Pool::new(settings(server.stranger_config().unwrap()));
    let err = pool
        .get(&route(&server, "127.0.0.1:15000"), "/", WITHIN)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        format!("permission denied (publickey) for {}", server.destination())
    );
}

/// A loopback port that accepts connections and never says a word; it stops when the handle
/// is dropped or aborted.
async fn silent_host() -> (u16, tokio::task::JoinHandle<()>) {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            open.push(s);
        }
    });
    (port, held)
}

/// A host that takes the connection and never speaks (a black hole behind a firewall, a hung
/// sshd): the connect timeout ends it, in those words.
#[tokio::test]
async fn a_silent_host_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let server = sshd(&dir).await;
    let (port, held) = silent_host().await;
    let pool = Pool::new(Settings {
        connect_timeout: Duration::from_secs(1),
        ..settings(server.client_config.clone())
    });
    let r = Route::parse(&format!(
        "ssh://{}@127.0.0.1:{port}/127.0.0.1:15000",
        server.user
    ))
    .unwrap();
    let err = pool.get(&r, "/", WITHIN).await.unwrap_err();
    assert_eq!(
        err,
        format!("timed out connecting to {}@127.0.0.1:{port}", server.user)
    );
    held.abort();
}

#[tokio::test]
async fn a_port_with_nothing_behind_it_names_the_address() {
    let dir = tempfile::tempdir().unwrap();
    let server = sshd(&dir).await;
    // A port that was just free: bound and closed by this test, so nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let pool = Pool::new(settings(server.client_config.clone()));
    let err = pool
        .get(&route(&server, &closed.to_string()), "/", WITHIN)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        format!("{closed} on 127.0.0.1 refused the connection (is the sidecar running?)")
    );
    pool.close_all();
}

#[tokio::test]
async fn a_dropped_connection_comes_back_on_the_next_poll() {
    let dir = tempfile::tempdir().unwrap();
    let server = sshd(&dir).await;
    let (_cp, _proxy, admin) = sidecar().await;
    let pool = Pool::new(settings(server.client_config.clone()));
    let r = route(&server, &admin);
    pool.get(&r, "/ready", WITHIN).await.expect("first answer");
    assert!(pool.has_master(&r.via));
    server.drop_sessions();
    // The master notices the cut; the next poll after that opens a new one.
    let again = wait::until(
        "admin answers again over a new master",
        Duration::from_secs(20),
        async || (pool.get(&r, "/ready", WITHIN).await, server.connections()),
        |(a, n)| a.is_ok() && *n == 2,
    )
    .await;
    assert_eq!(again.0.unwrap().status, 200);
    pool.close_all();
}

#[tokio::test]
async fn a_remote_log_is_read_line_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let server = sshd(&dir).await;
    let log = dir.path().join("istio.log");
    std::fs::write(&log, "one\ntwo error here\nthree\n").unwrap();
    let pool = Pool::new(settings(server.client_config.clone()));
    let dest = Destination::parse(&server.destination()).unwrap();
    let mut lines = pool
        .lines(&dest, &format!("tail -n 2 {}", log.display()))
        .await
        .unwrap();
    let mut got = Vec::new();
    while let Some(l) = lines.next().await.unwrap() {
        got.push(l);
    }
    assert_eq!(got, ["two error here", "three"]);
    let mut missing = pool
        .lines(&dest, "tail -n 2 /nonexistent/istio.log")
        .await
        .unwrap();
    let err = missing.next().await.unwrap_err();
    assert!(err.contains("No such file or directory"), "{err}");
    pool.close_all();
}

/// `meshdeck logs NS/NAME` with the settings file saying how to reach the VM: its lines on
/// stdout, exit 0; a key the server refuses: the reason on stderr, exit 1.
#[tokio::test]
async fn meshdeck_logs_prints_the_sidecar_log_over_ssh() {
    let dir = tempfile::tempdir().unwrap();
    let server = sshd(&dir).await;
    let log = dir.path().join("istio.log");
    std::fs::write(
        &log,
        "2026-12-02T10:00:00Z\tinfo\tready\n2026-12-02T10:00:01Z\terror\tpush failed\n",
    )
    .unwrap();
    let registry = dir.path().join("registry");
    std::fs::create_dir_all(&registry).unwrap();
    std::fs::write(
        registry.join("vm.yaml"),
        format!(
            "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n  name: vm-1\n  namespace: shop\n  annotations:\n    meshdeck.io/ssh: \"{}\"\nspec:\n  address: 10.10.1.11\n",
            server.destination()
        ),
    )
    .unwrap();
    let run = async |config: std::path::PathBuf| {
        let xdg = dir.path().join(format!(
            "xdg-{}",
            config.file_name().unwrap().to_string_lossy()
        ));
        std::fs::create_dir_all(xdg.join("meshdeck")).unwrap();
        std::fs::write(
            xdg.join("meshdeck/config.toml"),
            format!(
                "[ssh]\nconfig = \"{}\"\nlog_file = \"{}\"\nconnect_timeout = \"3s\"\n",
                config.display(),
                log.display()
            ),
        )
        .unwrap();
        tokio::process::Command::new(env!("CARGO_BIN_EXE_meshdeck"))
            .args(["logs", "shop/vm-1", "-m"])
            .arg(&registry)
            .env("XDG_CONFIG_HOME", &xdg)
            .output()
            .await
            .unwrap()
    };
    let ok = run(server.client_config.clone()).await;
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout),
        "2026-12-02T10:00:00Z\tinfo\tready\n2026-12-02T10:00:01Z\terror\tpush failed\n",
        "stderr: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(ok.status.code(), Some(0));
    let refused = run(server.stranger_config().unwrap()).await;
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr).trim(),
        format!(
            "meshdeck logs: permission denied (publickey) for {}",
            server.destination()
        )
    );
}

/// The console keeps working for the other entries: a VM whose ssh hangs until its timeout
/// does not hold back the polls of a proxy that answers (each target has its own loop).
#[tokio::test]
async fn a_stuck_vm_does_not_hold_back_the_other_proxies() {
    use meshdeck::io::envoy::poll::{self, DataEvent, PollTarget};
    let (_cp, proxy, _) = sidecar().await;
    let (port, _held) = silent_host().await;
    let targets = vec![
        PollTarget::new("stuck", format!("ssh://127.0.0.1:{port}/127.0.0.1:15000")),
        PollTarget::new("east", proxy.admin.clone()),
    ];
    let (_targets_tx, targets_rx) = tokio::sync::watch::channel(targets);
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let _poller = tokio::spawn(poll::run(targets_rx, tx));
    let mut answers = 0;
    while answers < 3 {
        match rx.recv().await.expect("the poller runs") {
            DataEvent::Clusters { proxy, .. } if proxy == "east" => answers += 1,
            // The stuck one fails only after its whole connect timeout (5 s, default
            // settings); three answers of the other, a second apart, come before that.
            DataEvent::Failed { proxy, error } => panic!("{proxy} failed first: {error}"),
            other => panic!("{other:?}"),
        }
    }
    // The poller used the process's own pool: its control directory goes now.
    meshdeck::io::ssh::pool().close_all();
}
