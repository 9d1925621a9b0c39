//! Finding the instance key at start-up: given (`GATEHOUSE_SECRET_KEY`), or read from its file
//! (created on the first start of the embedded default), then checked against the database.
//! A wrong or missing key stops Gatehouse with a message; it never runs on garbage.

use std::path::Path;

use app::domain::sealing::{self, Bound, InstanceKey};
use sea_orm::DatabaseConnection;

use crate::cli::CliError;
use crate::config::{Config, KeySource};

pub async fn load(config: &Config, db: &DatabaseConnection) -> Result<InstanceKey, CliError> {
    let key = match &config.secret_key {
        KeySource::Given(k) => k.clone(),
        KeySource::Ephemeral => InstanceKey::generate().0,
        KeySource::Missing => {
            return Err(CliError(
                "GATEHOUSE_SECRET_KEY is required with PostgreSQL (every node must use the same key): make one with `gatehouse generate-secret-key`, or point GATEHOUSE_SECRET_KEY_FILE at a file holding it".into(),
            ));
        }
        KeySource::File(path) => read_or_create(path, db).await?,
    };
    match sealing::bind(db, &key, config.secret_key_previous.as_ref()).await {
        Ok(Bound::First | Bound::Same) => Ok(key),
        Ok(Bound::Rotated { resealed }) => {
            tracing::info!(
                key_id = key.id(),
                resealed,
                "sealed values moved to the new instance key; remove GATEHOUSE_SECRET_KEY_PREVIOUS"
            );
            Ok(key)
        }
        Err(e) => Err(CliError(format!("instance key: {e}"))),
    }
}

async fn read_or_create(path: &Path, db: &DatabaseConnection) -> Result<InstanceKey, CliError> {
    match std::fs::read_to_string(path) {
        Ok(text) => InstanceKey::parse(&text)
            .map_err(|e| CliError(format!("instance key file {}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(id) = sealing::sealed_with(db).await? {
                return Err(CliError(format!(
                    "this database's secrets are sealed with the instance key {id}, but its key file {} is missing: restore it from your backup, or give the key as GATEHOUSE_SECRET_KEY",
                    path.display()
                )));
            }
            create(path)
        }
        Err(e) => Err(CliError(format!(
            "can't read the instance key file {}: {e}",
            path.display()
        ))),
    }
}

/// Writes a new key to `path` with mode 0600; of two processes starting at once, the second
/// reads the first one's key.
fn create(path: &Path) -> Result<InstanceKey, CliError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError(format!("can't create {}: {e}", dir.display())))?;
    }
    let (key, text) = InstanceKey::generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut f) => {
            use std::io::Write;
            f.write_all(format!("{text}\n").as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(|e| CliError(format!("can't write {}: {e}", path.display())))?;
            tracing::info!(
                path = %path.display(),
                key_id = key.id(),
                "created the instance key: back this file up apart from the database"
            );
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path)?;
            InstanceKey::parse(&text)
                .map_err(|e| CliError(format!("instance key file {}: {e}", path.display())))
        }
        Err(e) => Err(CliError(format!("can't write {}: {e}", path.display()))),
    }
}
