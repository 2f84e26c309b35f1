//! Accounts against a real server: sign-up, verification, log in / out, password
//! reset, CSRF, role guards, API keys, admin approval, rate limits.

mod common;

use common::{Backend, PASSWORD, link_in, new_client, spawn_app, spawn_app_with};
use reqwest::StatusCode;

fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.cookies().find(|c| c.name() == "qualead_session").map(|c| c.value().to_string())
}

async fn signup_verify_login_logout(backend: Backend) {
    let app = spawn_app(backend).await;
    let c = new_client();

    let (status, page) = app.get_text(&c, "/signup").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Create your account"));

    let r = app.signup(&c, "advertiser", "Ann@Example.com ").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.expect("body").contains("ann@example.com"), "the address is normalised");

    // Not verified yet: log-in is refused with a way to resend the link.
    let r = app.login(&c, "ann@example.com", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.expect("body").contains("Confirm your e-mail"));

    let mail = app.wait_for_email("ann@example.com", "/verify-email").await;
    assert!(mail.contains("Subject: Confirm your e-mail address for Qualead"));
    assert!(
        mail.contains("Content-Type: text/plain") && mail.contains("Content-Type: text/html"),
        "both parts:\n{mail}"
    );
    let link = link_in(&mail, "/verify-email");
    assert!(link.starts_with(&app.address), "links use the server's address: {link}");
    let r = c.get(&link).send().await.expect("verify");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.expect("body").contains("E-mail confirmed"));
    // The link works once.
    assert_eq!(c.get(&link).send().await.expect("again").status(), StatusCode::BAD_REQUEST);

    // Log in with a fresh browser: the session id changes at log-in, and the id the
    // browser held before (one an attacker could have planted) is worth nothing after.
    let c = new_client();
    let before = app.get_with(&c, "/login").await;
    let planted = session_cookie(&before).expect("a visitor gets a session for the CSRF token");
    let r = app.login(&c, "ANN@example.com", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/advertiser");
    let rotated = session_cookie(&r).expect("log-in sets a new session cookie");
    assert_ne!(rotated, planted);
    let with_planted = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(app.url("/advertiser"))
        .header("cookie", format!("qualead_session={planted}"))
        .send()
        .await
        .expect("GET");
    assert_eq!(with_planted.status(), StatusCode::SEE_OTHER, "the pre-login session is not logged in");

    let (status, page) = app.get_text(&c, "/advertiser").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Welcome, Test Person") && page.contains("ann@example.com"));

    let (_, page) = app.get_text(&c, "/advertiser").await;
    let token = common::csrf_of(&page);
    let r = app.post_form(&c, "/logout", &[("csrf_token", &token)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app.get_with(&c, "/advertiser").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?next=%2Fadvertiser");
}

async fn wrong_password_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("publisher", "pub@example.com");
    let c = new_client();
    let r = app.login(&c, "pub@example.com", "not-the-password").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body = r.text().await.expect("body");
    assert!(body.contains("Wrong e-mail or password."));
    assert!(!body.contains("not-the-password"), "the password is never echoed");
    // An unknown account gets the very same answer.
    let r = app.login(&c, "nobody@example.com", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.get_with(&c, "/publisher").await.status(), StatusCode::SEE_OTHER);
}

async fn forms_without_csrf_are_rejected(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("publisher", "pub@example.com");
    let c = new_client();
    let _ = app.get_with(&c, "/login").await; // a session exists, with a token
    let r = app.post_form(&c, "/login", &[("email", "pub@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get_with(&c, "/publisher").await.status(), StatusCode::SEE_OTHER, "not logged in");

    let r = app
        .post_form(
            &c,
            "/signup",
            &[
                ("role", "advertiser"),
                ("email", "new@example.com"),
                ("password", PASSWORD),
                ("display_name", "X"),
                ("csrf_token", "forged"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Nothing was stored: the address is still free.
    assert_eq!(app.signup(&c, "advertiser", "new@example.com").await.status(), StatusCode::OK);

    // A token from another visitor's session is worthless.
    let other = new_client();
    let (_, page) = app.get_text(&other, "/login").await;
    let foreign = common::csrf_of(&page);
    let r = app
        .post_form(&c, "/login", &[("email", "pub@example.com"), ("password", PASSWORD), ("csrf_token", &foreign)])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

async fn roles_are_guarded(backend: Backend) {
    let app = spawn_app(backend).await;
    let publisher = app.login_as("publisher", "pub@example.com").await;
    assert_eq!(app.get_with(&publisher, "/publisher").await.status(), StatusCode::OK);
    for page in ["/advertiser", "/admin", "/admin/users", "/admin/audit"] {
        let r = app.get_with(&publisher, page).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{page}");
        assert!(r.text().await.expect("body").contains("Not allowed"));
    }
    let advertiser = app.login_as("advertiser", "adv@example.com").await;
    assert_eq!(app.get_with(&advertiser, "/publisher").await.status(), StatusCode::FORBIDDEN);
    let admin = app.login_as("admin", "admin@example.com").await;
    for page in ["/admin", "/admin/users", "/admin/audit"] {
        assert_eq!(app.get_with(&admin, page).await.status(), StatusCode::OK, "{page}");
    }
    // A visitor is sent to log in.
    assert_eq!(app.get_with(&new_client(), "/admin").await.status(), StatusCode::SEE_OTHER);
}

async fn api_keys_authenticate_and_revoke(backend: Backend) {
    let app = spawn_app(backend).await;
    let c = app.login_as("advertiser", "adv@example.com").await;
    let r = app.submit(&c, "/account", "/account/api-keys", &[("name", "CRM")]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.expect("body");
    let key = regex::Regex::new(r#"id="new-key">(qlk_[A-Za-z0-9_\-]+)<"#)
        .expect("regex")
        .captures(&page)
        .map(|c| c[1].to_string())
        .expect("the new key is shown once");

    let api = reqwest::Client::new();
    let me = api.get(app.url("/api/v1/me")).bearer_auth(&key).send().await.expect("me");
    assert_eq!(me.status(), StatusCode::OK);
    let body: serde_json::Value = me.json().await.expect("json");
    assert_eq!(body["email"], "adv@example.com");
    assert_eq!(body["role"], "advertiser");
    assert!(body["id"].as_i64().is_some());

    for bad in [None, Some("qlk_wrong"), Some("")] {
        let mut req = api.get(app.url("/api/v1/me"));
        if let Some(k) = bad {
            req = req.bearer_auth(k);
        }
        let r = req.send().await.expect("me");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let body: serde_json::Value = r.json().await.expect("json error");
        assert_eq!(body["error"], "unauthorized");
    }
    // A session cookie is not an API credential.
    assert_eq!(app.get_with(&c, "/api/v1/me").await.status(), StatusCode::UNAUTHORIZED);

    // Revoke it from the account page.
    let (_, page) = app.get_text(&c, "/account").await;
    assert!(page.contains("CRM") && !page.contains(&key), "the key is not shown again");
    let id =
        regex::Regex::new(r#"/account/api-keys/(\d+)/revoke"#).expect("regex").captures(&page).expect("revoke form")[1]
            .to_string();
    let r = app.submit(&c, "/account", &format!("/account/api-keys/{id}/revoke"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = api.get(app.url("/api/v1/me")).bearer_auth(&key).send().await.expect("me");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Unknown API paths answer JSON, not an HTML page.
    let r = api.get(app.url("/api/v1/nope")).bearer_auth(&key).send().await.expect("nope");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.json::<serde_json::Value>().await.expect("json")["error"], "not_found");
}

async fn password_reset_by_email(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("publisher", "pub@example.com");
    let old_session = app.login_as_existing("pub@example.com").await;

    let c = new_client();
    let r = app.submit(&c, "/password/forgot", "/password/forgot", &[("email", "pub@example.com")]).await;
    assert_eq!(r.status(), StatusCode::OK);
    // Unknown addresses get the same answer and no e-mail.
    let r = app.submit(&c, "/password/forgot", "/password/forgot", &[("email", "ghost@example.com")]).await;
    assert_eq!(r.status(), StatusCode::OK);

    let mail = app.wait_for_email("pub@example.com", "/password/reset").await;
    let link = link_in(&mail, "/password/reset");
    let page = c.get(&link).send().await.expect("reset form").text().await.expect("body");
    let token = link.rsplit("token=").next().expect("token").to_string();
    let csrf = common::csrf_of(&page);
    let r = app
        .post_form(
            &c,
            "/password/reset",
            &[("token", &token), ("password", "short"), ("password_confirm", "short"), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let new_password = "An0ther-secret!";
    let r = app
        .post_form(
            &c,
            "/password/reset",
            &[("token", &token), ("password", new_password), ("password_confirm", new_password), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The link is used up, the old session has ended, the old password is gone.
    assert_eq!(c.get(&link).send().await.expect("again").status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.get_with(&old_session, "/publisher").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.login(&new_client(), "pub@example.com", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.login(&new_client(), "pub@example.com", new_password).await.status(), StatusCode::SEE_OTHER);
    assert!(app.emails().iter().all(|m| !m.contains("To: ghost@example.com")));
}

async fn admin_approval_and_suspension(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login_as("admin", "admin@example.com").await;
    let r = app.submit(&admin, "/admin/users", "/admin/settings", &[("require_account_approval", "true")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let c = new_client();
    assert_eq!(app.signup(&c, "publisher", "wait@example.com").await.status(), StatusCode::OK);
    let mail = app.wait_for_email("wait@example.com", "/verify-email").await;
    let verified = c.get(link_in(&mail, "/verify-email")).send().await.expect("verify").text().await.expect("body");
    assert!(verified.contains("An administrator reviews new accounts"));
    let r = app.login(&c, "wait@example.com", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.expect("body").contains("waiting for an administrator"));

    let (_, page) = app.get_text(&admin, "/admin/users?status=pending_approval").await;
    assert!(page.contains("wait@example.com"));
    let id = regex::Regex::new(r#"/admin/users/(\d+)/status"#).expect("regex").captures(&page).expect("approve form")
        [1]
    .to_string();
    let r = app.submit(&admin, "/admin/users", &format!("/admin/users/{id}/status"), &[("status", "active")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    app.wait_for_email("wait@example.com", "Your Qualead account is active").await;
    assert_eq!(app.login(&c, "wait@example.com", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get_with(&c, "/publisher").await.status(), StatusCode::OK);

    // Suspension ends the session at once.
    let r = app.submit(&admin, "/admin/users", &format!("/admin/users/{id}/status"), &[("status", "suspended")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get_with(&c, "/publisher").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.login(&new_client(), "wait@example.com", PASSWORD).await.status(), StatusCode::FORBIDDEN);

    // Each admin action is in the audit log.
    let (_, audit) = app.get_text(&admin, "/admin/audit").await;
    for action in ["settings.update", "user.activate", "user.suspend"] {
        assert!(audit.contains(action), "{action} in audit log");
    }
}

async fn admins_create_admins(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login_as("admin", "root@example.com").await;
    let r = app
        .submit(
            &admin,
            "/admin/users",
            "/admin/users",
            &[("email", "bad"), ("display_name", "Second"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.expect("body");
    assert!(
        page.contains("Enter a valid e-mail address.") && page.contains("value=\"Second\""),
        "errors inline, input kept"
    );
    let r = app
        .submit(
            &admin,
            "/admin/users",
            "/admin/users",
            &[("email", "second@example.com"), ("display_name", "Second"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let second = new_client();
    assert_eq!(app.login(&second, "second@example.com", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get_with(&second, "/admin").await.status(), StatusCode::OK);
}

async fn signup_errors_are_shown_inline(backend: Backend) {
    let app = spawn_app(backend).await;
    let c = new_client();
    let r = app
        .signup_form(
            &c,
            &[("role", "admin"), ("email", "not-an-email"), ("password", "short"), ("display_name", "Keep Me")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.expect("body");
    for msg in ["Choose advertiser or publisher.", "Enter an e-mail address like", "Use at least 10 characters."] {
        assert!(page.contains(msg), "{msg}");
    }
    assert!(page.contains("value=\"Keep Me\"") && page.contains("value=\"not-an-email\""), "typed input is kept");
    // Nobody can sign up as an admin, and a taken address is refused.
    app.create_user("publisher", "taken@example.com");
    let r = app.signup(&c, "publisher", "taken@example.com").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.expect("body").contains("already exists"));
}

async fn login_is_rate_limited(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("publisher", "pub@example.com");
    let c = new_client();
    let mut statuses = vec![];
    for _ in 0..12 {
        statuses.push(app.login(&c, "pub@example.com", "wrong-password").await.status());
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count(), 10);
    assert_eq!(*statuses.last().expect("last"), StatusCode::TOO_MANY_REQUESTS);
    // Even the right password waits now: guessing cannot continue.
    assert_eq!(app.login(&c, "pub@example.com", PASSWORD).await.status(), StatusCode::TOO_MANY_REQUESTS);
}

async fn operations_endpoints_and_headers(backend: Backend) {
    let app = spawn_app(backend).await;
    let r = app.get("/healthz").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<serde_json::Value>().await.expect("json")["database"], "ok");

    let r = app.get("/").await;
    for h in ["content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy"] {
        assert!(r.headers().contains_key(h), "{h}");
    }
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap_or("").to_string())
        .collect::<Vec<_>>()
        .join(";");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");

    let r = app.get("/no/such/page").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.expect("body").contains("Page not found"));

    let r = app.get("/static/app.css").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().expect("ct").starts_with("text/css"));

    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    assert!(metrics.contains("qualead_http_requests_total"), "{metrics}");
    assert!(metrics.contains("qualead_email_queue_pending"));
}

impl common::TestApp {
    async fn login_as_existing(&self, email: &str) -> reqwest::Client {
        let c = new_client();
        assert_eq!(self.login(&c, email, PASSWORD).await.status(), StatusCode::SEE_OTHER);
        c
    }
}

/// Sign-up e-mails go through a real SMTP conversation when `QUALEAD_SMTP_URL` is set.
async fn email_through_real_smtp(backend: Backend) {
    let (sink, port) = common::smtp::SmtpSink::start().await;
    let url = format!("smtp://127.0.0.1:{port}");
    let app =
        spawn_app_with(backend, &[("QUALEAD_SMTP_URL", &url), ("QUALEAD_MAIL_FROM", "Qualead <noreply@qualead.test>")])
            .await;
    let c = new_client();
    assert_eq!(app.signup(&c, "publisher", "smtp@example.com").await.status(), StatusCode::OK);
    let mut got = None;
    for _ in 0..150 {
        if let Some(m) = sink.received().into_iter().find(|m| m.to.iter().any(|t| t.contains("smtp@example.com"))) {
            got = Some(m);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let m = got.expect("the SMTP server received the verification e-mail");
    assert_eq!(m.from, "<noreply@qualead.test>");
    assert!(m.commands.iter().any(|c| c.starts_with("EHLO")), "{:?}", m.commands);
    let data = common::decode_qp(&m.data);
    assert!(data.contains("Subject: Confirm your e-mail address for Qualead"));
    let link = link_in(&data, "/verify-email");
    assert_eq!(c.get(link).send().await.expect("verify").status(), StatusCode::OK);
    assert!(app.emails().is_empty(), "no .eml files when SMTP is configured");
}

both_backends!(
    signup_verify_login_logout,
    wrong_password_is_refused,
    forms_without_csrf_are_rejected,
    roles_are_guarded,
    api_keys_authenticate_and_revoke,
    password_reset_by_email,
    admin_approval_and_suspension,
    admins_create_admins,
    signup_errors_are_shown_inline,
    login_is_rate_limited,
    operations_endpoints_and_headers,
    email_through_real_smtp,
);
