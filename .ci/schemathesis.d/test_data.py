#!/usr/bin/env python3
"""Identifiers a role's Schemathesis run needs, read from the running demo server.

Usage: test_data.py BASE_URL ROLE API_KEY [ADVERTISER_KEY] > extra.toml
       test_data.py BASE_URL seed ADVERTISER_KEY PUBLISHER_KEY

Random ids rarely name a lead that is pending, an offer that waits for review or a
payout that is requested, so those operations would only ever answer 404 or 409.
This reads, just before the role's run, what the demo database holds in the right
state and prints TOML for `.ci/schemathesis`: a dictionary of candidate ids per
operation (`[dictionaries]`), bound to its path parameters (`[[operations]]`).
Schemathesis still generates other values around them. Operations whose path names
two ids (an offer and its publisher or revision) get one matching pair.
`seed` gives the runs what the demo lacks: the advertiser rejects one of the
publisher's pending leads, so that the publisher has a rejection to contest. Before
the admin's run, with the advertiser's key, the advertiser puts two new offers up for
review, and two more offers go live (approved with the admin's key) and get a change
each, so that there is something to approve and something to reject of each.
Only the standard library.
"""

import json
import sys
import urllib.error
import urllib.request

BASE, ROLE, KEY = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]


def get(path, key=None):
    req = urllib.request.Request(f"{BASE}/api/v1{path}", headers={"Authorization": f"Bearer {key or KEY}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def post(path, body, key, method="POST"):
    req = urllib.request.Request(
        f"{BASE}/api/v1{path}",
        data=json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


if ROLE == "seed":
    advertiser, publisher = KEY, sys.argv[4]
    me = get("/me", publisher)["id"]
    theirs = [r for r in get("/leads?status=pending&limit=500", advertiser)["leads"] if r["publisher_id"] == me]
    if not theirs:
        sys.exit(f"the demo has no pending lead of publisher #{me} on the advertiser's offers")
    # Two lead webhooks on that offer (the rejection below queues a delivery to the
    # first; the server's guard blocks the loopback address, which is logged): one
    # for the advertiser's run to change and replay, one for it to delete.
    hook = {"url": "https://127.0.0.1:9/qualead", "events": ["approved", "rejected"]}
    for _ in range(2):
        post(f"/offers/{theirs[-1]['offer_id']}/webhooks", hook, advertiser)
    lead = post(f"/leads/{theirs[-1]['id']}/reject", {"reason": "bad_contact", "comment": "Seeded to be contested."}, advertiser)
    print(f"lead #{lead['id']} of publisher #{me} rejected, to be contested")
    sys.exit(0)


def ids(rows, n=8):
    return [r["id"] for r in rows][:n]


dictionaries = {}
operations = []


def bind(operation_id, values, probability=0.5):
    """Path parameters of `operation_id` drawn from `values` (name -> list of ids)."""
    params = {}
    for name, vals in values.items():
        if not vals:
            return
        dict_name = f"{operation_id}_{name}".replace(".", "_")
        dictionaries[dict_name] = vals
        params[f"{'body' if name.startswith('body.') else 'path'}.{name.removeprefix('body.')}"] = (
            dict_name,
            probability,
        )
    operations.append((operation_id, params))


def leads(status):
    return get(f"/leads?status={status}&limit=500")["leads"]


def own_offers():
    return get("/offers")["offers"]


def pending_membership(offers):
    for o in offers:
        for p in get(f"/offers/{o['id']}/publishers")["publishers"]:
            if p["status"] == "pending":
                return o["id"], p["publisher_id"]
    return None


if ROLE == "advertiser":
    pending = ids(leads("pending"), 16)
    bind("approveLead", {"id": pending[::2]})
    bind("rejectLead", {"id": pending[1::2] or pending})
    bind("returnLead", {"id": ids(leads("approved"))})
    offers = own_offers()
    pair = pending_membership(offers)
    if pair:
        bind("approveOfferPublisher", {"id": [pair[0]], "publisher_id": [pair[1]]}, 1.0)
    # A second pending member, if any, for the rejection.
    if pair:
        rest = [o for o in offers if o["id"] != pair[0]]
        other = pending_membership(rest)
        if other:
            bind("rejectOfferPublisher", {"id": [other[0]], "publisher_id": [other[1]]}, 1.0)
    # A conversion the advertiser reports needs a click on its own offer: one of its leads' clicks.
    for row in leads("approved")[:20]:
        lead = get(f"/leads/{row['id']}")
        if lead.get("click_id"):
            bind("submitLead", {"body.offer_id": [lead["offer_id"]], "body.click_id": [lead["click_id"]]}, 1.0)
            break
    # Lead webhooks: the two endpoints the seed step made (the first has a delivery).
    for o in offers:
        hooks = get(f"/offers/{o['id']}/webhooks")["webhooks"]
        if len(hooks) < 2:
            continue
        oid, wid, gone = o["id"], hooks[0]["id"], hooks[-1]["id"]
        deliveries = get(f"/offers/{oid}/webhooks/{wid}/deliveries")["deliveries"]
        bind("listWebhooks", {"id": [oid]}, 1.0)
        bind("createWebhook", {"id": [oid]}, 1.0)
        bind("updateWebhook", {"id": [oid], "wid": [wid]}, 1.0)
        bind("listWebhookDeliveries", {"id": [oid], "wid": [wid]}, 1.0)
        if deliveries:
            bind("replayWebhookDelivery", {"id": [oid], "wid": [wid], "did": [deliveries[0]["id"]]}, 1.0)
        bind("deleteWebhook", {"id": [oid], "wid": [gone]}, 1.0)
        break
elif ROLE == "publisher":
    bind("contestLead", {"id": ids(leads("rejected"))})
    bind("cancelPayout", {"id": ids(get("/payouts?status=requested")["payouts"])})
elif ROLE == "admin":
    seeded_revisions = []
    if len(sys.argv) > 4:
        advertiser = sys.argv[4]

        def submitted_offer(name):
            body = {
                "name": name,
                "category": "home",
                "landing_url": "https://adv.example/?c={click_id}",
                "payout_model": "cpl",
                "price": "10.00",
            }
            offer = post("/offers", body, advertiser)
            post(f"/offers/{offer['id']}/submit", {}, advertiser)
            return offer

        for n in (1, 2):
            submitted_offer(f"Seeded for review {n}")
        # Two live offers of its own, each with a change waiting for review: one for
        # the approval, one for the rejection (offers the earlier runs touched may
        # have a change scheduled already, or be archived).
        for n in (1, 2):
            offer = submitted_offer(f"Seeded for a change {n}")
            post(f"/admin/offers/{offer['id']}/approve", {}, KEY)
            change = post(f"/offers/{offer['id']}", {"price": "11.00"}, advertiser, method="PATCH")
            seeded_revisions.append((offer["id"], change["id"]))
    pending = ids(leads("pending"), 16)
    bind("approveLead", {"id": pending[::2]})
    bind("rejectLead", {"id": pending[1::2] or pending})
    review = ids(get("/offers?status=pending_review")["offers"])
    bind("approveOffer", {"id": review[::2]})
    bind("rejectOffer", {"id": review[1::2] or review})
    advertisers = sorted({o["advertiser_id"] for o in get("/offers")["offers"]})
    bind("createDeposit", {"body.advertiser_id": advertisers})
    requested = ids(get("/payouts?status=requested")["payouts"])
    bind("markPayoutPaid", {"id": requested[::2]})
    bind("cancelPayout", {"id": requested[1::2] or requested})
    bind("ruleDispute", {"id": ids(get("/admin/disputes?status=open")["disputes"])})
    offers = get("/offers")["offers"]
    revisions = seeded_revisions or [
        (o["id"], r["id"])
        for o in offers
        for r in get(f"/admin/offers/{o['id']}/revisions")["revisions"]
        if r["status"] == "pending"
    ]
    if len(revisions) >= 2:
        bind("approveOfferRevision", {"id": [revisions[0][0]], "rev": [revisions[0][1]]}, 1.0)
        bind("rejectOfferRevision", {"id": [revisions[-1][0]], "rev": [revisions[-1][1]]}, 1.0)
    # An admin reads an advertiser's webhooks and their deliveries.
    for o in offers:
        hooks = get(f"/offers/{o['id']}/webhooks")["webhooks"]
        if hooks:
            bind("listWebhooks", {"id": [o["id"]]}, 1.0)
            bind("listWebhookDeliveries", {"id": [o["id"]], "wid": [hooks[0]["id"]]}, 1.0)
            break
    pair = pending_membership(offers)
    if pair:
        bind("approveOfferPublisher", {"id": [pair[0]], "publisher_id": [pair[1]]}, 1.0)
        other = pending_membership([o for o in offers if o["id"] != pair[0]])
        if other:
            bind("rejectOfferPublisher", {"id": [other[0]], "publisher_id": [other[1]]}, 1.0)

print(f"\n# Generated by test_data.py for the {ROLE}'s run.")
print("[dictionaries]")
for name, vals in dictionaries.items():
    print(f"{name} = {{ values = {json.dumps(vals)} }}")
for op, params in operations:
    print("\n[[operations]]")
    print(f'include-operation-id = "{op}"')
    inner = ", ".join(f'"{k}" = {{ dictionary = "{d}", probability = {p} }}' for k, (d, p) in params.items())
    print(f"parameters = {{ {inner} }}")
