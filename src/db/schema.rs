//! Diesel table definitions shared by both backends. Keep in step with
//! `migrations/sqlite` and `migrations/postgres` (a test compares them).

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        status -> Text,
        display_name -> Text,
        company -> Text,
        timezone -> Text,
        email_verified_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Nullable<BigInt>,
        state -> Text,
        expires_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        prefix -> Text,
        key_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    user_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        purpose -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    email_outbox (id) {
        id -> BigInt,
        to_addr -> Text,
        subject -> Text,
        text_body -> Text,
        html_body -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        subject_type -> Text,
        subject_id -> Nullable<BigInt>,
        detail -> Text,
        ip -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(api_keys -> users (user_id));
diesel::joinable!(user_tokens -> users (user_id));
diesel::joinable!(sessions -> users (user_id));

diesel::table! {
    offers (id) {
        id -> BigInt,
        advertiser_id -> BigInt,
        name -> Text,
        description -> Text,
        category -> Text,
        landing_url -> Text,
        fallback_url -> Nullable<Text>,
        payout_model -> Text,
        price_minor -> Nullable<BigInt>,
        rate_bps -> Nullable<Integer>,
        events -> Text,
        fee_bps -> Nullable<Integer>,
        visibility -> Text,
        timezone -> Text,
        status -> Text,
        review_note -> Text,
        cap_daily -> Nullable<BigInt>,
        cap_weekly -> Nullable<BigInt>,
        cap_monthly -> Nullable<BigInt>,
        cap_total -> Nullable<BigInt>,
        daily_budget_minor -> Nullable<BigInt>,
        publisher_cap_daily -> Nullable<BigInt>,
        publisher_cap_total -> Nullable<BigInt>,
        terms -> Text,
        countries -> Text,
        postback_token -> Text,
        postback_ips -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        pixel -> Bool,
        hosted_form -> Bool,
        publisher_leads -> Bool,
        pixel_signature -> Bool,
        max_sale_minor -> Nullable<BigInt>,
        notice_hours -> Integer,
    }
}

diesel::table! {
    offer_publishers (id) {
        id -> BigInt,
        offer_id -> BigInt,
        publisher_id -> BigInt,
        status -> Text,
        token -> Text,
        postback_template -> Text,
        invited -> Bool,
        note -> Text,
        created_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(offers -> users (advertiser_id));
diesel::joinable!(offer_publishers -> offers (offer_id));
diesel::joinable!(offer_publishers -> users (publisher_id));

diesel::table! {
    clicks (click_id) {
        click_id -> Text,
        offer_id -> BigInt,
        publisher_id -> BigInt,
        sub1 -> Text,
        sub2 -> Text,
        sub3 -> Text,
        sub4 -> Text,
        sub5 -> Text,
        source -> Text,
        ip -> Text,
        user_agent -> Text,
        referrer -> Text,
        country -> Nullable<Text>,
        redirect_reason -> Nullable<Text>,
        created_at -> Timestamp,
        is_unique -> Bool,
        country_source -> Text,
        device -> Text,
        os -> Text,
        repeat_clicks -> Integer,
    }
}

diesel::joinable!(clicks -> offers (offer_id));

diesel::table! {
    leads (id) {
        id -> BigInt,
        offer_id -> BigInt,
        publisher_id -> BigInt,
        advertiser_id -> BigInt,
        click_id -> Nullable<Text>,
        channel -> Text,
        event -> Text,
        txid -> Nullable<Text>,
        dedupe_key -> Text,
        status -> Text,
        reasons -> Text,
        amount_minor -> Nullable<BigInt>,
        price_minor -> BigInt,
        fee_minor -> BigInt,
        payout_minor -> BigInt,
        fee_bps -> Integer,
        fields -> Text,
        consent -> Bool,
        sub1 -> Text,
        sub2 -> Text,
        sub3 -> Text,
        sub4 -> Text,
        sub5 -> Text,
        source -> Text,
        country -> Nullable<Text>,
        ip -> Text,
        click_at -> Nullable<Timestamp>,
        score -> Nullable<Integer>,
        hold_until -> Timestamp,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        email_norm -> Nullable<Text>,
        phone_norm -> Nullable<Text>,
        checks -> Text,
        disputed_from -> Nullable<Text>,
        terms_id -> Nullable<BigInt>,
        lists_version -> Text,
    }
}

diesel::table! {
    offer_terms (id) {
        id -> BigInt,
        offer_id -> BigInt,
        revision_id -> Nullable<BigInt>,
        effective_at -> Timestamp,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    offer_revisions (id) {
        id -> BigInt,
        offer_id -> BigInt,
        status -> Text,
        body -> Text,
        changes -> Text,
        tightens -> Text,
        note -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
        decided_by -> Nullable<BigInt>,
        decided_at -> Nullable<Timestamp>,
        effective_at -> Nullable<Timestamp>,
        applied_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    lead_events (id) {
        id -> BigInt,
        lead_id -> BigInt,
        from_status -> Nullable<Text>,
        to_status -> Text,
        actor_id -> Nullable<BigInt>,
        reason -> Text,
        comment -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    intake_rejections (id) {
        id -> BigInt,
        offer_id -> BigInt,
        publisher_id -> BigInt,
        click_id -> Nullable<Text>,
        channel -> Text,
        event -> Text,
        txid -> Nullable<Text>,
        reason -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    ledger_transactions (id) {
        id -> BigInt,
        kind -> Text,
        lead_id -> Nullable<BigInt>,
        actor_id -> Nullable<BigInt>,
        memo -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    ledger_entries (id) {
        id -> BigInt,
        transaction_id -> BigInt,
        account -> Text,
        amount_minor -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    ledger_balances (account) {
        account -> Text,
        balance_minor -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    cap_counters (offer_id, publisher_id, period) {
        offer_id -> BigInt,
        publisher_id -> BigInt,
        period -> Text,
        leads -> BigInt,
        spend_minor -> BigInt,
    }
}

diesel::table! {
    rollup_totals (offer_id, hour, publisher_id) {
        offer_id -> BigInt,
        hour -> Timestamp,
        publisher_id -> BigInt,
        clicks -> BigInt,
        unique_clicks -> BigInt,
        leads -> BigInt,
        intake_rejected -> BigInt,
        pending -> BigInt,
        approved -> BigInt,
        rejected -> BigInt,
        disputed -> BigInt,
        reversed -> BigInt,
        price_minor -> BigInt,
        pending_price_minor -> BigInt,
        pending_payout_minor -> BigInt,
        approved_price_minor -> BigInt,
        approved_payout_minor -> BigInt,
        approved_fee_minor -> BigInt,
        fallback_clicks -> BigInt,
        off_target_clicks -> BigInt,
        blocked_clicks -> BigInt,
    }
}

diesel::table! {
    rollups (hour, offer_id, publisher_id, dim, value) {
        hour -> Timestamp,
        offer_id -> BigInt,
        publisher_id -> BigInt,
        dim -> Text,
        value -> Text,
        clicks -> BigInt,
        unique_clicks -> BigInt,
        leads -> BigInt,
        intake_rejected -> BigInt,
        pending -> BigInt,
        approved -> BigInt,
        rejected -> BigInt,
        disputed -> BigInt,
        reversed -> BigInt,
        price_minor -> BigInt,
        pending_price_minor -> BigInt,
        pending_payout_minor -> BigInt,
        approved_price_minor -> BigInt,
        approved_payout_minor -> BigInt,
        approved_fee_minor -> BigInt,
        fallback_clicks -> BigInt,
        off_target_clicks -> BigInt,
        blocked_clicks -> BigInt,
    }
}

diesel::table! {
    postback_deliveries (id) {
        id -> BigInt,
        lead_id -> BigInt,
        offer_id -> BigInt,
        publisher_id -> BigInt,
        event -> Text,
        url -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        response_code -> Nullable<Integer>,
        last_error -> Text,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    lead_webhooks (id) {
        id -> BigInt,
        offer_id -> BigInt,
        advertiser_id -> BigInt,
        url -> Text,
        events -> Text,
        mapping -> Text,
        secret -> Text,
        sync -> Bool,
        timeout_ms -> Integer,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        webhook_id -> BigInt,
        lead_id -> BigInt,
        offer_id -> BigInt,
        advertiser_id -> BigInt,
        event -> Text,
        event_id -> Text,
        body -> Text,
        sync -> Bool,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        response_code -> Nullable<Integer>,
        response_excerpt -> Text,
        last_error -> Text,
        verdict -> Text,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(webhook_deliveries -> lead_webhooks (webhook_id));

diesel::joinable!(leads -> offers (offer_id));
diesel::table! {
    disputes (id) {
        id -> BigInt,
        lead_id -> BigInt,
        offer_id -> BigInt,
        kind -> Text,
        opened_by -> BigInt,
        reason -> Text,
        comment -> Text,
        status -> Text,
        ruled_by -> Nullable<BigInt>,
        note -> Text,
        created_at -> Timestamp,
        ruled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    payouts (id) {
        id -> BigInt,
        publisher_id -> BigInt,
        amount_minor -> BigInt,
        status -> Text,
        method -> Text,
        note -> Text,
        transaction_id -> Nullable<BigInt>,
        paid_by -> Nullable<BigInt>,
        requested_at -> Timestamp,
        paid_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    disposable_domains (domain) {
        domain -> Text,
        added_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    return_allowances (offer_id) {
        offer_id -> BigInt,
        extra -> BigInt,
        granted_by -> Nullable<BigInt>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    settlement_runs (id) {
        id -> BigInt,
        started_at -> Timestamp,
        finished_at -> Timestamp,
        approved -> BigInt,
        rejected -> BigInt,
        error -> Text,
    }
}

diesel::table! {
    test_clicks (click_id) {
        click_id -> Text,
        offer_id -> BigInt,
        advertiser_id -> BigInt,
        ip -> Text,
        user_agent -> Text,
        country -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    test_conversions (id) {
        id -> BigInt,
        offer_id -> BigInt,
        click_id -> Text,
        channel -> Text,
        event -> Text,
        txid -> Nullable<Text>,
        fields -> Text,
        amount_minor -> Nullable<BigInt>,
        status -> Text,
        reason -> Nullable<Text>,
        detail -> Text,
        missing -> Text,
        checks -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    balance_alerts (advertiser_id) {
        advertiser_id -> BigInt,
        threshold_minor -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    topups (id) {
        id -> BigInt,
        advertiser_id -> BigInt,
        amount_minor -> BigInt,
        method -> Text,
        reference -> Text,
        status -> Text,
        note -> Text,
        transaction_id -> Nullable<BigInt>,
        decided_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    source_blocks (id) {
        id -> BigInt,
        offer_id -> Nullable<BigInt>,
        publisher_id -> Nullable<BigInt>,
        field -> Text,
        mode -> Text,
        value -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    lead_verdicts (id) {
        id -> BigInt,
        lead_id -> BigInt,
        advertiser_id -> BigInt,
        actor_id -> Nullable<BigInt>,
        channel -> Text,
        verdict -> Text,
        reason -> Text,
        comment -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    verdict_uploads (id) {
        id -> BigInt,
        advertiser_id -> BigInt,
        filename -> Text,
        rows -> Text,
        results -> Nullable<Text>,
        created_at -> Timestamp,
        applied_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    reconciliations (id) {
        id -> BigInt,
        advertiser_id -> BigInt,
        month -> Text,
        status -> Text,
        closing_minor -> BigInt,
        snapshot -> Text,
        decided_by -> Nullable<BigInt>,
        decided_at -> Timestamp,
        note -> Text,
        resolved_by -> Nullable<BigInt>,
        resolved_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    reconciliation_lines (id) {
        id -> BigInt,
        reconciliation_id -> BigInt,
        line -> Text,
        comment -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(disputes -> leads (lead_id));
diesel::joinable!(lead_events -> leads (lead_id));
diesel::joinable!(ledger_entries -> ledger_transactions (transaction_id));
diesel::joinable!(postback_deliveries -> leads (lead_id));
diesel::allow_columns_to_appear_in_same_group_by_clause!(ledger_transactions::kind, ledger_entries::account);
diesel::allow_tables_to_appear_in_same_query!(
    offer_terms,
    offer_revisions,
    users,
    sessions,
    api_keys,
    user_tokens,
    email_outbox,
    audit_log,
    settings,
    offers,
    offer_publishers,
    clicks,
    leads,
    lead_events,
    disputes,
    payouts,
    disposable_domains,
    return_allowances,
    settlement_runs,
    intake_rejections,
    ledger_transactions,
    ledger_entries,
    ledger_balances,
    cap_counters,
    rollup_totals,
    rollups,
    postback_deliveries,
    test_clicks,
    test_conversions,
    lead_verdicts,
    verdict_uploads,
    lead_webhooks,
    webhook_deliveries,
    reconciliations,
    reconciliation_lines,
    source_blocks,
    topups,
    balance_alerts,
);
