//! Typed identifiers, so an account id can never be passed where a hold id is expected.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A ledger account, numbered by the database.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[sqlx(transparent)]
#[serde(transparent)]
pub struct AccountId(i64);

impl AccountId {
    pub fn from_i64(id: i64) -> AccountId {
        AccountId(id)
    }
    pub fn as_i64(&self) -> i64 {
        self.0
    }
}

/// A transaction, named by the caller and reused on every retry so a repeat books nothing new.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[sqlx(transparent)]
#[serde(transparent)]
pub struct TransactionId(Uuid);

/// A hold (pending two-phase transfer), named by the caller.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[sqlx(transparent)]
#[serde(transparent)]
pub struct HoldId(Uuid);

macro_rules! uuid_id {
    ($name:ident, $namespace:literal) => {
        impl $name {
            pub fn new_random() -> $name {
                $name(Uuid::new_v4())
            }
            pub fn from_uuid(id: Uuid) -> $name {
                $name(id)
            }
            /// A stable id derived from an external key (a Stripe payment id, a payout id), so
            /// every retry of the same external event names the same ledger entry.
            pub fn derived_from(key: &str) -> $name {
                let namespace = Uuid::new_v5(&Uuid::NAMESPACE_OID, $namespace.as_bytes());
                $name(Uuid::new_v5(&namespace, key.as_bytes()))
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

uuid_id!(TransactionId, "zbor.ledger.transaction");
uuid_id!(HoldId, "zbor.ledger.hold");

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({})", self.0)
    }
}
