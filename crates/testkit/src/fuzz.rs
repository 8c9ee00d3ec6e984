//! The crates' `tests/fuzz.rs` harness (docs/FUZZING.md): a property run on generated input,
//! counting the cases and the panics, so every run reports what it did.
#![allow(clippy::panic)] // test support: a failed property is a failed test

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Cases per property: `ZBOR_FUZZ_CASES`, or few enough that `cargo test` stays fast.
pub fn cases() -> u32 {
    std::env::var("ZBOR_FUZZ_CASES").ok().and_then(|n| n.trim().parse().ok()).unwrap_or(256)
}

/// Runs `property` on [`cases`] generated inputs (a fresh random seed each run; proptest prints
/// the smallest failing input). A panic is counted and fails the property like a failed check.
/// Prints `fuzz {crate}::{name}: N cases, P panics`; `crate` is the caller's package name.
pub fn run<S: Strategy>(
    crate_name: &str,
    name: &str,
    strategy: S,
    property: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let config = Config { cases: cases(), failure_persistence: None, ..Config::default() };
    let (ran, panics) = (AtomicU64::new(0), AtomicU64::new(0));
    let result = TestRunner::new(config).run(&strategy, |input| {
        ran.fetch_add(1, Ordering::Relaxed);
        catch_unwind(AssertUnwindSafe(|| property(input))).unwrap_or_else(|_| {
            panics.fetch_add(1, Ordering::Relaxed);
            Err(TestCaseError::fail("panicked"))
        })
    });
    let crate_name = crate_name.replace('-', "_");
    eprintln!("fuzz {crate_name}::{name}: {} cases, {} panics", ran.into_inner(), panics.into_inner());
    if let Err(failure) = result {
        panic!("{name}: {failure}");
    }
}
