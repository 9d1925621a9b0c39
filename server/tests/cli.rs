//! The `gatehouse` binary itself: its commands, their error exits, a bad setting stopping
//! start-up, and a graceful stop on SIGTERM.

use std::process::{Command, Output};

use sea_orm::EntityTrait;

fn db_url(name: &str) -> String {
    let dir = std::env::temp_dir().join("gatehouse-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("cli-{}-{name}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(path.with_extension("key"));
    format!("sqlite://{}?mode=rwc", path.display())
}

fn gatehouse(db: &str, args: &[&str]) -> Output {
    gatehouse_with(db, &[], args)
}

fn gatehouse_with(db: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(args)
        .env("GATEHOUSE_DATABASE_URL", db)
        .env("RUST_LOG", "error")
        .env_remove("GATEHOUSE_SECRET_KEY")
        .env_remove("GATEHOUSE_SECRET_KEY_PREVIOUS")
        .env_remove("GATEHOUSE_SMTP_URL")
        .envs(env.iter().copied())
        .output()
        .expect("run gatehouse")
}

/// The key file the embedded default keeps beside its database.
fn key_file(db: &str) -> std::path::PathBuf {
    let path = db
        .strip_prefix("sqlite://")
        .unwrap()
        .split('?')
        .next()
        .unwrap();
    std::path::Path::new(path).with_extension("key")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn commands_succeed_and_fail_with_messages() {
    let db = db_url("commands");
    let ok = gatehouse(
        &db,
        &[
            "create-user",
            "--email",
            "ada@example.com",
            "--password",
            "correct horse battery staple",
            "--name",
            "Ada",
        ],
    );
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("Created user ada@example.com"));

    let dup = gatehouse(
        &db,
        &[
            "create-user",
            "--email",
            "ADA@example.com",
            "--password",
            "correct horse battery staple",
        ],
    );
    assert!(!dup.status.success());
    assert!(
        text(&dup).contains("--email: An account with this email already exists"),
        "{}",
        text(&dup)
    );

    let weak = gatehouse(
        &db,
        &[
            "create-user",
            "--email",
            "bob@example.com",
            "--password",
            "short",
        ],
    );
    assert!(!weak.status.success());
    assert!(
        text(&weak).contains("--password: Use at least 12 characters"),
        "{}",
        text(&weak)
    );

    let org = gatehouse(
        &db,
        &[
            "create-org",
            "--slug",
            "acme",
            "--name",
            "Acme",
            "--owner",
            "ada@example.com",
        ],
    );
    assert!(org.status.success(), "{}", text(&org));
    let no_owner = gatehouse(
        &db,
        &[
            "create-org",
            "--slug",
            "beta",
            "--name",
            "Beta",
            "--owner",
            "nobody@example.com",
        ],
    );
    assert!(!no_owner.status.success());
    assert!(
        text(&no_owner).contains("no account with email \"nobody@example.com\""),
        "{}",
        text(&no_owner)
    );

    gatehouse(
        &db,
        &[
            "create-user",
            "--email",
            "bob@example.com",
            "--password",
            "another long passphrase",
        ],
    );
    let member = gatehouse(
        &db,
        &[
            "add-member",
            "--org",
            "acme",
            "--email",
            "bob@example.com",
            "--role",
            "querier",
        ],
    );
    assert!(member.status.success(), "{}", text(&member));
    let bad_role = gatehouse(
        &db,
        &[
            "add-member",
            "--org",
            "acme",
            "--email",
            "bob@example.com",
            "--role",
            "owner",
        ],
    );
    assert!(!bad_role.status.success());
    assert!(
        text(&bad_role).contains("--role: unknown role \"owner\""),
        "{}",
        text(&bad_role)
    );
    let no_org = gatehouse(
        &db,
        &[
            "add-member",
            "--org",
            "nope",
            "--email",
            "bob@example.com",
            "--role",
            "viewer",
        ],
    );
    assert!(
        text(&no_org).contains("--org: no organization \"nope\""),
        "{}",
        text(&no_org)
    );

    let demo = gatehouse(&db, &["demo"]);
    assert!(demo.status.success(), "{}", text(&demo));
    for email in [
        "admin@acme.test",
        "querier@acme.test",
        "restricted@acme.test",
        "viewer@acme.test",
    ] {
        assert!(text(&demo).contains(email), "{}", text(&demo));
    }
    // Run again: same users, fresh passwords that work.
    let again = gatehouse(&db, &["demo"]);
    assert!(again.status.success());
    assert_ne!(text(&demo), text(&again));
}

#[test]
fn a_bad_setting_stops_start_up_naming_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("migrate")
        .env("GATEHOUSE_PUBLIC_URL", "gatehouse.example.com")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out).contains("invalid setting GATEHOUSE_PUBLIC_URL"),
        "{}",
        text(&out)
    );
}

#[test]
fn serve_stops_gracefully_on_sigterm() {
    let db = db_url("serve");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("serve")
        .env("GATEHOUSE_DATABASE_URL", &db)
        .env("GATEHOUSE_BIND", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut up = false;
    for _ in 0..100 {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            s.write_all(b"GET /readyz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                .unwrap();
            let mut body = String::new();
            let _ = s.read_to_string(&mut body);
            if body.starts_with("HTTP/1.1 200") {
                up = true;
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(up, "server did not become ready");
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "a SIGTERM stop exits cleanly, got {status}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_disables_and_enables_an_account() {
    use app::domain::access::{Denial, Invalidations, Purpose};
    use app::domain::oauth::resource::McpResource;
    use app::domain::oauth::token_format::SecretKind;
    use app::domain::oauth::tokens::{self, TokenSpec};
    let db = db_url("disable");
    let run = |args: Vec<&'static str>| {
        let db = db.clone();
        tokio::task::spawn_blocking(move || gatehouse(&db, &args))
    };
    for args in [
        vec![
            "create-user",
            "--email",
            "ada@example.com",
            "--password",
            "correct horse battery staple",
        ],
        vec![
            "create-org",
            "--slug",
            "acme",
            "--name",
            "Acme",
            "--owner",
            "ada@example.com",
        ],
    ] {
        let out = run(args).await.unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
    // A personal token of Ada's, checked by the access decision of a process of our own on
    // the same database (as a running server would).
    let conn = migration::db::connect(&db).await.unwrap();
    let s = app::domain::Services::new(
        conn.clone(),
        app::domain::Settings::new("http://127.0.0.1:3000", true),
        app::domain::sealing::InstanceKey::generate().0,
    );
    let ada = app::domain::users::find_by_email(&conn, "ada@example.com")
        .await
        .unwrap()
        .unwrap();
    let acme = app::domain::orgs::find_by_slug(&conn, "acme")
        .await
        .unwrap()
        .unwrap();
    let (pat, _) = tokens::issue(
        &conn,
        SecretKind::PersonalToken,
        None,
        &TokenSpec {
            user_id: ada.id,
            org_id: acme.id,
            client_id: None,
            connection_id: None,
            family_id: None,
            parent_id: None,
            scope: "mcp:read",
            resource: None,
            name: Some("script".into()),
        },
    )
    .await
    .unwrap();
    let check = || async {
        s.caches.apply(&app::domain::access::Invalidation::All);
        s.access()
            .check(&pat, Purpose::Mcp(&McpResource::Org("acme".into())))
            .await
            .unwrap()
            .map(|_| ())
    };
    assert_eq!(check().await, Ok(()));

    let out = run(vec!["disable-user", "--email", "ada@example.com"])
        .await
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("ada@example.com is now disabled."),
        "{}",
        text(&out)
    );
    assert_eq!(check().await, Err(Denial::AccountDisabled));
    let signed_in = app::domain::users::authenticate(
        &s,
        "ada@example.com",
        "correct horse battery staple",
        &Default::default(),
    )
    .await;
    assert!(signed_in.is_err(), "a disabled account can't sign in");
    let again = run(vec!["disable-user", "--email", "ada@example.com"])
        .await
        .unwrap();
    assert!(
        text(&again).contains("was already disabled; nothing changed"),
        "{}",
        text(&again)
    );

    let out = run(vec!["enable-user", "--email", "ada@example.com"])
        .await
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("ada@example.com is now enabled."));
    assert_eq!(check().await, Ok(()));

    let nobody = run(vec!["disable-user", "--email", "nobody@example.com"])
        .await
        .unwrap();
    assert!(!nobody.status.success());
    assert!(
        text(&nobody).contains("no account with email \"nobody@example.com\""),
        "{}",
        text(&nobody)
    );
    // Both changes are in the audit log.
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let audited = app::domain::entities::audit_event::Entity::find()
        .filter(
            app::domain::entities::audit_event::Column::Action
                .is_in(["user.disabled", "user.enabled"]),
        )
        .count(&conn)
        .await
        .unwrap();
    assert_eq!(audited, 2);
}

/// The instance key: created 0600 beside the database on first start, checked on every start
/// (a wrong or missing key stops the command with a message), and changed with
/// GATEHOUSE_SECRET_KEY_PREVIOUS, which re-seals what the outbox holds. With no SMTP server,
/// `gatehouse outbox` is how an operator finds a mailed link.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_instance_key_is_created_checked_and_rotated() {
    let db = db_url("instance-key");
    let _ = std::fs::remove_file(key_file(&db));
    let out = gatehouse(&db, &["outbox"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("The outbox is empty."),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("No SMTP server is configured"),
        "{}",
        text(&out)
    );
    let file = key_file(&db);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the key file is for the owner only");
    }
    let file_key = std::fs::read_to_string(&file).unwrap().trim().to_string();

    // Someone signs up (as the server would do it, with the key from the file): the
    // verification link waits in the outbox, sealed.
    let conn = migration::db::connect(&db).await.unwrap();
    let s = app::domain::Services::new(
        conn.clone(),
        app::domain::Settings::new("http://127.0.0.1:3000", true),
        app::domain::sealing::InstanceKey::parse(&file_key).unwrap(),
    );
    let email = app::domain::validate::Email::parse("ada@example.com").unwrap();
    let password =
        app::domain::validate::Password::parse("correct horse battery staple", None).unwrap();
    app::domain::users::sign_up(&s, &email, &password, None, &Default::default())
        .await
        .unwrap();
    let out = gatehouse(&db, &["outbox"]);
    assert!(out.status.success(), "{}", text(&out));
    let listed = text(&out);
    assert!(listed.contains("waiting  verify_email"), "{listed}");
    assert!(listed.contains("to ada@example.com"), "{listed}");
    let link = listed
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:3000/verify-email/"))
        .unwrap_or_else(|| panic!("no link listed: {listed}"))
        .to_string();
    let row = app::domain::entities::mail_outbox::Entity::find()
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !row.sealed_body
            .unwrap()
            .contains(link.rsplit('/').next().unwrap()),
        "the link is sealed at rest"
    );

    // Another key is refused before anything runs.
    let (_, other) = app::domain::sealing::InstanceKey::generate();
    let out = gatehouse_with(&db, &[("GATEHOUSE_SECRET_KEY", &other)], &["outbox"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("is not the key this database's secrets are sealed with"),
        "{}",
        text(&out)
    );
    // So is a missing key file: never a new key over sealed values.
    let moved = file.with_extension("key.bak");
    std::fs::rename(&file, &moved).unwrap();
    let out = gatehouse(&db, &["outbox"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("is missing"), "{}", text(&out));
    assert!(!file.exists(), "no new key was made");
    std::fs::rename(&moved, &file).unwrap();
    // A key that isn't one names the setting.
    let out = gatehouse_with(&db, &[("GATEHOUSE_SECRET_KEY", "short")], &["outbox"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("invalid setting GATEHOUSE_SECRET_KEY"),
        "{}",
        text(&out)
    );

    // Changing keys: the new one with the old one as PREVIOUS, once; then the new one alone.
    let out = gatehouse_with(
        &db,
        &[
            ("GATEHOUSE_SECRET_KEY", &other),
            ("GATEHOUSE_SECRET_KEY_PREVIOUS", &file_key),
        ],
        &["outbox"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&link), "{}", text(&out));
    let out = gatehouse_with(&db, &[("GATEHOUSE_SECRET_KEY", &other)], &["outbox"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&link),
        "the resealed link opens: {}",
        text(&out)
    );
    let out = gatehouse(&db, &["outbox"]);
    assert!(!out.status.success(), "the old key file no longer fits");
    let out = gatehouse(&db, &["generate-secret-key"]);
    assert!(out.status.success());
    assert!(
        app::domain::sealing::InstanceKey::parse(String::from_utf8_lossy(&out.stdout).trim())
            .is_ok()
    );
}

/// One HTTP/1.1 exchange on a fresh connection; the whole response (head and body).
fn http(port: u16, method: &str, path: &str, headers: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-length: {}\r\n{headers}\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn metrics_are_served_on_their_own_address_only() {
    let db = db_url("metrics");
    let (port, metrics_port) = (free_port(), free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("serve")
        .env("GATEHOUSE_DATABASE_URL", &db)
        .env("GATEHOUSE_BIND", format!("127.0.0.1:{port}"))
        .env(
            "GATEHOUSE_METRICS_BIND",
            format!("127.0.0.1:{metrics_port}"),
        )
        .env("GATEHOUSE_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let up = (0..100).any(|_| {
        let ok = http(port, "GET", "/readyz", "", "").starts_with("HTTP/1.1 200");
        if !ok {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        ok
    });
    assert!(up, "server did not become ready");

    // A refused bearer token and a bad token request, to be counted.
    let mcp = http(
        port,
        "POST",
        "/mcp",
        "authorization: Bearer not-a-gatehouse-token\r\ncontent-type: application/json\r\n",
        "{}",
    );
    assert!(mcp.starts_with("HTTP/1.1 401"), "{mcp}");
    let token = http(
        port,
        "POST",
        "/oauth/token",
        "content-type: application/x-www-form-urlencoded\r\n",
        "grant_type=refresh_token&refresh_token=x&client_id=nobody",
    );
    assert!(token.starts_with("HTTP/1.1 4"), "{token}");

    let public = http(port, "GET", "/metrics", "", "");
    assert!(
        public.starts_with("HTTP/1.1 404"),
        "metrics must not be on the public listener: {public}"
    );
    let scraped = http(metrics_port, "GET", "/metrics", "", "");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    assert!(scraped.starts_with("HTTP/1.1 200"), "{scraped}");
    assert!(scraped.contains("text/plain; version=0.0.4"), "{scraped}");
    let has = |name: &str, parts: &[&str]| {
        scraped
            .lines()
            .any(|l| l.starts_with(name) && parts.iter().all(|p| l.contains(p)))
    };
    assert!(
        has(
            "gatehouse_http_requests_total{",
            &["route=\"/readyz\"", "status=\"200\""]
        ),
        "{scraped}"
    );
    assert!(
        has(
            "gatehouse_http_request_duration_seconds_bucket{",
            &["route=\"/oauth/token\"", "status=\"401\""]
        ) || has(
            "gatehouse_http_request_duration_seconds_bucket{",
            &["route=\"/oauth/token\"", "status=\"400\""]
        ),
        "{scraped}"
    );
    assert!(
        has("gatehouse_denials_total{", &["reason=\"not_a_token\""]),
        "{scraped}"
    );
    assert!(has("gatehouse_db_pool_max", &[]), "{scraped}");
    assert!(has("gatehouse_mail_outbox_depth 0", &[]), "{scraped}");
}

#[test]
fn single_sign_on_is_set_up_and_removed_from_the_command_line() {
    let db = db_url("sso");
    for args in [
        &[
            "create-user",
            "--email",
            "ada@acme.example",
            "--password",
            "correct horse battery staple",
        ][..],
        &[
            "create-org",
            "--slug",
            "acme",
            "--name",
            "Acme",
            "--owner",
            "ada@acme.example",
        ],
    ] {
        let out = gatehouse(&db, args);
        assert!(out.status.success(), "{}", text(&out));
    }
    let set = |env: &[(&str, &str)], extra: &[&str]| {
        let mut args = vec![
            "set-sso",
            "--org",
            "acme",
            "--issuer",
            "https://login.acme.example",
            "--client-id",
            "gatehouse",
            "--domains",
            "acme.example",
        ];
        args.extend_from_slice(extra);
        gatehouse_with(&db, env, &args)
    };
    let no_secret = set(&[], &[]);
    assert!(!no_secret.status.success());
    assert!(
        text(&no_secret).contains("GATEHOUSE_SSO_CLIENT_SECRET"),
        "{}",
        text(&no_secret)
    );
    let secret = [("GATEHOUSE_SSO_CLIENT_SECRET", "from-the-provider")];
    let admin = set(&secret, &["--role", "admin"]);
    assert!(!admin.status.success());
    assert!(text(&admin).contains("--role"), "{}", text(&admin));
    let ok = set(&secret, &["--role", "querier", "--require"]);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(
        text(&ok).contains("/login/sso/callback"),
        "the redirect URI to register is printed: {}",
        text(&ok)
    );
    assert!(!text(&ok).contains("from-the-provider"), "{}", text(&ok));
    // A change without the secret keeps it.
    let again = set(&[], &["--disabled"]);
    assert!(again.status.success(), "{}", text(&again));

    let removed = gatehouse(&db, &["remove-sso", "--org", "acme"]);
    assert!(removed.status.success(), "{}", text(&removed));
    let twice = gatehouse(&db, &["remove-sso", "--org", "acme"]);
    assert!(!twice.status.success());
    assert!(
        text(&twice).contains("no single sign-on"),
        "{}",
        text(&twice)
    );
}
