//! Where a click comes from and what an offer buys (DESIGN §4, §5): the country from
//! a trusted header or else the geolocation database, the device and OS from the
//! user agent, and the offer's targeting — clicks outside it go to the fallback with
//! the reason `targeting` and their conversions are refused `not_targeted`.

mod common;

use common::{Backend, Market, TestApp, postback_for, solar_offer, spawn_app};
use qualead::domain::offer::{OfferBody, Terms};
use qualead::store::clicks;
use reqwest::StatusCode;

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
const WINDOWS: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const ANDROID_TABLET: &str =
    "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

/// A click on `/c/{token}` from `agent`, through the loopback proxy (trusted by
/// default) for the client `ip`, with a `CF-IPCountry` header when `country` is
/// given: where it went and the stored click.
async fn click(app: &TestApp, token: &str, agent: &str, ip: &str, country: Option<&str>) -> (String, clicks::Click) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let mut req = client.get(app.url(&format!("/c/{token}"))).header("user-agent", agent).header("x-forwarded-for", ip);
    if let Some(c) = country {
        req = req.header("cf-ipcountry", c);
    }
    let r = req.send().await.expect("click");
    assert_eq!(r.status(), StatusCode::FOUND);
    let location = r.headers()["location"].to_str().expect("location").to_string();
    let stored = clicks::latest(&mut app.conn()).expect("q").expect("click");
    (location, stored)
}

async fn a_click_without_a_country_header_is_located_from_its_address(backend: Backend) {
    let app = spawn_app(backend).await;
    let m = Market::of(&solar_offer("5.00")).seed(&app.db.url);
    // Yandex's public resolver (RU) and Google's (US) in the shipped DB-IP table.
    let (_, c) = click(&app, &m.token, IPHONE, "77.88.8.8", None).await;
    assert_eq!((c.country.as_deref(), c.country_source.as_str()), (Some("RU"), "database"));
    assert_eq!((c.device.as_str(), c.os.as_str()), ("phone", "iOS"));
    let (_, c) = click(&app, &m.token, WINDOWS, "2a02:6b8::feed:ff", None).await;
    assert_eq!((c.country.as_deref(), c.country_source.as_str()), (Some("RU"), "database"), "IPv6 too");
    assert_eq!((c.device.as_str(), c.os.as_str()), ("desktop", "Windows"));
    // A trusted proxy's header wins over the database.
    let (_, c) = click(&app, &m.token, ANDROID_TABLET, "77.88.8.8", Some("de")).await;
    assert_eq!((c.country.as_deref(), c.country_source.as_str()), (Some("DE"), "header"));
    assert_eq!((c.device.as_str(), c.os.as_str()), ("tablet", "Android"));
    // A private address has no country.
    let (_, c) = click(&app, &m.token, "curl/8.5.0", "10.1.2.3", None).await;
    assert_eq!((c.country.as_deref(), c.country_source.as_str()), (None, "unknown"));
    assert_eq!(c.device, "bot");
}

async fn clicks_outside_the_targeting_go_to_the_fallback_and_cannot_convert(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = OfferBody {
        terms: Terms {
            required_fields: vec![],
            allowed_countries: vec!["US".into()],
            allowed_devices: vec!["desktop".into(), "tablet".into()],
            allowed_os: vec!["Windows".into(), "Android".into()],
            ..Terms::default()
        },
        ..solar_offer("5.00")
    };
    let m = Market::of(&body).deposit(100_00).seed(&app.db.url);
    // 8.8.8.8 is in the US in the shipped table; 77.88.8.8 in Russia.
    let (to, good) = click(&app, &m.token, WINDOWS, "8.8.8.8", None).await;
    assert!(to.starts_with("https://adv.example/quote"), "{to}");
    assert_eq!(good.redirect_reason, None);
    let (to, wrong_country) = click(&app, &m.token, WINDOWS, "77.88.8.8", None).await;
    assert_eq!((to.as_str(), wrong_country.redirect_reason.as_deref()), ("https://adv.example/", Some("targeting")));
    let (_, header_country) = click(&app, &m.token, WINDOWS, "8.8.8.8", Some("GB")).await;
    assert_eq!(header_country.redirect_reason.as_deref(), Some("targeting"), "the trusted header decides");
    let (to, phone) = click(&app, &m.token, IPHONE, "8.8.8.8", None).await;
    assert_eq!((to.as_str(), phone.redirect_reason.as_deref()), ("https://adv.example/", Some("targeting")));
    let (_, bot) = click(&app, &m.token, "python-requests/2.31", "8.8.8.8", None).await;
    assert_eq!(bot.redirect_reason.as_deref(), Some("targeting"), "a device list never buys bots");
    let (_, tablet) = click(&app, &m.token, ANDROID_TABLET, "8.8.8.8", None).await;
    assert_eq!(tablet.redirect_reason, None, "an Android tablet is bought");
    let (_, unknown) = click(&app, &m.token, WINDOWS, "10.0.0.7", None).await;
    assert_eq!(unknown.redirect_reason, None, "an unknown country is not refused");

    for c in [&wrong_country, &phone] {
        let (status, answer) = postback_for(&app, &m.postback_token, &c.click_id, &[]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
        assert_eq!((answer["status"].as_str(), answer["reason"].as_str()), (Some("rejected"), Some("not_targeted")));
    }
    let (status, answer) = postback_for(&app, &m.postback_token, &good.click_id, &[]).await;
    assert_eq!((status, answer["status"].as_str()), (StatusCode::OK, Some("accepted")), "{answer}");
}

/// The targeting is validated and read back in plain words.
#[test]
fn the_targeting_is_validated_and_shown_in_plain_words() {
    let body = OfferBody {
        terms: Terms { allowed_devices: vec!["Phone".into()], allowed_os: vec!["ios".into()], ..Terms::default() },
        ..solar_offer("5.00")
    };
    let spec = qualead::domain::offer::validate(&body).expect("valid");
    assert_eq!(
        (spec.terms.allowed_devices.as_slice(), spec.terms.allowed_os.as_slice()),
        (&["phone".to_string()][..], &["iOS".to_string()][..])
    );
    let words = qualead::domain::offer::plain_terms(&spec.terms, &body.caps).join(" ");
    assert!(words.contains("Only phone traffic is bought") && words.contains("Only visitors on iOS"), "{words}");
    let bad = OfferBody {
        terms: Terms { allowed_devices: vec!["fridge".into()], ..Terms::default() },
        ..solar_offer("5.00")
    };
    let errors = qualead::domain::offer::validate(&bad).expect_err("a fridge is no device kind");
    assert!(errors["terms.allowed_devices"].contains("\"fridge\" is not a device kind"), "{errors:?}");
}

both_backends!(
    a_click_without_a_country_header_is_located_from_its_address,
    clicks_outside_the_targeting_go_to_the_fallback_and_cannot_convert,
);
