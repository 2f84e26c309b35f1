//! `docker/Dockerfile` and `docker/docker-compose.yml` cannot be built or run on the
//! machines the tests run on (no Docker engine), so these tests read them and hold
//! them to what the rest of the project says: the binary's name (Cargo.toml), the
//! port and the variables (`.env.example`, the README), the health check
//! (`/healthz`), a self-contained binary (no libpq), a non-root user and a volume for
//! the data folder.

use std::collections::BTreeSet;
use std::path::Path;

fn read(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The Dockerfile's instructions, continuation lines joined, comments dropped:
/// `(INSTRUCTION, arguments)`.
fn instructions(dockerfile: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines() {
        let line = line.trim();
        if line.starts_with('#') || (line.is_empty() && current.is_empty()) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(line);
                let (op, args) = current.trim().split_once(char::is_whitespace).unwrap_or((current.trim(), ""));
                out.push((op.to_uppercase(), args.trim().to_string()));
                current.clear();
            }
        }
    }
    out
}

/// The instructions of the image's last stage (what runs).
fn runtime_stage(all: &[(String, String)]) -> &[(String, String)] {
    let start = all.iter().rposition(|(op, _)| op == "FROM").expect("a FROM");
    &all[start..]
}

/// The binary name Cargo builds (`[[bin]] name`).
fn binary_name() -> String {
    let toml = read("Cargo.toml");
    let bin = toml.split("[[bin]]").nth(1).expect("Cargo.toml has a [[bin]]");
    let line = bin.lines().find(|l| l.trim_start().starts_with("name")).expect("[[bin]] name");
    line.split('"').nth(1).expect("quoted name").to_string()
}

/// Variables `.env.example` documents (`# NAME=…` or `NAME=…`).
fn documented_variables() -> BTreeSet<String> {
    read(".env.example")
        .lines()
        .filter_map(|l| {
            let l = l.trim_start_matches('#').trim();
            let (name, _) = l.split_once('=')?;
            (!name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit()))
                .then(|| name.to_string())
        })
        .collect()
}

/// The port of `.env.example`'s default `QUALEAD_BIND`.
fn default_port() -> String {
    let example = read(".env.example");
    let line = example.lines().find(|l| l.contains("QUALEAD_BIND=")).expect("QUALEAD_BIND in .env.example");
    line.rsplit(':').next().expect("a port").trim().to_string()
}

/// The `environment:` keys of one compose service.
fn compose_environment(compose: &str, service: &str) -> BTreeSet<String> {
    let mut in_service = false;
    let mut in_env = false;
    let mut keys = BTreeSet::new();
    for line in compose.lines() {
        let indent = line.len() - line.trim_start().len();
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        if indent == 2 {
            in_service = text == format!("{service}:");
            in_env = false;
        } else if in_service && indent == 4 {
            in_env = text == "environment:";
        } else if in_service
            && in_env
            && indent == 6
            && let Some((key, _)) = text.split_once(':')
        {
            keys.insert(key.trim().to_string());
        }
    }
    keys
}

#[test]
fn the_image_runs_the_self_contained_binary_as_a_user() {
    let all = instructions(&read("docker/Dockerfile"));
    let stages = all.iter().filter(|(op, _)| op == "FROM").count();
    assert!(stages >= 2, "a multi-stage build: a build stage and a slim runtime image");
    let runtime = runtime_stage(&all);
    let from = &runtime[0].1;
    assert!(from.contains("slim") || from.contains("distroless"), "a slim runtime image, not {from}");

    let bin = binary_name();
    assert!(
        all.iter().any(|(op, args)| op == "RUN" && args.contains("cargo build --release --locked")),
        "the build stage builds what `cargo run --release` builds, with the lock file"
    );
    let entry = runtime.iter().find(|(op, _)| op == "ENTRYPOINT").expect("an ENTRYPOINT");
    assert!(entry.1.contains(&format!("/{bin}\"")), "the entry point runs the `{bin}` binary: {}", entry.1);
    assert!(
        runtime.iter().any(|(op, args)| op == "COPY" && args.contains("--from=") && args.ends_with(&format!("/{bin}"))),
        "the runtime stage copies the `{bin}` binary from the build stage"
    );

    let user = runtime.iter().rfind(|(op, _)| op == "USER").expect("a USER: the server does not run as root");
    assert!(!matches!(user.1.as_str(), "root" | "0" | "0:0"), "USER {}", user.1);

    // Self-contained: the binary links no libpq, so neither stage installs one.
    for (_, run) in all.iter().filter(|(op, _)| op == "RUN") {
        assert!(!run.contains("libpq"), "libpq is built from source (pq-sys bundled), none installed: {run}");
    }
}

#[test]
fn port_health_check_and_data_volume_match_the_configuration() {
    let all = instructions(&read("docker/Dockerfile"));
    let runtime = runtime_stage(&all);
    let port = default_port();
    let env: String =
        runtime.iter().filter(|(op, _)| op == "ENV").map(|(_, a)| a.as_str()).collect::<Vec<_>>().join(" ");

    assert!(env.contains(&format!("QUALEAD_BIND=0.0.0.0:{port}")), "the container listens on every interface: {env}");
    assert!(
        runtime.iter().any(|(op, args)| op == "EXPOSE" && args.split_whitespace().any(|p| p == port)),
        "EXPOSE {port}"
    );
    let health = runtime.iter().find(|(op, _)| op == "HEALTHCHECK").expect("a HEALTHCHECK");
    assert!(health.1.contains(&format!(":{port}/healthz")), "the health check asks /healthz: {}", health.1);

    let data_dir = env
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix("QUALEAD_DATA_DIR="))
        .expect("QUALEAD_DATA_DIR set in the image");
    let volume = runtime.iter().find(|(op, _)| op == "VOLUME").expect("a VOLUME for the data folder");
    assert!(volume.1.contains(data_dir), "VOLUME {} is the data folder {data_dir}", volume.1);

    // Every variable the image sets is one Qualead documents.
    let documented = documented_variables();
    for kv in env.split_whitespace() {
        let name = kv.split('=').next().unwrap_or_default();
        assert!(documented.contains(name), "{name} (set in the Dockerfile) is not in .env.example");
    }

    // The compose file publishes the same port and keeps data in a named volume there.
    let compose = read("docker/docker-compose.yml");
    assert!(compose.contains(&format!(":{port}\"")), "compose publishes the container's port {port}");
    assert!(compose.contains(&format!(":{data_dir}")), "compose mounts a volume at {data_dir}");
}

#[test]
fn compose_runs_qualead_with_postgresql_and_documented_variables() {
    let compose = read("docker/docker-compose.yml");
    let documented = documented_variables();
    let env = compose_environment(&compose, "qualead");
    assert!(env.contains("DATABASE_URL"), "compose points Qualead at its PostgreSQL: {env:?}");
    for name in &env {
        assert!(documented.contains(name), "{name} (set in docker-compose.yml) is not in .env.example");
    }
    assert!(compose.contains("image: postgres:"), "a PostgreSQL service");
    let url =
        compose.lines().find_map(|l| l.trim().strip_prefix("DATABASE_URL:")).expect("DATABASE_URL").trim().to_string();
    let db_env = compose_environment(&compose, "db");
    assert!(db_env.contains("POSTGRES_USER") && db_env.contains("POSTGRES_DB"), "{db_env:?}");
    assert!(url.starts_with("postgres://") && url.contains("@db:5432/"), "Qualead reaches the db service: {url}");
    assert!(!url.contains("sslmode=require"), "the default build's libpq has no TLS: {url}");

    // The README tells a reader how to start it.
    let readme = read("README.md");
    assert!(readme.contains("docker compose -f docker/docker-compose.yml up"), "README: how to start the compose file");
}

#[test]
fn the_readme_keeps_two_commands_and_names_each_suite() {
    let readme = read("README.md");
    for command in [
        "cargo run --release",
        "cargo test",
        "cargo test -- --ignored postgres::",
        "cargo test --test browser -- --ignored",
        "bash .ci/schemathesis",
    ] {
        assert!(readme.contains(&format!("\n{command}\n")), "README has the command `{command}` on its own line");
    }
    let ci = read(".ci/run");
    for needle in
        ["--ignored postgres::", "--test browser -- --ignored", "ldd", "QUALEAD_CHROMIUM=", ".ci/schemathesis"]
    {
        assert!(ci.contains(needle), ".ci/run runs `{needle}`");
    }
}
