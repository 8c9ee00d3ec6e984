#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! The platform's balance as Stripe reports it: every balance transaction (charges, refunds,
//! disputes, transfers, reversals, payouts, failed payouts) listed, filtered and paged through
//! async-stripe's typed requests with their sources expanded, and Stripe's automatic payouts to
//! the bank, which take exactly the sum of what no payout took yet. Objects are made "yesterday"
//! with the simulator's clock offset, so the `created` filters are tested on real dates.

mod common;

use common::{get, post_form, sim_post, Receiver, KEY};
use serde::Deserialize;
use serde_json::{json, Value};
use stripe::{Client, ClientBuilder, StripeError};
use stripe_core::balance_transaction::{ListBalanceTransaction, RetrieveBalanceTransaction};
use stripe_core::payout::{ListPayout, RetrievePayout};
use stripe_shared::{
    ApiErrorsCode, BalanceTransaction, BalanceTransactionSource, BalanceTransactionType, DisputeStatus,
    Payout, PayoutType,
};
use stripe_types::{Currency, Expandable, RangeBoundsTs, RangeQueryTs};
use zbor_stripe::events::Event;
use zbor_stripe_sim::Simulator;

const DAY: i64 = 24 * 3600;

fn client(sim: &Simulator) -> Client {
    ClientBuilder::new(KEY).url(sim.base_url.clone()).build().unwrap()
}

/// A donor pays `amount` cents (EUR) by card; returns the charge.
async fn card_payment(sim: &Simulator, amount: &str) -> Value {
    let session = common::session(sim, amount).await;
    let (status, paid) =
        sim_post(sim, &format!("checkout/sessions/{session}/pay"), json!({"method": "card"})).await;
    assert_eq!(status, 200, "{paid}");
    sim.charge(paid["payment_intent"].as_str().unwrap()).unwrap()
}

/// A Connect transfer of `amount` cents in `currency`, made over plain HTTP.
async fn transfer(sim: &Simulator, amount: &str, currency: &str) -> Value {
    let form = [("amount", amount), ("currency", currency), ("destination", "acct_1BeneficiaryAna")];
    let (status, _, transfer) = post_form(sim, "transfers", &form, None).await;
    assert_eq!(status, 200, "{transfer}");
    transfer
}

fn id(object: &Value, field: &str) -> String {
    object[field].as_str().unwrap().to_owned()
}

/// What a balance transaction's expanded `source` is, and its id.
fn source(txn: &BalanceTransaction) -> (&'static str, String) {
    let Some(Expandable::Object(source)) = &txn.source else { panic!("{} not expanded", txn.id) };
    match source.as_ref() {
        BalanceTransactionSource::Charge(o) => ("charge", o.id.to_string()),
        BalanceTransactionSource::Refund(o) => ("refund", o.id.to_string()),
        BalanceTransactionSource::Dispute(o) => ("dispute", o.id.to_string()),
        BalanceTransactionSource::Transfer(o) => ("transfer", o.id.to_string()),
        BalanceTransactionSource::TransferReversal(o) => ("transfer_reversal", o.id.to_string()),
        BalanceTransactionSource::Payout(o) => ("payout", o.id.to_string()),
        _ => panic!("{}: unexpected source", txn.id),
    }
}

fn ids(txns: &[BalanceTransaction]) -> Vec<String> {
    txns.iter().map(|t| t.id.to_string()).collect()
}

/// The fields of a payout zbor's payout handlers read (`zbor_reconcile`'s `stripe_payouts.rs`).
#[derive(Debug, Deserialize, PartialEq)]
struct ZborPayout {
    id: String,
    amount: i64,
    currency: String,
    #[serde(default)]
    arrival_date: Option<i64>,
    #[serde(default)]
    failure_code: Option<String>,
}

#[tokio::test]
async fn yesterdays_balance_transactions_page_newest_first_with_their_sources() {
    let sim = common::start(common::config(None)).await;
    let stripe = client(&sim);

    // Two days ago, yesterday, today.
    sim.set_clock_offset(-2 * DAY);
    let old = card_payment(&sim, "1000").await; // fee 40
    sim.set_clock_offset(-DAY);
    let yesterday = sim.now();
    assert!((yesterday + DAY - chrono::Utc::now().timestamp()).abs() <= 1);
    let a = card_payment(&sim, "2500").await; // fee 63
    let b = card_payment(&sim, "3000").await; // fee 70
    let refund = sim.refund(&id(&a, "payment_intent"), Some(500)).unwrap();
    let dispute = sim.dispute(&id(&b, "id")).unwrap();
    let transfer = transfer(&sim, "1000", "eur").await;
    let reversal = sim.reverse_transfer(&id(&transfer, "id"), Some(400)).unwrap();
    let payout = sim.pay_out("EUR").unwrap();
    // 960 + 2437 + 2930 - 500 - (3000 + 1500) - 1000 + 400
    assert_eq!((payout["amount"].as_i64(), payout["currency"].as_str()), (Some(727), Some("eur")));
    let won = sim.close_dispute(&id(&dispute, "id"), true).unwrap();
    sim.set_clock_offset(0);
    let today = card_payment(&sim, "1000").await;
    let usd = crate::transfer(&sim, "700", "usd").await;
    assert!(today["created"].as_i64().unwrap() >= yesterday + DAY - 1);

    let yesterdays = [
        (won["balance_transactions"][1]["id"].clone(), "dispute", id(&dispute, "id"), (3000, 0, 3000)),
        (payout["balance_transaction"].clone(), "payout", id(&payout, "id"), (-727, 0, -727)),
        (reversal["balance_transaction"].clone(), "transfer_reversal", id(&reversal, "id"), (400, 0, 400)),
        (transfer["balance_transaction"].clone(), "transfer", id(&transfer, "id"), (-1000, 0, -1000)),
        (
            dispute["balance_transactions"][0]["id"].clone(),
            "dispute",
            id(&dispute, "id"),
            (-3000, 1500, -4500),
        ),
        (refund["balance_transaction"].clone(), "refund", id(&refund, "id"), (-500, 0, -500)),
        (b["balance_transaction"].clone(), "charge", id(&b, "id"), (3000, 70, 2930)),
        (a["balance_transaction"].clone(), "charge", id(&a, "id"), (2500, 63, 2437)),
    ];
    let expected_ids: Vec<String> =
        yesterdays.iter().map(|(txn, ..)| txn.as_str().unwrap().to_owned()).collect();

    // Yesterday's, 3 a page, following `has_more` with `starting_after` as zbor's reconciliation does.
    let yesterday_range = RangeQueryTs::Bounds(RangeBoundsTs {
        gte: Some(yesterday - 3600),
        lt: Some(yesterday + 3600),
        ..RangeBoundsTs::default()
    });
    let request = ListBalanceTransaction::new()
        .created(yesterday_range)
        .limit(3)
        .expand(vec!["data.source".to_string()]);
    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut page_request = request.clone();
        if let Some(after) = &after {
            page_request = page_request.starting_after(after.clone());
        }
        let page = page_request.send(&stripe).await.unwrap();
        assert_eq!(page.url, "/v1/balance_transactions");
        after = page.data.last().map(|t| t.id.to_string());
        let more = page.has_more;
        pages.push(page);
        if !more {
            break;
        }
        assert!(pages.len() < 5, "paging does not end");
    }
    let shape: Vec<(usize, bool)> = pages.iter().map(|p| (p.data.len(), p.has_more)).collect();
    assert_eq!(shape, [(3, true), (3, true), (2, false)]);
    let all: Vec<BalanceTransaction> = pages.into_iter().flat_map(|p| p.data).collect();
    assert_eq!(ids(&all), expected_ids, "newest first, each once");
    for (txn, (_, kind, source_id, (amount, fee, net))) in all.iter().zip(&yesterdays) {
        assert_eq!(source(txn), (*kind, source_id.clone()));
        assert_eq!(
            (txn.amount, txn.fee, txn.net, txn.currency.clone()),
            (*amount, *fee, *net, Currency::EUR),
            "{}",
            txn.id
        );
        assert!((0..=5).contains(&(txn.created - yesterday)), "{} created {}", txn.id, txn.created);
    }
    let kinds: Vec<BalanceTransactionType> = all.iter().map(|t| t.type_.clone()).collect();
    use BalanceTransactionType as T;
    assert_eq!(
        kinds,
        [
            T::Adjustment,
            T::Payout,
            T::TransferRefund,
            T::Transfer,
            T::Adjustment,
            T::Refund,
            T::Charge,
            T::Charge
        ]
    );
    let categories: Vec<&str> = all.iter().map(|t| t.reporting_category.as_str()).collect();
    assert_eq!(
        categories,
        [
            "dispute_reversal",
            "payout",
            "transfer_reversal",
            "transfer",
            "dispute",
            "refund",
            "charge",
            "charge"
        ]
    );
    // sources as they are now: the dispute won, the payout paid
    let Some(Expandable::Object(first)) = &all[0].source else { panic!() };
    let is_won =
        matches!(first.as_ref(), BalanceTransactionSource::Dispute(d) if d.status == DisputeStatus::Won);
    assert!(is_won);
    let Some(Expandable::Object(second)) = &all[1].source else { panic!() };
    let is_paid = matches!(second.as_ref(), BalanceTransactionSource::Payout(p) if p.status == "paid");
    assert!(is_paid && ids(&all)[1] == id(&payout, "balance_transaction"));

    // Back a page from the last one: the 3 closest newer ones, more before them.
    let back = request.clone().ending_before(expected_ids[6].clone()).send(&stripe).await.unwrap();
    assert_eq!((ids(&back.data), back.has_more), (expected_ids[3..6].to_vec(), true));
    let first_page = request.clone().ending_before(expected_ids[3].clone()).send(&stripe).await.unwrap();
    assert_eq!((ids(&first_page.data), first_page.has_more), (expected_ids[..3].to_vec(), false));

    // Everything, no filter: today's first, two days ago's last; sources stay ids unexpanded.
    let everything = ListBalanceTransaction::new().limit(100).send(&stripe).await.unwrap();
    assert_eq!(everything.data.len(), 11);
    assert!(!everything.has_more);
    assert_eq!(everything.data[0].id.as_str(), usd["balance_transaction"]);
    assert_eq!(everything.data[1].id.as_str(), today["balance_transaction"]);
    assert_eq!(ids(&everything.data[2..10]), expected_ids);
    assert_eq!(everything.data[10].id.as_str(), old["balance_transaction"]);
    assert!(matches!(everything.data[10].source, Some(Expandable::Id(_))));
    let default_page = ListBalanceTransaction::new().send(&stripe).await.unwrap();
    assert_eq!((default_page.data.len(), default_page.has_more), (10, true));

    // What the payout paid out: its own and everything before it in EUR, two days ago's too.
    let paid_out = ListBalanceTransaction::new().payout(id(&payout, "id")).send(&stripe).await.unwrap();
    let mut expected_paid_out = expected_ids[1..].to_vec();
    expected_paid_out.push(id(&old, "balance_transaction"));
    assert_eq!((ids(&paid_out.data), paid_out.has_more), (expected_paid_out, false));
    assert_eq!(paid_out.data.iter().map(|t| t.net).sum::<i64>(), 0);

    // Filters: type, source, currency, a range's other bounds, an exact `created`.
    let charges = ListBalanceTransaction::new().type_("charge").send(&stripe).await.unwrap();
    let charge_txns = [&today, &b, &a, &old].map(|c| id(c, "balance_transaction"));
    assert_eq!(ids(&charges.data), charge_txns);
    let of_dispute = ListBalanceTransaction::new().source(id(&dispute, "id")).send(&stripe).await.unwrap();
    assert_eq!(ids(&of_dispute.data), [expected_ids[0].clone(), expected_ids[4].clone()]);
    let in_usd = ListBalanceTransaction::new().currency(Currency::USD).send(&stripe).await.unwrap();
    assert_eq!(ids(&in_usd.data), [id(&usd, "balance_transaction")]);
    let before = ListBalanceTransaction::new()
        .created(RangeQueryTs::lt(yesterday - 3600))
        .send(&stripe)
        .await
        .unwrap();
    assert_eq!(ids(&before.data), [id(&old, "balance_transaction")]);
    let old_created = old["created"].as_i64().unwrap();
    let exactly =
        ListBalanceTransaction::new().created(RangeQueryTs::eq(old_created)).send(&stripe).await.unwrap();
    assert_eq!(ids(&exactly.data), [id(&old, "balance_transaction")]);
    let (status, _, range) = get(
        &sim,
        &format!(
            "balance_transactions?created[gt]={}&created[lte]={}&limit=100",
            yesterday - 3600,
            yesterday + 3600
        ),
    )
    .await;
    assert_eq!(status, 200);
    let listed: Vec<&str> =
        range["data"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(listed, expected_ids);

    // `expand` as a browser or curl writes it, and as serde_qs percent-encodes it.
    for query in ["expand[]=data.source", "expand%5B0%5D=data.source", "expand=data.source"] {
        let (status, _, list) = get(&sim, &format!("balance_transactions?limit=1&{query}")).await;
        assert_eq!(status, 200, "{query}: {list}");
        assert_eq!(list["data"][0]["source"]["object"], "transfer", "{query}");
    }
    let (status, _, one) =
        get(&sim, &format!("balance_transactions/{}?expand[]=source", expected_ids[1])).await;
    assert_eq!(
        (status, &one["source"]["object"], &one["source"]["id"]),
        (200, &json!("payout"), &payout["id"])
    );
    let expanded = RetrieveBalanceTransaction::new(expected_ids[5].as_str())
        .expand(vec!["source".to_string()])
        .send(&stripe)
        .await
        .unwrap();
    assert_eq!(source(&expanded), ("refund", id(&refund, "id")));
}

#[tokio::test]
async fn list_parameters_are_checked_as_stripe_checks_them() {
    let sim = common::start(common::config(None)).await;
    let stripe = client(&sim);
    let charge = card_payment(&sim, "1000").await;

    for limit in ["0", "101", "-1", "ten"] {
        let (status, _, error) = get(&sim, &format!("balance_transactions?limit={limit}")).await;
        assert_eq!((status, error["error"]["param"].as_str()), (400, Some("limit")), "{limit}: {error}");
        assert_eq!(error["error"]["type"], "invalid_request_error");
        let (status, _, error) = get(&sim, &format!("payouts?limit={limit}")).await;
        assert_eq!((status, error["error"]["param"].as_str()), (400, Some("limit")), "{limit}: {error}");
    }
    for limit in [0, 101] {
        let error = ListBalanceTransaction::new().limit(limit).send(&stripe).await.unwrap_err();
        assert!(
            matches!(error, StripeError::Stripe(ref e, 400) if e.param.as_deref() == Some("limit")),
            "{error:?}"
        );
    }
    let (status, _, one) = get(&sim, "balance_transactions?limit=1").await;
    assert_eq!((status, one["data"][0]["id"].clone()), (200, charge["balance_transaction"].clone()));
    let (status, _, hundred) = get(&sim, "balance_transactions?limit=100").await;
    assert_eq!((status, hundred["data"].as_array().map(Vec::len)), (200, Some(1)));

    let (status, _, error) = get(&sim, "balance_transactions?starting_after=txn_missing").await;
    assert_eq!(
        (status, error),
        (
            400,
            json!({"error": {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "param": "starting_after",
                "message": "No such balance transaction: 'txn_missing'",
            }})
        )
    );
    let error = ListBalanceTransaction::new().ending_before("txn_missing").send(&stripe).await.unwrap_err();
    assert!(
        matches!(error, StripeError::Stripe(ref e, 400)
            if e.code == Some(ApiErrorsCode::ResourceMissing) && e.param.as_deref() == Some("ending_before")),
        "{error:?}"
    );
    let (status, _, error) = get(&sim, "payouts?starting_after=po_missing").await;
    assert_eq!((status, error["error"]["message"].as_str()), (400, Some("No such payout: 'po_missing'")));
    let (status, _, error) = get(&sim, "balance_transactions?payout=po_missing").await;
    assert_eq!((status, error["error"]["param"].as_str()), (400, Some("payout")));
    let (status, _, error) = get(&sim, "balance_transactions?created[gte]=yesterday").await;
    assert_eq!((status, error["error"]["param"].as_str()), (400, Some("created[gte]")));
    let (status, _, error) = get(&sim, "balance_transactions?colour=blue").await;
    assert_eq!(
        (status, error["error"]["message"].as_str()),
        (400, Some("Received unknown parameter: colour"))
    );
    let (status, _, error) = get(&sim, "balance_transactions?expand[]=data.payout").await;
    assert_eq!((status, error["error"]["param"].as_str()), (400, Some("expand")));
    let txn = id(&charge, "balance_transaction");
    let (status, _, error) =
        get(&sim, &format!("balance_transactions?starting_after={txn}&ending_before={txn}")).await;
    assert_eq!(status, 400, "{error}");
    let (status, _, error) = get(&sim, "balance_transactions/txn_missing").await;
    assert_eq!((status, error["error"]["code"].as_str()), (404, Some("resource_missing")));
}

#[tokio::test]
async fn a_payout_takes_the_available_balance_and_a_failed_one_gives_it_back() {
    let receiver = Receiver::start().await;
    let sim = common::start(common::config(Some(receiver.url.clone()))).await;
    let stripe = client(&sim);

    let a = card_payment(&sim, "10000").await; // fee 175: 9825
    let b = card_payment(&sim, "4000").await; // fee 85: 3915
    sim.refund(&id(&a, "id"), Some(1000)).unwrap();
    sim.dispute(&id(&b, "payment_intent")).unwrap(); // -4000 - 1500
    let transfer = transfer(&sim, "2000", "eur").await;
    sim.reverse_transfer(&id(&transfer, "id"), Some(500)).unwrap();
    assert_eq!(sim.pay_out("usd").unwrap_err().code(), Some("balance_insufficient"));

    let paid = sim.pay_out("eur").unwrap();
    let po = id(&paid, "id");
    assert!(po.starts_with("po_"), "{po}");
    let payout = RetrievePayout::new(po.as_str()).send(&stripe).await.unwrap();
    assert_eq!((payout.amount, payout.currency), (9825 + 3915 - 1000 - 5500 - 2000 + 500, Currency::EUR));
    assert_eq!(payout.amount, 5740);
    assert_eq!(
        (payout.status.as_str(), payout.automatic, payout.method.as_str()),
        ("paid", true, "standard")
    );
    assert_eq!(payout.type_, PayoutType::BankAccount);
    assert!(payout.destination.as_ref().unwrap().id().as_str().starts_with("ba_"));
    assert_eq!(payout.arrival_date, payout.created);
    assert_eq!(payout.statement_descriptor.as_deref(), Some("ZBOR STRIPE"));
    assert_eq!((payout.failure_code.as_deref(), payout.failure_message.as_deref()), (None, None));
    assert!(payout.failure_balance_transaction.is_none());
    assert_eq!(payout.trace_id.as_ref().map(|t| t.status.as_str()), Some("supported"));
    let txn_id = payout.balance_transaction.as_ref().unwrap().id().clone();
    let txn = RetrieveBalanceTransaction::new(txn_id.clone()).send(&stripe).await.unwrap();
    assert_eq!((txn.amount, txn.fee, txn.net), (-5740, 0, -5740));
    assert_eq!((txn.type_, txn.reporting_category.as_str()), (BalanceTransactionType::Payout, "payout"));
    assert_eq!(txn.source.as_ref().map(|s| s.id().to_string()), Some(po.clone()));

    // It paid out 2 charges, a refund, a dispute, a transfer and its reversal, and itself.
    let settled = ListBalanceTransaction::new().payout(po.as_str()).send(&stripe).await.unwrap();
    assert_eq!(settled.data.len(), 7);
    assert_eq!(settled.data[0].id, txn_id);
    assert_eq!(settled.data.iter().map(|t| t.net).sum::<i64>(), 0);

    // Nothing new: nothing to pay out.
    let error = sim.pay_out("eur").unwrap_err();
    assert_eq!((error.status(), error.code()), (400, Some("balance_insufficient")));
    assert_eq!(sim.pay_out("euro").unwrap_err().param(), Some("currency"));

    // The bank sends it back: the amount is on the balance again.
    let failed = sim.fail_payout(&po, "account_closed").unwrap();
    let failed: Payout = miniserde::json::from_str(&failed.to_string()).unwrap();
    assert_eq!(failed.status, "failed");
    assert_eq!(
        (failed.failure_code.as_deref(), failed.failure_message.as_deref()),
        (Some("account_closed"), Some("The bank account has been closed."))
    );
    let failure_txn = failed.failure_balance_transaction.as_ref().unwrap().id().clone();
    let back = RetrieveBalanceTransaction::new(failure_txn.clone()).send(&stripe).await.unwrap();
    assert_eq!((back.amount, back.fee, back.net), (5740, 0, 5740));
    assert_eq!(
        (back.type_, back.reporting_category.as_str()),
        (BalanceTransactionType::PayoutFailure, "payout_reversal")
    );
    assert_eq!(back.source.as_ref().map(|s| s.id().to_string()), Some(po.clone()));
    assert_eq!(sim.fail_payout(&po, "account_closed").unwrap_err().status(), 400);
    assert_eq!(sim.fail_payout(&po, "bad_luck").unwrap_err().param(), Some("failure_code"));
    assert_eq!(sim.fail_payout("po_missing", "no_account").unwrap_err().status(), 404);

    // The next payout takes the returned amount.
    let again = sim.pay_out("eur").unwrap();
    let po2 = id(&again, "id");
    assert_eq!(again["amount"], 5740);
    let settled = ListBalanceTransaction::new().payout(po2.as_str()).send(&stripe).await.unwrap();
    assert_eq!(ids(&settled.data), [id(&again, "balance_transaction"), failure_txn.to_string()]);

    // The list of payouts, newest first.
    let list_ids = |list: &[Payout]| list.iter().map(|p| p.id.to_string()).collect::<Vec<_>>();
    let payouts = ListPayout::new().send(&stripe).await.unwrap();
    assert_eq!((list_ids(&payouts.data), payouts.has_more), (vec![po2.clone(), po.clone()], false));
    assert_eq!(payouts.url, "/v1/payouts");
    let newest = ListPayout::new().limit(1).send(&stripe).await.unwrap();
    assert_eq!((list_ids(&newest.data), newest.has_more), (vec![po2.clone()], true));
    let older = ListPayout::new().limit(1).starting_after(po2.as_str()).send(&stripe).await.unwrap();
    assert_eq!((list_ids(&older.data), older.has_more), (vec![po.clone()], false));
    let newer = ListPayout::new().ending_before(po.as_str()).send(&stripe).await.unwrap();
    assert_eq!((list_ids(&newer.data), newer.has_more), (vec![po2.clone()], false));
    let failed_ones = ListPayout::new().status("failed").send(&stripe).await.unwrap();
    assert_eq!(list_ids(&failed_ones.data), [po.as_str()]);
    let earlier = ListPayout::new().created(RangeQueryTs::lt(payout.created)).send(&stripe).await.unwrap();
    assert!(earlier.data.is_empty());
    let since = ListPayout::new().created(RangeQueryTs::gte(payout.created)).send(&stripe).await.unwrap();
    assert_eq!(since.data.len(), 2);
    let missing = RetrievePayout::new("po_missing").send(&stripe).await.unwrap_err();
    assert!(
        matches!(missing, StripeError::Stripe(ref e, 404) if e.code == Some(ApiErrorsCode::ResourceMissing))
    );

    // Events: 2 payments (2 each), refund (2), dispute (2), transfer, reversal, then the payouts'.
    let events = receiver.wait_for(15).await;
    assert_eq!(events.len(), 15);
    let of_payout = |po: &str| -> Vec<(String, String)> {
        events
            .iter()
            .filter(|e| e["data"]["object"]["id"] == po)
            .map(|e| {
                (
                    e["type"].as_str().unwrap().to_owned(),
                    e["data"]["object"]["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let pairs =
        |list: &[(&str, &str)]| list.iter().map(|(t, s)| (t.to_string(), s.to_string())).collect::<Vec<_>>();
    assert_eq!(
        of_payout(&po),
        pairs(&[("payout.created", "in_transit"), ("payout.paid", "paid"), ("payout.failed", "failed")])
    );
    assert_eq!(of_payout(&po2), pairs(&[("payout.created", "in_transit"), ("payout.paid", "paid")]));
    for event in events.iter().filter(|e| e["type"].as_str().unwrap().starts_with("payout.")) {
        let parsed = Event::parse(event.to_string().as_bytes()).unwrap();
        let seen: ZborPayout = parsed.object_as("payout").unwrap();
        let failure_code = (parsed.kind == "payout.failed").then(|| "account_closed".to_owned());
        let arrival_date =
            if seen.id == po { payout.arrival_date } else { again["arrival_date"].as_i64().unwrap() };
        assert_eq!(
            seen,
            ZborPayout {
                id: seen.id.clone(),
                amount: 5740,
                currency: "eur".into(),
                arrival_date: Some(arrival_date),
                failure_code
            }
        );
        let typed: Payout = miniserde::json::from_str(&event["data"]["object"].to_string()).unwrap();
        assert_eq!(typed.amount, 5740);
    }
}
