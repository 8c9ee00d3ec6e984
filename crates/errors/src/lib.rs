//! What kind of failure an error is.
//!
//! Each crate keeps its own error enum (its variants say what went wrong in its own words) and
//! implements [`Classified`]: the [`ErrorKind`] says how the edge answers it (HTTP status,
//! whether the client may retry, whether it is logged as a fault), and the code is the stable,
//! machine-readable word clients match on (`insufficient_funds`, `four_eyes`, ...). The server
//! maps kinds to statuses in one place, so a new variant in any crate needs no change there.

/// How an error is answered. The HTTP statuses are those `zbor serve` uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The request could not be read at all: malformed JSON, a bad signature (400).
    Malformed,
    /// No credentials, or wrong ones (401).
    Unauthenticated,
    /// Authenticated, but not allowed: wrong role, four eyes, CSRF (403).
    Forbidden,
    /// What the request names does not exist (404).
    NotFound,
    /// The request is valid but conflicts with the current state: wrong status, taken, locked (409).
    Conflict,
    /// The request was read but a value is not acceptable (422).
    Invalid,
    /// Too many requests from this client, or too many failed attempts (429).
    RateLimited,
    /// A dependency zbor calls failed or refused (502): Stripe.
    Upstream,
    /// Not configured, or busy: retrying later may work (503).
    Unavailable,
    /// zbor failed: a bug, a database error (500). Logged; the client sees no detail.
    Internal,
}

impl ErrorKind {
    /// True for the kinds that are the client's to fix (4xx).
    pub fn is_client_error(self) -> bool {
        !matches!(self, ErrorKind::Upstream | ErrorKind::Unavailable | ErrorKind::Internal)
    }
}

/// An error that knows its kind and its stable code.
pub trait Classified: std::error::Error {
    fn kind(&self) -> ErrorKind;

    /// The machine-readable code; by default one per kind.
    fn code(&self) -> &'static str {
        default_code(self.kind())
    }

    /// True when the request itself is wrong (a 4xx), false when the system failed (a 5xx).
    fn is_client_error(&self) -> bool {
        self.kind().is_client_error()
    }
}

/// The code an error of `kind` answers with when it names no more precise one.
pub fn default_code(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Malformed => "bad_request",
        ErrorKind::Unauthenticated => "unauthorized",
        ErrorKind::Forbidden => "forbidden",
        ErrorKind::NotFound => "not_found",
        ErrorKind::Conflict => "conflict",
        ErrorKind::Invalid => "invalid_request",
        ErrorKind::RateLimited => "rate_limited",
        ErrorKind::Upstream => "upstream_unavailable",
        ErrorKind::Unavailable => "unavailable",
        ErrorKind::Internal => "internal",
    }
}

/// Any crate's error, boxed, for code that passes errors of several crates along (the Stripe
/// event dispatcher's handlers) without losing their kind.
pub type BoxedError = Box<dyn Classified + Send + Sync + 'static>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_client_kinds_are_client_errors() {
        assert!(ErrorKind::Invalid.is_client_error());
        assert!(ErrorKind::Conflict.is_client_error());
        assert!(!ErrorKind::Internal.is_client_error());
        assert!(!ErrorKind::Upstream.is_client_error());
        assert_eq!(default_code(ErrorKind::NotFound), "not_found");
    }
}
