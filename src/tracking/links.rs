//! The URLs and snippets of DESIGN §5, built from the public base URL.

use crate::store::offers::Offer;

fn base(base_url: &str) -> &str {
    base_url.trim_end_matches('/')
}

/// The plain tracking link of a publisher-offer pair: `/c/{token}`.
pub fn click_url(base_url: &str, token: &str) -> String {
    format!("{}/c/{token}", base(base_url))
}

/// The tracking link with every optional parameter, ready to fill in.
pub fn click_url_with_subs(base_url: &str, token: &str) -> String {
    format!("{}?sub1=&sub2=&sub3=&sub4=&sub5=&source=", click_url(base_url, token))
}

/// The HasOffers-style alias for networks migrating their links.
pub fn hasoffers_url(base_url: &str, offer_id: i64, publisher_id: i64) -> String {
    format!(
        "{}/aff_c?offer_id={offer_id}&aff_id={publisher_id}&aff_sub=&aff_sub2=&aff_sub3=&aff_sub4=&aff_sub5=&source=",
        base(base_url)
    )
}

/// The hosted lead form for publishers without a landing page.
pub fn hosted_form_url(base_url: &str, token: &str) -> String {
    format!("{}/f/{token}", base(base_url))
}

fn first_event(offer: &Offer) -> String {
    offer.events().into_iter().next().unwrap_or_else(|| "lead".into())
}

/// `&email={email}&zip={zip}…`: a macro for each field the offer requires.
fn field_macros(offer: &Offer) -> String {
    offer.terms().required_fields.iter().map(|f| format!("&{f}={{{f}}}")).collect()
}

/// The server-to-server postback the advertiser calls; `{click_id}`, `{txid}`
/// (and `{amount}` for CPS) and a macro for each required field (`{email}`, `{zip}`
/// …) are filled by the advertiser's system.
pub fn advertiser_postback_url(base_url: &str, offer: &Offer) -> String {
    let amount = if offer.payout_model == "cps" { "&amount={amount}" } else { "" };
    format!(
        "{}/postback?click_id={{click_id}}&token={}&event={}{amount}&txid={{txid}}{}",
        base(base_url),
        offer.postback_token,
        first_event(offer),
        field_macros(offer)
    )
}

/// What each macro of the offer's postback URL and pixel stands for, in plain words.
pub fn macro_help(offer: &Offer) -> Vec<(String, &'static str)> {
    let mut out = vec![
        ("{click_id}".to_string(), "the click id Qualead added to your landing page's address"),
        ("{txid}".to_string(), "your own order or lead id; a second call with the same txid counts once"),
    ];
    if offer.payout_model == "cps" {
        out.push(("{amount}".into(), "the sale amount, in your currency, e.g. 49.90"));
    }
    for f in offer.terms().required_fields {
        out.push((format!("{{{f}}}"), field_help(&f)));
    }
    out
}

/// A required lead field, in plain words (the names of `LEAD_FIELDS`).
pub fn field_help(field: &str) -> &'static str {
    match field {
        "name" => "the person's full name",
        "email" => "the person's e-mail address",
        "phone" => "the person's phone number, with its country code (+1 555…)",
        "country" => "the person's country, a two-letter code (US, GB…)",
        "address" => "the street address",
        "city" => "the city or town",
        "zip" => "the postal or ZIP code",
        "state" => "the state, province or region",
        "company" => "the company's name",
        "age" => "the person's age in years",
        "gender" => "the person's gender",
        _ => "the value of this field",
    }
}

/// The browser pixel in its three forms: image, iframe and script.
pub fn pixel_snippets(base_url: &str, offer: &Offer) -> [(&'static str, String); 3] {
    let b = base(base_url);
    let amount = if offer.payout_model == "cps" { "&amount=ORDER_TOTAL" } else { "" };
    // A signed pixel names the click it signs for.
    let sig = if offer.pixel_signature { "&click_id=CLICK_ID&sig=SIGNATURE" } else { "" };
    let q = format!("event={}{amount}&txid=ORDER_ID{}{sig}", first_event(offer), field_macros(offer));
    let id = offer.id;
    [
        ("Image pixel", format!(r#"<img src="{b}/px/{id}.gif?{q}" width="1" height="1" alt="" style="display:none">"#)),
        (
            "Iframe pixel",
            format!(
                r#"<iframe src="{b}/px/{id}.html?{q}" width="1" height="1" frameborder="0" style="display:none"></iframe>"#
            ),
        ),
        ("JavaScript pixel", format!(r#"<script async src="{b}/px/{id}.js?{q}"></script>"#)),
    ]
}

/// How the advertiser's server computes a signed pixel's `sig`
/// ([`crate::domain::channels::sign`]), in PHP and Python, keyed with the offer's
/// postback token.
pub fn pixel_signature_snippets(offer: &Offer) -> [(&'static str, String); 2] {
    let key = &offer.postback_token;
    let amount = offer.payout_model == "cps";
    let (php_amount, py_amount) =
        if amount { (r#"number_format($total, 2, '.', '')"#, r#"f"{total:.2f}""#) } else { (r#"''"#, r#""""#) };
    [
        (
            "PHP",
            format!(
                "$message = $click_id . ':' . $order_id . ':' . {php_amount};\n$sig = hash_hmac('sha256', $message, '{key}');"
            ),
        ),
        (
            "Python",
            format!(
                "import hashlib, hmac\nmessage = f\"{{click_id}}:{{order_id}}:\" + {py_amount}\nsig = hmac.new(b\"{key}\", message.encode(), hashlib.sha256).hexdigest()"
            ),
        ),
    ]
}
