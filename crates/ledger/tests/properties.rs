#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Random sequences of donations, spends, holds, posts, voids and replays keep every invariant:
//! the ledger agrees with a simple model, available never goes below zero, verify passes.

mod common;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use zbor_ledger::{
    AccountKind, Currency, Error, HoldId, Ledger, Money, NewHold, NewTransaction, Outcome, TransactionId,
};

#[derive(Debug, Clone)]
enum Op {
    Donate(i64),
    Spend(i64),
    Hold(i64),
    /// Post `percent` of the n-th hold made so far.
    PostHold(usize, i64),
    VoidHold(usize),
    /// Deliver the n-th donation again.
    Replay(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1i64..500_000).prop_map(Op::Donate),
        2 => (1i64..300_000).prop_map(Op::Spend),
        2 => (1i64..300_000).prop_map(Op::Hold),
        2 => (0usize..8, 1i64..=100).prop_map(|(n, p)| Op::PostHold(n, p)),
        1 => (0usize..8).prop_map(Op::VoidHold),
        1 => (0usize..8).prop_map(Op::Replay),
    ]
}

fn cents(minor: i64) -> Money {
    Money::from_minor_units(minor, Currency::parse("EUR").unwrap()).unwrap()
}

#[derive(Default)]
struct Model {
    posted: i64,
    /// (hold id, reserved cents, still pending)
    holds: Vec<(HoldId, i64, bool)>,
    donations: Vec<(TransactionId, i64)>,
}

impl Model {
    fn pending(&self) -> i64 {
        self.holds.iter().filter(|h| h.2).map(|h| h.1).sum()
    }
    fn available(&self) -> i64 {
        self.posted - self.pending()
    }
}

async fn run_case(ledger: &Ledger, case: usize, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let bank = account(ledger, &format!("bank:{case}"), AccountKind::Asset, false).await;
    let campaign = account(ledger, &format!("campaign:{case}"), AccountKind::Liability, true).await;
    let payable = account(ledger, &format!("payable:{case}"), AccountKind::Liability, false).await;
    let mut model = Model::default();
    for op in ops {
        match op {
            Op::Donate(c) => {
                let id = TransactionId::new_random();
                let tx = NewTransaction::new(id).debit(bank.id, cents(c)).credit(campaign.id, cents(c));
                prop_assert_eq!(ledger.post(&tx).await.unwrap(), Outcome::Created);
                model.posted += c;
                model.donations.push((id, c));
            }
            Op::Replay(n) => {
                if let Some((id, c)) = model.donations.get(n).copied() {
                    let tx = NewTransaction::new(id).debit(bank.id, cents(c)).credit(campaign.id, cents(c));
                    prop_assert_eq!(ledger.post(&tx).await.unwrap(), Outcome::AlreadyExisted);
                }
            }
            Op::Spend(c) => {
                let tx = NewTransaction::new(TransactionId::new_random())
                    .debit(campaign.id, cents(c))
                    .credit(payable.id, cents(c));
                match ledger.post(&tx).await {
                    Ok(_) => {
                        prop_assert!(c <= model.available());
                        model.posted -= c;
                    }
                    Err(Error::InsufficientFunds { .. }) => prop_assert!(c > model.available()),
                    Err(e) => return Err(TestCaseError::fail(format!("spend: {e}"))),
                }
            }
            Op::Hold(c) => {
                let id = HoldId::new_random();
                let hold = NewHold {
                    id,
                    debit: campaign.id,
                    credit: payable.id,
                    amount: cents(c),
                    expires_at: None,
                    metadata: serde_json::json!({}),
                };
                match ledger.create_hold(&hold).await {
                    Ok(_) => {
                        prop_assert!(c <= model.available());
                        model.holds.push((id, c, true));
                    }
                    Err(Error::InsufficientFunds { .. }) => prop_assert!(c > model.available()),
                    Err(e) => return Err(TestCaseError::fail(format!("hold: {e}"))),
                }
            }
            Op::PostHold(n, percent) => {
                if let Some((id, reserved, pending)) = model.holds.get(n).copied() {
                    let amount = (reserved * percent / 100).max(1);
                    let result = ledger
                        .post_hold(
                            id,
                            Some(cents(amount)),
                            TransactionId::new_random(),
                            serde_json::json!({}),
                        )
                        .await;
                    if pending {
                        prop_assert!(result.is_ok(), "{:?}", result);
                        model.posted -= amount;
                        model.holds[n].2 = false;
                    } else {
                        prop_assert!(matches!(result, Err(Error::HoldNotPending { .. })), "{:?}", result);
                    }
                }
            }
            Op::VoidHold(n) => {
                if let Some((id, _, pending)) = model.holds.get(n).copied() {
                    let result = ledger.void_hold(id).await;
                    if pending {
                        prop_assert_eq!(result.unwrap(), Outcome::Created);
                        model.holds[n].2 = false;
                    } else {
                        let acceptable =
                            result.is_ok() || matches!(result, Err(Error::HoldNotPending { .. }));
                        prop_assert!(acceptable, "void of a finished hold: {:?}", result);
                    }
                }
            }
        }
        let balance = ledger.balance(campaign.id).await.unwrap();
        prop_assert_eq!(balance.posted, cents(model.posted));
        prop_assert_eq!(balance.available, cents(model.available()));
        prop_assert!(!balance.available.is_negative());
    }
    ledger.seal_all().await.unwrap();
    let report = ledger.verify().await.unwrap();
    prop_assert!(report.is_ok(), "{:?}", report.first_problem);
    Ok(())
}

#[test]
fn random_operation_sequences_keep_every_invariant() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (db, ledger) = rt.block_on(setup(4));
    let mut runner = TestRunner::new(Config { cases: 64, ..Config::default() });
    let case = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&prop::collection::vec(op(), 1..40), |ops| {
            let n = case.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            rt.block_on(run_case(&ledger, n, ops))
        })
        .unwrap();
    rt.block_on(db.drop_database());
}
