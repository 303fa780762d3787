//! Reaching VMs through the system `ssh` client: the user's keys, agent, `~/.ssh/config`,
//! ProxyJump and known_hosts all apply, and one multiplexed master connection per host
//! (ControlMaster/ControlPersist) carries every stream to it. Never a password prompt
//! (`BatchMode`), never a new host key accepted (`StrictHostKeyChecking=yes`), never anything
//! written on the VM.

pub mod destination;
pub mod failure;
pub mod http;
pub mod remote;

pub use destination::{Destination, Route};

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::process::Command;
use tokio::sync::Semaphore;

/// How meshdeck runs `ssh` (from the config file's `[ssh]` table and flags).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The `ssh` program.
    pub program: PathBuf,
    /// `ssh -F FILE` instead of the user's own config.
    pub config_file: Option<PathBuf>,
    pub connect_timeout: Duration,
    /// How long an idle master connection stays up (also after meshdeck exits).
    pub persist: Duration,
    /// At most this many `ssh` processes at once.
    pub max_connections: usize,
    /// More `-o` options, as written in ssh_config (`ProxyJump=bastion`).
    pub options: Vec<String>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            program: PathBuf::from("ssh"),
            config_file: None,
            connect_timeout: Duration::from_secs(5),
            persist: Duration::from_secs(60),
            max_connections: 8,
            options: Vec::new(),
        }
    }
}

/// The ssh processes of this meshdeck: the limit on how many run at once, the control sockets,
/// and which hosts have a master already.
pub struct Pool {
    settings: Settings,
    permits: Arc<Semaphore>,
    dir: PathBuf,
    /// Per destination: held while the first stream to it is set up, so that several entries
    /// on one host share one master instead of racing to open one each.
    first: std::sync::Mutex<HashMap<Destination, Arc<tokio::sync::Mutex<()>>>>,
}

static POOL: RwLock<Option<Arc<Pool>>> = RwLock::new(None);

/// Sets how ssh is run from now on (at start, from the config file and flags). Masters opened
/// before stay up until their ControlPersist runs out.
pub fn configure(settings: Settings) {
    *POOL.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(Pool::new(settings)));
}

/// The process's pool (default settings when `configure` was never called).
pub fn pool() -> Arc<Pool> {
    if let Some(p) = POOL.read().unwrap_or_else(|p| p.into_inner()).as_ref() {
        return p.clone();
    }
    let mut w = POOL.write().unwrap_or_else(|p| p.into_inner());
    w.get_or_insert_with(|| Arc::new(Pool::new(Settings::default())))
        .clone()
}

static NEXT_POOL: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

impl Pool {
    pub fn new(settings: Settings) -> Pool {
        // Per process: control sockets must be private to the user, and short paths keep
        // under the 108-byte limit of a Unix socket name.
        let n = NEXT_POOL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("meshdeck-ssh-{}-{n}", std::process::id()));
        Pool {
            permits: Arc::new(Semaphore::new(settings.max_connections.max(1))),
            settings,
            dir,
            first: Default::default(),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn control_path(&self, dest: &Destination) -> PathBuf {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        dest.hash(&mut h);
        self.dir.join(format!("{:016x}", h.finish()))
    }

    fn ensure_dir(&self) -> std::io::Result<()> {
        use std::os::unix::fs::DirBuilderExt;
        match std::fs::DirBuilder::new().mode(0o700).create(&self.dir) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
            _ => Ok(()),
        }
    }

    /// Whether a master connection to `dest` is up (its control socket exists).
    pub fn has_master(&self, dest: &Destination) -> bool {
        self.control_path(dest).exists()
    }

    /// `ssh` with meshdeck's safety options and `dest`; the caller adds `-W` or a command.
    fn command(&self, dest: &Destination) -> std::io::Result<Command> {
        self.ensure_dir()?;
        let s = &self.settings;
        let mut cmd = Command::new(&s.program);
        if let Some(f) = &s.config_file {
            cmd.arg("-F").arg(f);
        }
        let control = self.control_path(dest);
        let opts = [
            "BatchMode=yes".to_string(),
            "StrictHostKeyChecking=yes".to_string(),
            format!("ConnectTimeout={}", s.connect_timeout.as_secs().max(1)),
            "ControlMaster=auto".to_string(),
            format!("ControlPath={}", control.display()),
            format!("ControlPersist={}s", s.persist.as_secs().max(1)),
            // A dead link is noticed within ~10 s, and the next stream opens a new master.
            "ServerAliveInterval=5".to_string(),
            "ServerAliveCountMax=2".to_string(),
            "LogLevel=ERROR".to_string(),
        ];
        for o in s.options.iter().chain(opts.iter()) {
            cmd.arg("-o").arg(o);
        }
        cmd.args(dest.args());
        cmd.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        Ok(cmd)
    }

    /// Waits for a free slot, and for the first stream to `dest` when no master is up yet;
    /// the guard is held for as long as the stream runs.
    async fn slot(&self, dest: &Destination) -> Slot {
        let permit = self.permits.clone().acquire_owned().await.ok();
        let first = if self.has_master(dest) {
            None
        } else {
            let lock = {
                let mut map = self.first.lock().unwrap_or_else(|p| p.into_inner());
                map.entry(dest.clone()).or_default().clone()
            };
            Some(lock.lock_owned().await)
        };
        Slot {
            _permit: permit,
            _first: first,
        }
    }

    /// Stops every master this meshdeck opened (best effort, on the way out).
    pub fn close_all(&self) {
        let dests: Vec<Destination> = {
            let map = self.first.lock().unwrap_or_else(|p| p.into_inner());
            map.keys().cloned().collect()
        };
        for d in dests.iter().filter(|d| self.has_master(d)) {
            if let Ok(cmd) = self.command(d) {
                let mut cmd = cmd.into_std();
                let _ = cmd.arg("-O").arg("exit").arg("--").arg(&d.host).output();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Pool {
    /// Its control directory goes with it; a master still up ends at its ControlPersist.
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub(crate) struct Slot {
    _permit: Option<tokio::sync::OwnedSemaphorePermit>,
    /// Held by the first stream to a host until it ends: by then its master is up.
    _first: Option<tokio::sync::OwnedMutexGuard<()>>,
}
