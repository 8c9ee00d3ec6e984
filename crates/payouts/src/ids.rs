//! The ids of payouts' own rows: batches, payouts and SEPA files.
//!
//! They live together here, not in `batches`, `treasury` and `sepa_files`, because each of them
//! crosses all three (a payout names its batch and its SEPA file, a batch lists its payouts, the
//! jobs, the worker and [`crate::Error`] name payouts): one small module that depends on nothing
//! keeps those modules from importing each other for an id. `BeneficiaryId` stays in
//! [`crate::beneficiaries`], whose module owns beneficiaries.
//!
//! Each is an `i64` in the database (`bigint`) and in JSON (a number), like `BeneficiaryId`.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
        #[sqlx(transparent)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            pub fn from_i64(id: i64) -> $name {
                $name(id)
            }

            pub fn as_i64(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id!(
    /// A payout batch (`payout_batches.id`).
    BatchId
);
id!(
    /// One payout of a batch (`payouts.id`).
    PayoutId
);
id!(
    /// A SEPA pain.001 file made for a batch (`sepa_files.id`).
    SepaFileId
);
