#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test support
//! Donations booked the way Stripe's events book them: zbor-intake's own test fixtures (Stripe's
//! example objects, patched), through the real event store and handlers; not a copy.

#[path = "../../../intake/tests/common/mod.rs"]
pub mod intake;
