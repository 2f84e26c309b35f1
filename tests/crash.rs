//! Durability: under load, `kill -9` the real server binary, start it again on the
//! same database, and find every click that got a 302 and every conversion that
//! got a 2xx.

// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;
/// The real binary started and awaited as the benchmarks do.
#[path = "../benches/support/mod.rs"]
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Backend, TestDb};
use qualead::store::{clicks, leads, ledger};
use support::{start_qualead, wait_healthy};

async fn clicks_and_conversions_survive_kill_9(backend: Backend) {
    let db = TestDb::new(backend);
    let data = tempfile::tempdir().expect("tmp");
    {
        let pool = qualead::db::connect(&db.url, 1).expect("pool");
        qualead::db::migrate(&mut pool.get().expect("conn")).expect("migrate");
    }
    let body = qualead::domain::offer::OfferBody {
        name: "Crash".into(),
        category: "home".into(),
        landing_url: "https://land.example/?c={click_id}".into(),
        payout_model: "cpl".into(),
        price: Some("1.00".into()),
        ..Default::default()
    };
    let seeded = common::Market::of(&body).deposit(1_000_000_00).seed(&db.url);
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let mut server = start_qualead(&db.url, data.path(), port, &[]);
    wait_healthy(port).await;

    let redirected: Arc<Mutex<Vec<String>>> = Arc::default();
    let converted: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let url = format!("http://127.0.0.1:{port}/c/{}", seeded.token);
    let postback =
        format!("http://127.0.0.1:{port}/postback?token={}&email=ann%40example.org&click_id=", seeded.postback_token);
    let workers: Vec<_> = (0..32)
        .map(|n| {
            let (client, url, postback) = (client.clone(), url.clone(), postback.clone());
            let (redirected, converted) = (redirected.clone(), converted.clone());
            tokio::spawn(async move {
                // Click (and every other worker converts its click) until the server is gone.
                while let Ok(r) = client.get(&url).send().await {
                    let Some(id) = r
                        .headers()
                        .get("location")
                        .and_then(|v| v.to_str().ok())
                        .filter(|_| r.status() == reqwest::StatusCode::FOUND)
                        .map(|loc| loc.rsplit("c=").next().unwrap_or_default().to_string())
                    else {
                        continue;
                    };
                    redirected.lock().expect("lock").push(id.clone());
                    if n % 2 == 1 {
                        let Ok(r) = client.get(format!("{postback}{id}")).send().await else { break };
                        if r.status().is_success()
                            && let Ok(v) = r.json::<serde_json::Value>().await
                            && let Some(lead_id) = v["lead_id"].as_i64()
                        {
                            converted.lock().expect("lock").push((lead_id, id));
                        }
                    }
                }
            })
        })
        .collect();
    // Let load build up, then pull the plug mid-stream.
    for waited in 0.. {
        if redirected.lock().expect("lock").len() >= 1500 && converted.lock().expect("lock").len() >= 300 {
            break;
        }
        assert!(waited < 3000, "the server stopped before 1500 clicks and 300 conversions");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill().expect("SIGKILL");
    server.wait().expect("reaped");
    for w in workers {
        w.await.expect("worker");
    }
    let ids = redirected.lock().expect("lock").clone();
    assert!(ids.len() >= 1500);

    // Start again on the same database: it opens cleanly and holds every click.
    let mut again = start_qualead(&db.url, data.path(), port, &[]);
    wait_healthy(port).await;
    let pool = qualead::db::connect(&db.url, 1).expect("pool");
    let mut conn = pool.get().expect("conn");
    let stored = clicks::count(&mut conn).expect("count");
    let missing: Vec<&String> = ids.iter().filter(|id| clicks::find(&mut conn, id).expect("query").is_none()).collect();
    assert!(
        missing.is_empty(),
        "{} of {} redirected clicks are missing, e.g. {:?}",
        missing.len(),
        ids.len(),
        missing.first()
    );
    assert!(stored >= ids.len() as i64);
    let conversions = converted.lock().expect("lock").clone();
    for (lead_id, click_id) in &conversions {
        let lead = leads::find(&mut conn, *lead_id).expect("query");
        assert_eq!(
            lead.and_then(|l| l.row.click_id),
            Some(click_id.clone()),
            "conversion {lead_id} got a 2xx and must be stored"
        );
    }
    let health = ledger::health(&mut conn).expect("health");
    assert!(health.balanced, "{health:?}");
    again.kill().expect("stop");
    let _ = again.wait();
}

both_backends!(clicks_and_conversions_survive_kill_9);
