//! A private PostgreSQL server and real `gatehouse serve` processes on it, for the multi-node
//! test: each is a guard that stops what it started when dropped (also while a test panics),
//! and prints its log when it goes down with a failing test.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use app::domain::Services;
use app::domain::sealing::InstanceKey;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use server::config::Config;
use server::router::build_router;
use server::state::AppState;

use super::TestApp;

/// A free TCP port on 127.0.0.1 (free when asked; nothing holds it afterwards).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind a free port")
        .local_addr()
        .unwrap()
        .port()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The directory with `initdb` and `pg_ctl`: `GATEHOUSE_PG_BIN`, the newest
/// /usr/lib/postgresql/*/bin, or whatever `PATH` has.
fn pg_bin_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("GATEHOUSE_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").exists() && bin.join("pg_ctl").exists()).then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .find(|d| d.join("initdb").exists() && d.join("pg_ctl").exists())
    })
}

/// A PostgreSQL server of the test's own in a temporary directory.
pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
    as_postgres: bool,
    running: bool,
}

impl Postgres {
    /// `initdb` and start; panics (the test fails) when PostgreSQL isn't installed.
    pub fn start() -> Self {
        let bin = pg_bin_dir().unwrap_or_else(|| {
            panic!(
                "\n\nThe multi-node test needs PostgreSQL's server binaries (initdb, pg_ctl): none in \
                 /usr/lib/postgresql/*/bin or on PATH. Install them (Debian: apt-get install postgresql) \
                 or point GATEHOUSE_PG_BIN at their directory.\n"
            )
        });
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        // Short: the server's Unix socket goes in here too (paths are limited to ~100 bytes).
        let dir =
            std::env::temp_dir().join(format!("gh-multinode-{}-{nanos:x}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the PostgreSQL directory");
        let as_postgres = is_root();
        if as_postgres {
            // initdb and pg_ctl refuse to run as root: they run as `postgres`, which owns the dir.
            let user = Command::new("id").arg("postgres").output();
            assert!(
                user.is_ok_and(|o| o.status.success()),
                "\n\nRun as root, the multi-node test runs PostgreSQL as the `postgres` user (initdb \
                 refuses root), but there is no such user.\n"
            );
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir));
        }
        let mut pg = Self {
            dir,
            bin,
            port: free_port(),
            as_postgres,
            running: false,
        };
        println!("PostgreSQL: {} in {}", pg.bin.display(), pg.dir.display());
        let data = pg.data();
        pg.pg(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        pg.start_again();
        pg
    }

    /// The server's temporary directory (the test may keep its own files there too).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    /// A URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Runs one of PostgreSQL's programs (as `postgres` when this is root).
    fn pg(&self, program: &str, args: &[&str]) -> std::process::Output {
        let exe = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(args).current_dir(&self.dir);
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("can't run {}: {e}", exe.display()));
        if !out.status.success() {
            panic!(
                "{program} {args:?} failed ({}):\n{}{}\nserver log:\n{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                self.log_tail()
            );
        }
        out
    }

    /// Starts the server (again) and waits until it accepts connections.
    pub fn start_again(&mut self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        let data = self.data();
        let log = self.dir.join("log").display().to_string();
        self.pg(
            "pg_ctl",
            &[
                "-D", &data, "-o", &opts, "-l", &log, "-w", "-t", "30", "start",
            ],
        );
        self.running = true;
    }

    /// `pg_ctl -m fast stop`: the clients are disconnected, the server shuts down cleanly.
    pub fn stop_fast(&mut self) {
        let data = self.data();
        self.pg("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"]);
        self.running = false;
    }

    /// Creates database `name` and returns its URL.
    pub async fn create_database(&self, name: &str) -> String {
        let admin = migration::db::connect(&self.url("postgres"))
            .await
            .expect("connect to the private PostgreSQL");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("CREATE DATABASE");
        admin.close().await.ok();
        self.url(name)
    }

    pub fn log_tail(&self) -> String {
        tail(&self.dir.join("log"), 40)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- PostgreSQL log (last lines) ---\n{}\n---",
                self.log_tail()
            );
        }
        if self.running {
            let exe = self.bin.join("pg_ctl");
            let data = self.data();
            let args = ["-D", data.as_str(), "-m", "immediate", "-w", "stop"];
            let _ = if self.as_postgres {
                Command::new("runuser")
                    .args(["-u", "postgres", "--"])
                    .arg(&exe)
                    .args(args)
                    .output()
            } else {
                Command::new(&exe).args(args).output()
            };
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run a command");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The last `lines` lines of a file (or why it can't be read).
pub fn tail(path: &Path, lines: usize) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("({}: {e})", path.display()),
    }
}

/// One `gatehouse serve` process.
pub struct Node {
    pub name: &'static str,
    pub port: u16,
    env: BTreeMap<String, String>,
    dir: PathBuf,
    child: Option<Child>,
    /// Which start of this node (log files are per start).
    starts: u32,
}

impl Node {
    /// Starts `gatehouse serve` on a free port with `env` (plus GATEHOUSE_BIND), its output in
    /// files under `dir`. Call [`Node::wait_ready`] before use.
    pub fn spawn(name: &'static str, dir: &Path, env: &[(&str, String)]) -> Self {
        let mut node = Self {
            name,
            port: free_port(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            dir: dir.to_path_buf(),
            child: None,
            starts: 0,
        };
        node.start();
        node
    }

    /// The base URL of this process.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the node runs").id()
    }

    fn log(&self, stream: &str) -> PathBuf {
        self.dir
            .join(format!("{}-{}.{stream}", self.name, self.starts))
    }

    /// Starts the process (again), on the same port, with the same settings and `extra`.
    pub fn start_with(&mut self, extra: &[(&str, String)]) {
        for (k, v) in extra {
            self.env.insert(k.to_string(), v.clone());
        }
        self.start();
    }

    pub fn start(&mut self) {
        assert!(self.child.is_none(), "{} already runs", self.name);
        self.starts += 1;
        let stdout = std::fs::File::create(self.log("out")).unwrap();
        let stderr = std::fs::File::create(self.log("err")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("GATEHOUSE_BIND", format!("127.0.0.1:{}", self.port))
            .envs(&self.env)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("start gatehouse serve");
        self.child = Some(child);
    }

    /// Waits until `/readyz` answers 200; panics (with the log) if the process ends or it takes
    /// longer than `within`.
    pub async fn wait_ready(&mut self, http: &reqwest::Client, within: Duration) -> Duration {
        let started = Instant::now();
        let url = format!("{}/readyz", self.base());
        loop {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!(
                    "gatehouse {} exited ({status}) before it was ready:\n{}",
                    self.name,
                    self.logs()
                );
            }
            if let Ok(res) = http.get(&url).timeout(Duration::from_secs(3)).send().await
                && res.status() == 200
            {
                return started.elapsed();
            }
            if started.elapsed() > within {
                panic!(
                    "gatehouse {} not ready within {within:?}:\n{}",
                    self.name,
                    self.logs()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL, and reaps the process.
    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("the node runs");
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
    }

    /// Sends SIGTERM (the process keeps running until it has drained).
    pub fn sigterm(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -TERM {} failed", self.pid());
    }

    /// Waits up to `within` for the process to exit; `None` when it still runs.
    pub async fn wait_exit(&mut self, within: Duration) -> Option<(ExitStatus, Duration)> {
        let started = Instant::now();
        loop {
            let child = self.child.as_mut().expect("the node runs");
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                return Some((status, started.elapsed()));
            }
            if started.elapsed() > within {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Both output streams of the current (or last) start, for a failure message.
    pub fn logs(&self) -> String {
        format!(
            "--- gatehouse {} stdout ---\n{}\n--- gatehouse {} stderr ---\n{}\n---",
            self.name,
            tail(&self.log("out"), 80),
            self.name,
            tail(&self.log("err"), 60)
        )
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!("{}", self.logs());
        }
    }
}

/// A migrated database whose sealed values use `key`, and an in-process router on it, as the
/// `gatehouse serve` processes given the same key would be: what it seals (mail in the outbox)
/// they can open.
pub async fn seeding_app(
    db: DatabaseConnection,
    key: &InstanceKey,
    env: &[(&str, &str)],
) -> TestApp {
    app::domain::sealing::bind(&db, key, None)
        .await
        .expect("bind the instance key");
    let env: BTreeMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let config = Config::from_sources(&env, &BTreeMap::new()).expect("config");
    let services = Services::new(db.clone(), config.domain_settings(), key.clone());
    let origin = config.public_url.clone();
    let router = build_router(AppState::new(config, services.clone()));
    TestApp {
        router,
        origin,
        db,
        services,
    }
}
