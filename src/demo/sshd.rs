//! The demo's VM host: a real OpenSSH server on a loopback address, started per connection
//! the way systemd's `ssh.socket` does (`sshd -i` on each accepted socket), so that the port
//! is whatever the kernel picked and nobody guesses a free one. Throwaway host and user keys,
//! key login only, loopback only. Tests use it to reach Envoy admins only through ssh.

use std::net::{IpAddr, SocketAddr};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};

/// Where Debian's openssh-server puts sshd; `MESHDECK_SSHD` overrides it.
pub const SSHD: &str = "/usr/sbin/sshd";

pub fn sshd_program() -> PathBuf {
    std::env::var_os("MESHDECK_SSHD").map_or_else(|| PathBuf::from(SSHD), PathBuf::from)
}

pub struct Sshd {
    pub addr: SocketAddr,
    pub user: String,
    pub dir: PathBuf,
    /// An ssh_config that logs in with the user key and trusts exactly this server's key.
    pub client_config: PathBuf,
    accepted: Arc<AtomicU64>,
    sessions: Arc<Mutex<Vec<Child>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.task.abort();
        self.drop_sessions();
    }
}

async fn run(program: &str, args: &[&str]) -> std::io::Result<String> {
    let out = Command::new(program).args(args).output().await?;
    if !out.status.success() {
        return Err(std::io::Error::other(format!(
            "{program} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

async fn keygen(path: &Path) -> std::io::Result<String> {
    let _ = std::fs::remove_file(path);
    let p = path.to_string_lossy();
    run(
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "meshdeck-test",
            "-f",
            &p,
        ],
    )
    .await?;
    Ok(std::fs::read_to_string(path.with_extension("pub"))?
        .trim()
        .to_string())
}

impl Sshd {
    /// Binds `ip:0`, writes keys and configs under `dir`, and serves until dropped.
    pub async fn start(ip: IpAddr, dir: &Path) -> std::io::Result<Sshd> {
        let program = sshd_program();
        if !program.exists() {
            return Err(std::io::Error::other(format!(
                "{} not found: install openssh-server (scripts/setup-debian.sh does), or set MESHDECK_SSHD",
                program.display()
            )));
        }
        std::fs::create_dir_all(dir)?;
        let user = run("id", &["-un"]).await?;
        let host_pub = keygen(&dir.join("host_key")).await?;
        let user_pub = keygen(&dir.join("user_key")).await?;
        std::fs::write(dir.join("authorized_keys"), format!("{user_pub}\n"))?;
        // A key that is not authorised, for the refused-key case.
        keygen(&dir.join("stranger_key")).await?;
        let d = dir.display();
        std::fs::write(
            dir.join("sshd_config"),
            format!(
                "HostKey {d}/host_key\nAuthorizedKeysFile {d}/authorized_keys\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 PermitRootLogin prohibit-password\nPubkeyAuthentication yes\nUsePAM no\n\
                 StrictModes no\nPidFile none\nPrintMotd no\nPermitTTY no\nX11Forwarding no\n\
                 AllowTcpForwarding local\nAllowAgentForwarding no\nLogLevel ERROR\n"
            ),
        )?;
        // sshd running as root needs its privilege separation directory.
        let _ = std::fs::create_dir_all("/run/sshd");
        let listener = TcpListener::bind(SocketAddr::new(ip, 0)).await?;
        let addr = listener.local_addr()?;
        let key = host_pub
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        std::fs::write(
            dir.join("known_hosts"),
            format!("[{ip}]:{} {key}\n", addr.port()),
        )?;
        std::fs::write(dir.join("no_known_hosts"), "")?;
        let client_config = dir.join("ssh_config");
        Self::write_client_config(&client_config, dir, "user_key", "known_hosts")?;
        let accepted = Arc::new(AtomicU64::new(0));
        let sessions: Arc<Mutex<Vec<Child>>> = Default::default();
        let config = dir.join("sshd_config");
        let log = dir.join("sshd.log");
        let task = tokio::spawn({
            let (accepted, sessions) = (accepted.clone(), sessions.clone());
            async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    accepted.fetch_add(1, Ordering::Relaxed);
                    match session(&program, &config, &log, stream) {
                        Ok(child) => {
                            let mut s = sessions.lock().unwrap_or_else(|p| p.into_inner());
                            s.retain_mut(|c| c.try_wait().ok().flatten().is_none());
                            s.push(child);
                        }
                        Err(e) => tracing::error!("sshd: {e}"),
                    }
                }
            }
        });
        Ok(Sshd {
            addr,
            user,
            dir: dir.to_path_buf(),
            client_config,
            accepted,
            sessions,
            task,
        })
    }

    fn write_client_config(
        path: &Path,
        dir: &Path,
        key: &str,
        known_hosts: &str,
    ) -> std::io::Result<()> {
        let d = dir.display();
        std::fs::write(
            path,
            format!(
                "Host *\n  IdentityFile {d}/{key}\n  IdentitiesOnly yes\n  \
                 UserKnownHostsFile {d}/{known_hosts}\n  GlobalKnownHostsFile /dev/null\n  \
                 PasswordAuthentication no\n"
            ),
        )
    }

    /// A client config that presents a key the server does not know.
    pub fn stranger_config(&self) -> std::io::Result<PathBuf> {
        let p = self.dir.join("ssh_config.stranger");
        Self::write_client_config(&p, &self.dir, "stranger_key", "known_hosts")?;
        Ok(p)
    }

    /// A client config that knows no host keys at all.
    pub fn unknown_host_config(&self) -> std::io::Result<PathBuf> {
        let p = self.dir.join("ssh_config.unknown_host");
        Self::write_client_config(&p, &self.dir, "user_key", "no_known_hosts")?;
        Ok(p)
    }

    /// `[ssh://]user@ip:port`, as an annotation or `--envoy-admin ssh://…` names it.
    pub fn destination(&self) -> String {
        format!("{}@{}:{}", self.user, self.addr.ip(), self.addr.port())
    }

    /// TCP connections accepted so far (one per master connection when multiplexing works).
    pub fn connections(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    /// Cuts every open session, as a network drop or a VM reboot would.
    pub fn drop_sessions(&self) {
        let mut s = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        for c in s.iter_mut() {
            if let Some(pid) = c.id() {
                // SAFETY: kill(2) on the process group this child leads (process_group(0)):
                // sshd forks per session, and all of them go.
                unsafe {
                    libc::kill(-(pid as i32), libc::SIGKILL);
                }
            }
        }
        s.clear();
    }
}

/// `sshd -i` with the accepted socket as its stdin and stdout.
fn session(
    program: &Path,
    config: &Path,
    log: &Path,
    stream: tokio::net::TcpStream,
) -> std::io::Result<Child> {
    let stream = stream.into_std()?;
    stream.set_nonblocking(false)?;
    let fd: OwnedFd = stream.into();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let mut cmd = Command::new(program);
    // SAFETY: prctl is async-signal-safe; no sshd outlives the process that started it.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    cmd.arg("-i")
        .arg("-e")
        .arg("-f")
        .arg(config)
        .stdin(Stdio::from(fd.try_clone()?))
        .stdout(Stdio::from(fd))
        .stderr(Stdio::from(log))
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
}
