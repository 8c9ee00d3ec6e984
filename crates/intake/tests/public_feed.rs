#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! The public view against a real PostgreSQL, at every half minute of three hours: no public
//! answer lets anyone match a known (amount, minute) pair to one donation, while staff get every
//! donation exactly.

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use rust_decimal::Decimal;
use serde_json::Value;
use zbor_intake::public_feed::{bucket_start, BUCKET_MINUTES, DELAY_MINUTES, K};
use zbor_testkit::TestDb;

/// One donation of the scenario: its amount (distinct from every other, and from every band's
/// bounds) and when it was paid.
#[derive(Clone, Debug)]
struct Gift {
    amount: Decimal,
    at: DateTime<Utc>,
}

fn money_text(amount: Decimal) -> String {
    format!("{amount:.2}")
}

/// A quiet period (two lone donations twenty minutes apart), a single large gift, a burst of
/// thirty, three stragglers, a smaller burst of eight, and a last lone one: 45 donations in
/// three hours from `t0`.
fn scenario(t0: DateTime<Utc>) -> Vec<Gift> {
    let at = |minutes: i64, seconds: i64| t0 + TimeDelta::minutes(minutes) + TimeDelta::seconds(seconds);
    let cents = |c: i64| Decimal::new(c, 2);
    let mut gifts = vec![
        Gift { amount: cents(3713), at: at(2, 17) },
        Gift { amount: cents(1234), at: at(21, 5) },
        Gift { amount: cents(500_000), at: at(33, 41) },
    ];
    for i in 0..30 {
        gifts.push(Gift { amount: cents(1007 + i * 731), at: at(40, 3 + i * 9) });
    }
    gifts.push(Gift { amount: cents(7777), at: at(67, 12) });
    gifts.push(Gift { amount: cents(12_345), at: at(90, 33) });
    gifts.push(Gift { amount: cents(888), at: at(112, 50) });
    for i in 0..8 {
        gifts.push(Gift { amount: cents(5555 + i * 202), at: at(130, 7 + i * 20) });
    }
    gifts.push(Gift { amount: cents(33_333), at: at(170, 29) });
    gifts
}

/// Books each gift through the real webhook path, then sets its `paid_at` to the scenario's
/// time (the booking stamps `now()`).
async fn book(db: &TestDb, gifts: &[Gift]) {
    for (n, gift) in gifts.iter().enumerate() {
        let id = format!("cs_test_public_{n}");
        let minor = i64::try_from(gift.amount * Decimal::from(100)).unwrap();
        let body = event(
            &format!("evt_public_{n}"),
            "checkout.session.completed",
            session(&id, minor, "eur", "paid", to_campaign("release-123")),
        );
        receive(&db.pool, &body).await.unwrap();
        sqlx::query("update donations set paid_at = $1 where stripe_payment_intent = $2")
            .bind(gift.at)
            .bind(payment_intent_of(&id))
            .execute(&db.pool)
            .await
            .unwrap();
    }
}

fn aligned(at: &str) -> bool {
    let at: DateTime<Utc> = at.parse().unwrap();
    bucket_start(at) == at
}

const BAND_FROM: [&str; 7] = ["0.00", "10.00", "25.00", "50.00", "100.00", "250.00", "1000.00"];
const BAND_TO: [&str; 6] = ["9.99", "24.99", "49.99", "99.99", "249.99", "999.99"];

/// What no public answer may hold: any group of fewer than K, a time finer than a bucket, a
/// donation's exact amount or exact time anywhere in it, or the large gift's band (it is the
/// only gift of 1,000 or more, so that band never reaches K).
fn assert_reveals_no_one(answer: &Value, gifts: &[Gift], what: &str) {
    let text = answer.to_string();
    for gift in gifts {
        let amount = format!("\"{}\"", money_text(gift.amount));
        assert!(!text.contains(&amount), "{what}: {amount} appears: {text}");
        let time = gift.at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        assert!(!text.contains(&time), "{what}: {time} appears: {text}");
    }
    assert_eq!(answer["exact"], false, "{what}");
    if let Some(minutes) = answer["minutes"].as_array() {
        assert_eq!(answer["bucket_minutes"], BUCKET_MINUTES, "{what}");
        for entry in minutes {
            assert!(entry["donations"].as_i64().unwrap() >= K, "{what}: {entry}");
            assert!(aligned(entry["at"].as_str().unwrap()), "{what}: {entry}");
        }
        for entry in answer["recent"].as_array().unwrap() {
            assert!(entry["donations"].as_i64().unwrap() >= K, "{what}: {entry}");
            assert!(aligned(entry["at"].as_str().unwrap()), "{what}: {entry}");
            let from = entry["amount_from"].as_str().unwrap();
            assert!(BAND_FROM.contains(&from), "{what}: {entry}");
            assert_ne!(from, "1000.00", "{what}: the large gift's band was shown: {entry}");
            let to = entry["amount_to"].as_str();
            assert!(to.is_none_or(|to| BAND_TO.contains(&to)), "{what}: {entry}");
        }
    }
}

#[tokio::test]
async fn no_public_answer_matches_an_amount_and_minute_to_one_donation() {
    let db = TestDb::new(4).await;
    let campaign = release_123(&db).await;
    // three and a half hours ago, so that staff's exact timeline (up to now) covers it all
    let t0 = bucket_start(Utc::now()) - TimeDelta::minutes(210);
    let gifts = scenario(t0);
    book(&db, &gifts).await;
    let total: Decimal = gifts.iter().map(|g| g.amount).sum();
    let mut conn = db.pool.acquire().await.unwrap();

    let mut previous: Option<(i64, Decimal)> = None;
    let mut steps_seen = 0;
    for half_minutes in 0..=2 * 210 {
        let now = t0 + TimeDelta::seconds(30 * half_minutes);
        let what = format!("at t0 + {} s", 30 * half_minutes);
        let timeline =
            zbor_intake::public_feed::timeline(&mut conn, "release-123", 1440, now, None).await.unwrap();
        let timeline = serde_json::to_value(&timeline).unwrap();
        assert_reveals_no_one(&timeline, &gifts, &what);
        let totals = zbor_intake::public_feed::totals(&mut conn, "release-123", now).await.unwrap();
        let totals = serde_json::to_value(&totals).unwrap();
        assert_reveals_no_one(&totals, &gifts, &what);

        let donations = totals["donations"].as_i64().unwrap();
        let raised: Decimal = totals["raised"].as_str().unwrap().parse().unwrap();
        // published only after the delay: nothing paid in the last DELAY_MINUTES is counted
        let old_enough = gifts.iter().filter(|g| g.at <= now - TimeDelta::minutes(DELAY_MINUTES)).count();
        assert!(donations <= i64::try_from(old_enough).unwrap(), "{what}: {donations} published");
        // a step, or nothing: zero or K and more, and never one donation's amount
        assert!(donations == 0 || donations >= K, "{what}: {totals}");
        if donations > 0 {
            assert!(aligned(totals["updated_at"].as_str().unwrap()), "{what}: {totals}");
        }
        // the timeline's steps add up to the totals: the two views are one snapshot
        let in_steps: i64 =
            timeline["minutes"].as_array().unwrap().iter().map(|m| m["donations"].as_i64().unwrap()).sum();
        assert_eq!(in_steps, donations, "{what}");
        if let Some((before, raised_before)) = previous {
            assert!(donations >= before, "{what}: went back");
            if donations != before {
                steps_seen += 1;
                assert!(donations - before >= K, "{what}: a step of {}", donations - before);
                let step = raised - raised_before;
                assert!(gifts.iter().all(|g| g.amount != step), "{what}: a step of one gift: {step}");
            } else {
                assert_eq!(raised, raised_before, "{what}");
            }
        }
        previous = Some((donations, raised));
    }
    // it does publish: the two bursts, each with what was held before it
    assert!(steps_seen >= 2, "{steps_seen} steps");
    let end = t0 + TimeDelta::minutes(210);
    let totals = zbor_intake::public_feed::totals(&mut conn, "release-123", end).await.unwrap();
    // 3 + 30 (the first burst with the quiet ones and the large gift), then 3 + 8: 44; the last
    // lone gift is held back until four more come
    assert_eq!(totals.donations, 44);
    assert_eq!(totals.raised.amount(), total - Decimal::new(33_333, 2));

    // staff: every donation, exactly
    let exact = zbor_intake::totals::totals(&mut conn, "release-123").await.unwrap();
    assert!(exact.exact);
    assert_eq!((exact.donations, exact.raised.amount()), (45, total));
    let timeline = zbor_intake::totals::timeline(&mut conn, "release-123", 1440).await.unwrap();
    assert!(timeline.exact);
    assert_eq!(timeline.bucket_minutes, 1);
    let latest = &timeline.recent[0];
    assert_eq!(
        (latest.amount_from.amount(), latest.amount_to.map(|m| m.amount()), latest.donations),
        (Decimal::new(33_333, 2), Some(Decimal::new(33_333, 2)), 1)
    );
    assert_eq!(latest.at, gifts[44].at);
    assert_eq!(timeline.minutes.iter().map(|m| m.donations).sum::<i64>(), 45);
    drop(conn);
    let _ = campaign;
    db.drop_database().await;
}

#[tokio::test]
async fn a_campaign_without_donations_shows_zero_and_no_groups() {
    let db = TestDb::new(2).await;
    let campaign = release_123(&db).await;
    let mut conn = db.pool.acquire().await.unwrap();
    let totals = zbor_intake::public_feed::totals(&mut conn, "release-123", Utc::now()).await.unwrap();
    assert_eq!(
        (totals.donations, totals.raised.amount().to_string().as_str(), totals.exact),
        (0, "0.00", false)
    );
    assert_eq!(totals.updated_at, campaign.updated_at);
    let timeline =
        zbor_intake::public_feed::timeline(&mut conn, "release-123", 180, Utc::now(), None).await.unwrap();
    assert!(timeline.minutes.is_empty() && timeline.recent.is_empty());
    assert!(zbor_intake::public_feed::totals(&mut conn, "nope", Utc::now()).await.is_err());
    drop(conn);
    db.drop_database().await;
}

#[tokio::test]
async fn refunds_are_published_in_steps_of_k_never_one_alone() {
    let db = TestDb::new(4).await;
    let campaign = release_123(&db).await;
    // ten gifts two hours ago: published long since
    let t0 = bucket_start(Utc::now()) - TimeDelta::minutes(120);
    let gifts: Vec<Gift> = (0..10)
        .map(|i| Gift { amount: Decimal::new(2_000 + i * 137, 2), at: t0 + TimeDelta::seconds(20 * i) })
        .collect();
    book(&db, &gifts).await;
    let refund = |n: usize, refunded_minor: i64| {
        let id = format!("cs_test_public_{n}");
        let minor = i64::try_from(gifts[n].amount * Decimal::from(100)).unwrap();
        event(&format!("evt_refund_{n}"), "charge.refunded", refunded_charge(&id, minor, refunded_minor))
    };
    let public = |now: DateTime<Utc>| {
        let pool = db.pool.clone();
        async move {
            let mut conn = pool.acquire().await.unwrap();
            zbor_intake::public_feed::totals(&mut conn, "release-123", now).await.unwrap()
        }
    };

    // one partial refund, booked now
    receive(&db.pool, &refund(3, 500)).await.unwrap();
    let booked = Utc::now();
    let exact = {
        let mut conn = db.pool.acquire().await.unwrap();
        zbor_intake::totals::totals(&mut conn, "release-123").await.unwrap()
    };
    assert_eq!(exact.refunded.amount(), Decimal::new(500, 2), "staff see it at once");
    let later = booked + TimeDelta::minutes(20);
    for now in [booked, later] {
        let totals = public(now).await;
        assert_eq!(totals.donations, 10);
        assert_eq!(totals.refunded.amount(), Decimal::ZERO, "a lone refund is held back");
        assert_eq!(totals.net, totals.raised, "and nothing else moved");
    }

    // four more: five movements, published together once their buckets are old enough
    for (n, refunded) in [(0, 2_000), (5, 100), (7, 1_234), (9, 99)] {
        receive(&db.pool, &refund(n, refunded)).await.unwrap();
    }
    assert_eq!(public(Utc::now()).await.refunded.amount(), Decimal::ZERO, "not before the delay");
    let totals = public(Utc::now() + TimeDelta::minutes(20)).await;
    let all = Decimal::new(500 + 2_000 + 100 + 1_234 + 99, 2);
    assert_eq!(totals.refunded.amount(), all);
    assert_eq!(totals.net.amount(), totals.raised.amount() - all);
    let serialized = serde_json::to_value(&totals).unwrap().to_string();
    for single in ["\"5.00\"", "\"20.00\"", "\"1.00\"", "\"12.34\"", "\"0.99\""] {
        assert!(!serialized.contains(single), "{single} in {serialized}");
    }

    // a server's cache answers the same as a fresh computation, and keeps one cut-off
    let cache = zbor_intake::public_feed::PublicCache::new();
    let mut conn = db.pool.acquire().await.unwrap();
    for now in [booked, later, Utc::now() + TimeDelta::minutes(20), later] {
        let cached =
            zbor_intake::public_feed::snapshot(&mut conn, "release-123", now, Some(&cache)).await.unwrap();
        let again =
            zbor_intake::public_feed::snapshot(&mut conn, "release-123", now, Some(&cache)).await.unwrap();
        let fresh = zbor_intake::public_feed::snapshot(&mut conn, "release-123", now, None).await.unwrap();
        assert_eq!((&cached.totals, cached.published_until), (&fresh.totals, fresh.published_until));
        assert_eq!(again.totals, fresh.totals);
        let cached = zbor_intake::public_feed::timeline(&mut conn, "release-123", 1440, now, Some(&cache))
            .await
            .unwrap();
        let fresh =
            zbor_intake::public_feed::timeline(&mut conn, "release-123", 1440, now, None).await.unwrap();
        assert_eq!(serde_json::to_value(&cached).unwrap(), serde_json::to_value(&fresh).unwrap());
    }
    // history rewritten by hand (a corrected paid_at): the cache sees it and recomputes
    let now = Utc::now() + TimeDelta::minutes(20);
    let before =
        zbor_intake::public_feed::snapshot(&mut conn, "release-123", now, Some(&cache)).await.unwrap();
    sqlx::query("update donations set paid_at = now() where stripe_session_id in ('cs_test_public_8', 'cs_test_public_9')")
        .execute(&db.pool)
        .await
        .unwrap();
    let after =
        zbor_intake::public_feed::snapshot(&mut conn, "release-123", now, Some(&cache)).await.unwrap();
    let fresh = zbor_intake::public_feed::snapshot(&mut conn, "release-123", now, None).await.unwrap();
    assert_eq!(after.totals, fresh.totals);
    // the two moved now form a bucket of two: held back until three more come
    assert_eq!((before.totals.donations, after.totals.donations), (10, 8));
    drop(conn);
    let _ = campaign;
    db.drop_database().await;
}
