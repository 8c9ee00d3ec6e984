//! ISO 4217 currencies with the number of minor units Stripe uses for them.

use std::fmt;

use crate::Error;

/// A currency zbor can hold money in. There is deliberately no `Default`: every amount names its
/// currency, and `Currency::parse` is the only way to make one.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: &'static str,
    minor_units: u32,
}

/// Stripe's zero-decimal currencies: amounts are whole units on the wire.
const ZERO_DECIMAL: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF",
    "XPF",
];

/// Stripe's three-decimal currencies.
const THREE_DECIMAL: &[&str] = &["BHD", "JOD", "KWD", "OMR", "TND"];

/// Active ISO 4217 currency codes; every one not listed above has two minor units.
const KNOWN: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD",
    "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CLP", "CNY",
    "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP",
    "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR",
    "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MYR",
    "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG",
    "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "STN",
    "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS",
    "VND", "VUV", "WST", "XAF", "XCD", "XOF", "XPF", "YER", "ZAR", "ZMW",
];

/// The finest scale any currency has; the database refuses anything finer.
pub const MAX_MINOR_UNITS: u32 = 3;

impl Currency {
    /// Parses a three-letter code, case-insensitively (Stripe sends `eur`, people write `EUR`).
    pub fn parse(code: &str) -> Result<Currency, Error> {
        let upper = code.trim().to_ascii_uppercase();
        let Some(known) = KNOWN.iter().find(|known| **known == upper) else {
            return Err(Error::UnknownCurrency(code.chars().take(8).collect()));
        };
        let minor_units = if ZERO_DECIMAL.contains(known) {
            0
        } else if THREE_DECIMAL.contains(known) {
            3
        } else {
            2
        };
        Ok(Currency { code: known, minor_units })
    }

    /// Every currency zbor knows (the database's `ledger_currencies` holds the same list).
    pub fn all() -> impl Iterator<Item = Currency> {
        KNOWN.iter().filter_map(|code| Currency::parse(code).ok())
    }

    /// Upper-case ISO code, e.g. `EUR`.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// Lower-case code as Stripe's API writes it, e.g. `eur`.
    pub fn stripe_code(&self) -> String {
        self.code().to_ascii_lowercase()
    }

    /// Digits after the decimal point: 2 for EUR, 0 for JPY, 3 for KWD.
    pub fn minor_units(&self) -> u32 {
        self.minor_units
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for Currency {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

impl serde::Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

/// An ISO 4217 code, for the API's OpenAPI document.
impl utoipa::PartialSchema for Currency {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("an ISO 4217 currency code"))
            .pattern(Some("^[A-Z]{3}$"))
            .examples(["EUR"])
            .into()
    }
}

impl utoipa::ToSchema for Currency {}

impl<'de> serde::Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Currency::parse(&code).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_units_follow_stripe() {
        assert_eq!(Currency::parse("EUR").unwrap().minor_units(), 2);
        assert_eq!(Currency::parse("eur").unwrap().code(), "EUR");
        assert_eq!(Currency::parse("JPY").unwrap().minor_units(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().minor_units(), 3);
        for code in ZERO_DECIMAL {
            assert_eq!(Currency::parse(code).unwrap().minor_units(), 0, "{code}");
        }
        for code in THREE_DECIMAL {
            assert_eq!(Currency::parse(code).unwrap().minor_units(), 3, "{code}");
        }
    }

    #[test]
    fn unknown_codes_are_refused() {
        for bad in ["", "EU", "EURO", "XXX", "ZZZ", "€", "eur\0"] {
            assert!(matches!(Currency::parse(bad), Err(Error::UnknownCurrency(_))), "{bad:?}");
        }
    }

    #[test]
    fn serde_round_trip() {
        let eur: Currency = serde_json::from_str("\"eur\"").unwrap();
        assert_eq!(serde_json::to_string(&eur).unwrap(), "\"EUR\"");
        assert!(serde_json::from_str::<Currency>("\"ABC\"").is_err());
    }
}
