//! The real `qualead` binary: `user create --api-key`, `user api-key`, `migrate`, bad configuration,
//! and a graceful stop on SIGTERM.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Backend, TestDb};
use reqwest::StatusCode;

fn qualead(db_url: &str, data_dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qualead"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db_url)
        .env("QUALEAD_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn")
        .current_dir(data_dir);
    cmd
}

async fn user_create_prints_a_working_api_key(backend: Backend) {
    let db = TestDb::new(backend);
    let data = tempfile::tempdir().expect("tmp");
    let out = qualead(&db.url, data.path())
        .args(["user", "create", "--role", "admin", "--email", "a@x.io", "--password", "S3cure-pass!", "--api-key"])
        .output()
        .expect("run qualead");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let key = String::from_utf8(out.stdout).expect("utf8").trim().to_string();
    assert!(key.starts_with("qlk_"), "stdout is the key alone: {key:?}");

    // The same address again is refused with a clear message.
    let again = qualead(&db.url, data.path())
        .args(["user", "create", "--role", "admin", "--email", "A@x.io", "--password", "S3cure-pass!"])
        .output()
        .expect("run qualead");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let app = common::spawn_on(db, backend, &[]).await;
    let me = reqwest::Client::new().get(app.url("/api/v1/me")).bearer_auth(&key).send().await.expect("me");
    assert_eq!(me.status(), StatusCode::OK);
    let body: serde_json::Value = me.json().await.expect("json");
    assert_eq!((body["email"].as_str(), body["role"].as_str()), (Some("a@x.io"), Some("admin")));
    // The CLI's account can log in to the web UI at once (active and verified).
    let c = common::new_client();
    assert_eq!(app.login(&c, "a@x.io", "S3cure-pass!").await.status(), StatusCode::SEE_OTHER);
}

/// `user api-key` gives an existing account (a demo login, say) a key of its own.
async fn user_api_key_prints_a_key_for_an_existing_account(backend: Backend) {
    let db = TestDb::new(backend);
    let data = tempfile::tempdir().expect("tmp");
    let out = qualead(&db.url, data.path())
        .args(["user", "create", "--role", "publisher", "--email", "p@x.io", "--password", "S3cure-pass!"])
        .output()
        .expect("run qualead");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty(), "no key without --api-key");

    let out = qualead(&db.url, data.path())
        .args(["user", "api-key", "--email", "P@x.io", "--name", "ci"])
        .output()
        .expect("run qualead");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let key = String::from_utf8(out.stdout).expect("utf8").trim().to_string();
    assert!(key.starts_with("qlk_"), "stdout is the key alone: {key:?}");

    // No such account: a clear message naming the option, no key.
    let missing = qualead(&db.url, data.path())
        .args(["user", "api-key", "--email", "nobody@x.io"])
        .output()
        .expect("run qualead");
    assert!(!missing.status.success());
    assert!(missing.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("--email"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );

    let app = common::spawn_on(db, backend, &[]).await;
    let me = reqwest::Client::new().get(app.url("/api/v1/me")).bearer_auth(&key).send().await.expect("me");
    assert_eq!(me.status(), StatusCode::OK);
    let body: serde_json::Value = me.json().await.expect("json");
    assert_eq!((body["email"].as_str(), body["role"].as_str()), (Some("p@x.io"), Some("publisher")));
}

both_backends!(user_create_prints_a_working_api_key, user_api_key_prints_a_key_for_an_existing_account);

#[test]
fn bad_configuration_stops_with_one_line_naming_the_variable() {
    let data = tempfile::tempdir().expect("tmp");
    let out = qualead("sqlite://db.sqlite", data.path())
        .env("QUALEAD_PLATFORM_FEE_BPS", "twenty")
        .arg("migrate")
        .output()
        .expect("run qualead");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("QUALEAD_PLATFORM_FEE_BPS"), "{stderr}");
    assert!(!data.path().join("db.sqlite").exists(), "nothing was created");
}

#[test]
fn migrate_creates_the_sqlite_database_under_data() {
    let data = tempfile::tempdir().expect("tmp");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qualead"));
    cmd.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).current_dir(data.path()).arg("migrate");
    let out = cmd.output().expect("run qualead");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(data.path().join("data/qualead.db").exists(), "the default database is data/qualead.db");
    assert!(data.path().join("data/secret.key").exists(), "a secret key is generated on first run");
}

#[test]
fn serves_with_no_configuration_and_stops_on_sigterm() {
    let data = tempfile::tempdir().expect("tmp");
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_qualead"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("QUALEAD_BIND", format!("127.0.0.1:{port}"))
        .current_dir(data.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start qualead");
    let url = format!("http://127.0.0.1:{port}/signup");
    let client = reqwest::blocking::Client::new();
    let mut page = None;
    for _ in 0..200 {
        if let Ok(r) = client.get(&url).send() {
            page = Some((r.status(), r.text().unwrap_or_default()));
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, body) = page.expect("the sign-up page is served");
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Create your account"));

    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(kill.success());
    let mut exited = None;
    for _ in 0..300 {
        if let Some(s) = child.try_wait().expect("wait") {
            exited = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = exited.expect("the server exits after SIGTERM");
    assert!(status.success(), "graceful exit, got {status:?}");
    let mut stderr = String::new();
    use std::io::Read;
    child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("read");
    assert!(stderr.contains("stopped cleanly"), "{stderr}");
}
