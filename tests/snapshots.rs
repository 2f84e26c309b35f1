//! Snapshots (insta) of what people and integrations read verbatim: every e-mail
//! (subject, text and HTML part) and the OpenAPI document. A change to one shows as
//! a diff to review; accept it with `cargo insta review` (or `INSTA_UPDATE=always
//! cargo test --test snapshots`) and commit the `.snap` files under `tests/snapshots/`.

use qualead::mail::templates::*;

/// One e-mail as its reader gets it.
fn rendered(m: &impl Email) -> String {
    format!(
        "Subject: {}\n\n--- text ---\n{}\n--- html ---\n{}\n",
        m.subject(),
        m.text().expect("text part"),
        m.html().expect("html part")
    )
}

const LINK: &str = "https://qualead.example/advertiser/leads/42";

#[test]
fn every_email() {
    let name = || "Ann Lee".to_string();
    let offer = || "Solar quotes \"US\"".to_string();
    let mails: Vec<(&str, String)> = vec![
        ("verify_email", rendered(&VerifyEmail { name: name(), link: "https://qualead.example/verify?t=abc".into() })),
        (
            "reset_password",
            rendered(&ResetPassword { name: name(), link: "https://qualead.example/reset?t=abc".into() }),
        ),
        (
            "account_active",
            rendered(&AccountStatusChanged {
                name: name(),
                approved: true,
                login_link: "https://qualead.example/login".into(),
            }),
        ),
        (
            "account_suspended",
            rendered(&AccountStatusChanged {
                name: name(),
                approved: false,
                login_link: "https://qualead.example/login".into(),
            }),
        ),
        (
            "offer_approved",
            rendered(&OfferReviewed {
                name: name(),
                offer_name: offer(),
                approved: true,
                note: String::new(),
                link: LINK.into(),
            }),
        ),
        (
            "offer_sent_back",
            rendered(&OfferReviewed {
                name: name(),
                offer_name: offer(),
                approved: false,
                note: "Say which states you buy.".into(),
                link: LINK.into(),
            }),
        ),
        (
            "offer_terms_changed",
            rendered(&OfferTermsChanged {
                name: name(),
                offer_name: offer(),
                changes: vec!["Hold: 72 hours → 48 hours".into(), "Return window: 7 days → 14 days".into()],
                effective: "2026-12-10 00:00 UTC".into(),
                link: LINK.into(),
            }),
        ),
        (
            "revision_approved",
            rendered(&RevisionReviewed {
                name: name(),
                offer_name: offer(),
                approved: true,
                effective: "2026-12-10 00:00 UTC".into(),
                note: String::new(),
                link: LINK.into(),
            }),
        ),
        (
            "publisher_applied",
            rendered(&PublisherApplied {
                name: name(),
                offer_name: offer(),
                publisher: "Priya Nair (MoneyWise Reviews)".into(),
                link: LINK.into(),
            }),
        ),
        (
            "membership_invited",
            rendered(&MembershipDecided {
                name: name(),
                offer_name: offer(),
                approved: true,
                invited: true,
                note: String::new(),
                link: LINK.into(),
            }),
        ),
        (
            "membership_declined",
            rendered(&MembershipDecided {
                name: name(),
                offer_name: offer(),
                approved: false,
                invited: false,
                note: "Your traffic is outside the US.".into(),
                link: LINK.into(),
            }),
        ),
        (
            "offer_paused",
            rendered(&OfferPausedLowBalance {
                name: name(),
                offer_name: offer(),
                balance: "$4.00".into(),
                price: "$12.50".into(),
                link: LINK.into(),
            }),
        ),
        (
            "lead_returned",
            rendered(&LeadDisputed {
                name: name(),
                who: "The advertiser".into(),
                verb: "returned the approved".into(),
                lead_id: 42,
                offer_name: offer(),
                reason: "bad_contact".into(),
                comment: "The number <b>rings</b> nowhere.".into(),
                link: LINK.into(),
            }),
        ),
        (
            "dispute_decided",
            rendered(&DisputeDecided {
                name: name(),
                lead_id: 42,
                offer_name: offer(),
                kind: "return".into(),
                decision: "upheld".into(),
                status: "reversed".into(),
                note: "The call recording confirms it.".into(),
                link: LINK.into(),
            }),
        ),
        (
            "payout_paid",
            rendered(&PayoutPaid {
                name: name(),
                payout_id: 7,
                amount: "$1,250.00".into(),
                note: "SEPA ref 2026-12-07".into(),
                link: LINK.into(),
            }),
        ),
    ];
    for (id, mail) in mails {
        insta::assert_snapshot!(format!("email_{id}"), mail);
    }
}

/// The API contract in one reviewable page: every operation (method, path, id,
/// the statuses it answers) and every schema (its members, required ones marked
/// `*`). A change to the document shows here as a short diff of what changed for
/// integrators, not as a change to a 100 KB file.
#[test]
fn the_openapi_contract() {
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("../src/api/openapi.json")).expect("the document is JSON");
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let Some(responses) = op.get("responses").and_then(|r| r.as_object()) else { continue };
            let codes: Vec<&str> = responses.keys().map(String::as_str).collect();
            let id = op["operationId"].as_str().unwrap_or("-");
            out.push(format!("{} {path} {id} → {}", method.to_uppercase(), codes.join(" ")));
        }
    }
    out.push(String::new());
    for (name, schema) in doc["components"]["schemas"].as_object().expect("schemas") {
        let required: Vec<&str> =
            schema["required"].as_array().map(|r| r.iter().filter_map(|v| v.as_str()).collect()).unwrap_or_default();
        let members: Vec<String> = schema["properties"]
            .as_object()
            .map(|p| {
                p.keys().map(|k| if required.contains(&k.as_str()) { format!("{k}*") } else { k.clone() }).collect()
            })
            .unwrap_or_default();
        out.push(format!("{name}: {}", members.join(", ")));
    }
    insta::assert_snapshot!("openapi_contract", out.join("\n"));
}
