//! A real SMTP server for the tests: `end2end/support/mail_sink.py` (aiosmtpd) in its own
//! process, writing each mail it receives as JSON into a directory of its own. Gatehouse's
//! mail worker sends to it over SMTP exactly as to a production relay.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::ORIGIN;

pub struct MailSink {
    child: Child,
    dir: PathBuf,
    port: u16,
    /// Mails a test already took with [`MailSink::wait_for`].
    taken: Mutex<HashSet<PathBuf>>,
}

/// One received mail, decoded.
#[derive(Debug, Clone, Deserialize)]
pub struct Mail {
    pub to: Vec<String>,
    pub from_header: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Mail {
    /// The first link in the plain-text body.
    pub fn link(&self) -> String {
        self.text
            .split_whitespace()
            .find(|w| w.starts_with("http://") || w.starts_with("https://"))
            .unwrap_or_else(|| panic!("no link in mail:\n{}", self.text))
            .to_string()
    }

    /// The link's path on this Gatehouse (what a browser of the tests requests).
    pub fn path(&self) -> String {
        let link = self.link();
        link.strip_prefix(ORIGIN)
            .unwrap_or_else(|| panic!("{link} is not on {ORIGIN}"))
            .to_string()
    }

    /// The secret at the end of the link.
    pub fn secret(&self) -> String {
        self.link().rsplit('/').next().unwrap().to_string()
    }
}

impl MailSink {
    pub fn start() -> Self {
        Self::start_on(0)
    }

    /// On a given port (0: any free one).
    pub fn start_on(port: u16) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "gatehouse-mail-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../end2end/support/mail_sink.py"
        );
        let mut child = Command::new("python3")
            .arg(script)
            .arg("--dir")
            .arg(&dir)
            .arg("--exit-with-stdin")
            .arg("--port")
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP sink (python3 with aiosmtpd: `bash .ci/setup --test`)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP sink did not start: {line:?}"));
        Self {
            child,
            dir,
            port,
            taken: Mutex::default(),
        }
    }

    pub fn smtp_url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }

    fn read(path: &PathBuf) -> Mail {
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    /// Every mail received so far.
    pub fn received(&self) -> Vec<Mail> {
        self.files().iter().map(Self::read).collect()
    }

    /// The next mail to `to` whose subject contains `subject`, waiting up to 20 s for it.
    pub async fn wait_for(&self, to: &str, subject: &str) -> Mail {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            for path in self.files() {
                if self.taken.lock().unwrap().contains(&path) {
                    continue;
                }
                let mail = Self::read(&path);
                if mail.to.iter().any(|t| t == to) && mail.subject.contains(subject) {
                    self.taken.lock().unwrap().insert(path);
                    return mail;
                }
            }
            assert!(
                Instant::now() < deadline,
                "no mail to {to} about {subject:?} within 20 s; received: {:#?}",
                self.received()
                    .iter()
                    .map(|m| (m.to.clone(), m.subject.clone()))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Asserts that no mail to `to` arrives within `wait`.
    pub async fn assert_none_to(&self, to: &str, wait: Duration) {
        tokio::time::sleep(wait).await;
        let got: Vec<String> = self
            .received()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == to))
            .map(|m| m.subject)
            .collect();
        assert!(got.is_empty(), "unexpected mail to {to}: {got:?}");
    }
}

impl Drop for MailSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
