//! The OpenAPI document at `/api/v1/openapi.json` and the routes agree: every
//! documented operation exists on the server and asks for an API key, and every
//! route the API registers is documented.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use qualead::app::Application;
use qualead::config::Config;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// Every route registered under `/api/v1` in `src/api/mod.rs`, `src/api/offers.rs`, `src/api/leads.rs`
/// and `src/api/money.rs`.
const REGISTERED: &[(&str, &str)] = &[
    ("get", "/me"),
    ("get", "/openapi.json"),
    ("post", "/offers"),
    ("get", "/offers"),
    ("get", "/offers/{id}"),
    ("patch", "/offers/{id}"),
    ("post", "/offers/{id}/submit"),
    ("post", "/offers/{id}/join"),
    ("get", "/offers/{id}/publishers"),
    ("post", "/offers/{id}/publishers/{publisher_id}/approve"),
    ("post", "/offers/{id}/publishers/{publisher_id}/reject"),
    ("post", "/admin/offers/{id}/approve"),
    ("post", "/admin/offers/{id}/reject"),
    ("get", "/admin/offers/{id}/revisions"),
    ("post", "/admin/offers/{id}/revisions/{rev}/approve"),
    ("post", "/admin/offers/{id}/revisions/{rev}/reject"),
    ("post", "/leads"),
    ("post", "/leads/status"),
    ("get", "/leads"),
    ("get", "/leads/{id}"),
    ("post", "/leads/{id}/approve"),
    ("post", "/leads/{id}/reject"),
    ("post", "/leads/{id}/return"),
    ("post", "/leads/{id}/contest"),
    ("get", "/admin/disputes"),
    ("post", "/admin/disputes/{id}/rule"),
    ("get", "/balance"),
    ("get", "/statement"),
    ("post", "/payouts"),
    ("get", "/payouts"),
    ("post", "/payouts/{id}/cancel"),
    ("post", "/admin/payouts/{id}/paid"),
    ("post", "/admin/deposits"),
    ("get", "/admin/ledger/health"),
    ("post", "/admin/settle"),
    ("get", "/stats"),
    ("get", "/offers/{id}/webhooks"),
    ("post", "/offers/{id}/webhooks"),
    ("patch", "/offers/{id}/webhooks/{wid}"),
    ("delete", "/offers/{id}/webhooks/{wid}"),
    ("get", "/offers/{id}/webhooks/{wid}/deliveries"),
    ("post", "/offers/{id}/webhooks/{wid}/deliveries/{did}/replay"),
];

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// A server on a free port with its own SQLite database; the temp dir lives as long as the guard.
async fn spawn_app() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let vars: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", format!("sqlite://{}", dir.path().join("q.db").display())),
        ("QUALEAD_BIND", "127.0.0.1:0".to_string()),
        ("QUALEAD_DATA_DIR", dir.path().display().to_string()),
        ("QUALEAD_SECRET_KEY", "7a".repeat(64)),
        ("QUALEAD_WORKERS", "1".to_string()),
    ]);
    let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("valid test configuration");
    let app = Application::build(config).await.expect("the server starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    (address, dir)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// Every `(method, path, operation)` of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let paths = doc["paths"].as_object().expect("paths is an object");
    let mut out = Vec::new();
    for (path, item) in paths {
        let item = item.as_object().expect("a path item is an object");
        for (method, op) in item {
            if METHODS.contains(&method.as_str()) {
                out.push((method.clone(), path.clone(), op.clone()));
            }
        }
    }
    out
}

/// Every `$ref` in `v` that points into the document itself.
fn local_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => local_refs(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| local_refs(v, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_and_the_routes_agree() {
    let (address, _dir) = spawn_app().await;
    let http = client();

    // Served without an API key, as JSON.
    let res = http.get(format!("{address}/api/v1/openapi.json")).send().await.expect("GET openapi.json");
    assert_eq!(res.status(), StatusCode::OK);
    let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(content_type.starts_with("application/json"), "content type {content_type}");
    let text = res.text().await.expect("body");
    let doc: Value = serde_json::from_str(&text).expect("the document is JSON");
    let version = doc["openapi"].as_str().expect("openapi is a string");
    assert!(version.starts_with("3."), "openapi {version}");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string(), "info: {}", doc["info"]);
    let server = doc["servers"][0]["url"].as_str().expect("servers[0].url").to_string();
    assert!(server.ends_with("/api/v1"), "servers[0].url = {server}");
    assert_eq!(server, format!("{address}/api/v1"), "the server's own address");

    // Bearer keys, required everywhere unless an operation says otherwise.
    let scheme = &doc["components"]["securitySchemes"]["bearerAuth"];
    assert_eq!((scheme["type"].as_str(), scheme["scheme"].as_str()), (Some("http"), Some("bearer")), "{scheme}");
    assert_eq!(doc["security"], serde_json::json!([{ "bearerAuth": [] }]));

    // Every internal reference resolves.
    let mut refs = Vec::new();
    local_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in &refs {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("{r} is not a local reference"));
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }

    // A path that is not an API route is 404 without a key, so a 401 below means the route exists.
    let res = http.get(format!("{server}/no-such-route")).send().await.expect("GET unknown route");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body: Value = res.json().await.expect("JSON error");
    assert_eq!(body["error"], "not_found");

    // Every documented operation exists and needs a key.
    let ops = operations(&doc);
    let mut ids = BTreeSet::new();
    let param = regex::Regex::new(r"\{[^/{}]+\}").expect("regex");
    for (method, path, op) in &ops {
        let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(ids.insert(id.to_string()), "operationId {id} is used twice");
        assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path} lists no responses");
        let public = op.get("security") == Some(&serde_json::json!([]));

        let url = format!("{server}{}", param.replace_all(path, "1"));
        let verb = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let res = http.request(verb, &url).send().await.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = res.status();
        if public {
            assert_eq!(path, "/openapi.json", "only the document itself is public");
            assert_eq!(status, StatusCode::OK, "{method} {path}");
            continue;
        }
        assert!(op["responses"].get("401").is_some(), "{method} {path} does not document 401");
        let body = res.text().await.unwrap_or_default();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} without a key: {body}");
        let json: Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {body}"));
        assert_eq!(json["error"], "unauthorized", "{method} {path}: {json}");
        assert!(json["message"].is_string(), "{method} {path}: {json}");
    }

    // Every registered route is documented.
    let documented: BTreeSet<(String, String)> = ops.iter().map(|(m, p, _)| (m.clone(), p.clone())).collect();
    for (method, path) in REGISTERED {
        assert!(
            documented.contains(&(method.to_string(), path.to_string())),
            "{} {path} is registered but not documented",
            method.to_uppercase()
        );
    }
    assert_eq!(
        documented.len(),
        REGISTERED.len(),
        "the document has operations the server does not register: {documented:?}"
    );
}
