//! An exact amount in one currency. No floats, no silent rounding, no panics.

use std::fmt;

use rust_decimal::Decimal;

use crate::{Currency, Error};

/// An amount of money, always held at exactly its currency's scale (`10.50 EUR`, `500 JPY`).
///
/// Fields are private: `Money::new`, `Money::parse` and `Money::from_minor_units` are the only
/// constructors, and each refuses an amount finer than the currency allows.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// Checks that `amount` fits the currency's scale and stores it at exactly that scale.
    /// `10.5 EUR` becomes `10.50 EUR`; `10.505 EUR` is an error, never rounded.
    pub fn new(amount: Decimal, currency: Currency) -> Result<Money, Error> {
        let scale = currency.minor_units();
        let normalized = amount.normalize();
        if normalized.scale() > scale {
            return Err(Error::TooPrecise { amount: amount.to_string(), currency, scale });
        }
        let mut exact = normalized;
        // Raising the scale multiplies the mantissa by 10^n. Near Decimal's 96-bit limit `rescale`
        // quietly stops at a lower scale; an amount not at the currency's scale would make
        // `to_minor_units` wrong by powers of ten, so that is an overflow.
        exact.rescale(scale);
        if exact.scale() != scale || exact != normalized {
            return Err(Error::Overflow);
        }
        Ok(Money { amount: exact, currency })
    }

    /// Parses a decimal string such as `"25.00"` or `"25"`. Exponents, thousands separators and
    /// surrounding text are refused.
    pub fn parse(amount: &str, currency: Currency) -> Result<Money, Error> {
        let trimmed = amount.trim();
        let well_formed = !trimmed.is_empty()
            && trimmed.len() <= 40
            && trimmed.strip_prefix('-').unwrap_or(trimmed).split_once('.').map_or_else(
                || all_digits(trimmed.strip_prefix('-').unwrap_or(trimmed)),
                |(whole, fraction)| all_digits(whole) && all_digits(fraction),
            );
        if !well_formed {
            return Err(Error::InvalidAmount(amount.chars().take(40).collect()));
        }
        let decimal = Decimal::from_str_exact(trimmed)
            .map_err(|_| Error::InvalidAmount(amount.chars().take(40).collect()))?;
        Money::new(decimal, currency)
    }

    pub fn zero(currency: Currency) -> Money {
        let mut amount = Decimal::ZERO;
        amount.rescale(currency.minor_units());
        Money { amount, currency }
    }

    /// From Stripe's integer amount in the smallest unit (`2500` EUR cents is `25.00 EUR`).
    pub fn from_minor_units(minor: i64, currency: Currency) -> Result<Money, Error> {
        let amount = Decimal::try_from_i128_with_scale(i128::from(minor), currency.minor_units())
            .map_err(|_| Error::Overflow)?;
        Money::new(amount, currency)
    }

    /// To Stripe's integer amount in the smallest unit; exact or an error.
    pub fn to_minor_units(&self) -> Result<i64, Error> {
        // `amount` is held at exactly the currency's scale, so the mantissa is the minor amount.
        debug_assert_eq!(self.amount.scale(), self.currency.minor_units());
        i64::try_from(self.amount.mantissa()).map_err(|_| Error::Overflow)
    }

    pub fn amount(&self) -> Decimal {
        self.amount
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    pub fn is_positive(&self) -> bool {
        self.amount.is_sign_positive() && !self.amount.is_zero()
    }

    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    fn same_currency(&self, other: &Money) -> Result<(), Error> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(Error::CurrencyMismatch { expected: self.currency, found: other.currency })
        }
    }

    pub fn checked_add(&self, other: &Money) -> Result<Money, Error> {
        self.same_currency(other)?;
        let sum = self.amount.checked_add(other.amount).ok_or(Error::Overflow)?;
        Money::new(sum, self.currency)
    }

    pub fn checked_sub(&self, other: &Money) -> Result<Money, Error> {
        self.same_currency(other)?;
        let difference = self.amount.checked_sub(other.amount).ok_or(Error::Overflow)?;
        Money::new(difference, self.currency)
    }

    /// Multiplies by a whole count, e.g. 123 beneficiaries × EUR 1,000.
    pub fn checked_mul_count(&self, count: u64) -> Result<Money, Error> {
        let product = self.amount.checked_mul(Decimal::from(count)).ok_or(Error::Overflow)?;
        Money::new(product, self.currency)
    }

    pub fn negated(&self) -> Money {
        Money { amount: -self.amount, currency: self.currency }
    }

    /// Compares two amounts of the same currency.
    pub fn checked_cmp(&self, other: &Money) -> Result<std::cmp::Ordering, Error> {
        self.same_currency(other)?;
        Ok(self.amount.cmp(&other.amount))
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({} {})", self.amount, self.currency)
    }
}

/// JSON shape: `{"amount": "25.00", "currency": "EUR"}`: amounts as strings, never JSON numbers,
/// which many clients read as floats.
impl serde::Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Money", 2)?;
        s.serialize_field("amount", &self.amount.to_string())?;
        s.serialize_field("currency", &self.currency)?;
        s.end()
    }
}

/// The JSON shape above, for the API's OpenAPI document.
impl utoipa::PartialSchema for Money {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
        let amount = ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("a decimal at the currency's scale, never a JSON number"))
            .pattern(Some(r"^-?[0-9]{1,18}(\.[0-9]{1,4})?$"))
            .examples(["1000.00"]);
        ObjectBuilder::new()
            .property("amount", amount)
            .required("amount")
            .property("currency", Currency::schema())
            .required("currency")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .into()
    }
}

impl utoipa::ToSchema for Money {}

impl<'de> serde::Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            amount: String,
            currency: Currency,
        }
        let raw = Raw::deserialize(deserializer)?;
        Money::parse(&raw.amount, raw.currency).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    #[test]
    fn amounts_are_held_at_the_currency_scale() {
        assert_eq!(Money::parse("10.5", eur()).unwrap().amount().to_string(), "10.50");
        assert_eq!(Money::parse("10", eur()).unwrap().amount().to_string(), "10.00");
        assert_eq!(Money::parse("10.500", eur()).unwrap().amount().to_string(), "10.50");
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(Money::parse("500", jpy).unwrap().to_string(), "500 JPY");
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(Money::parse("1.5", kwd).unwrap().amount().to_string(), "1.500");
    }

    #[test]
    fn finer_than_the_currency_is_an_error_not_a_rounding() {
        assert!(matches!(Money::parse("10.505", eur()), Err(Error::TooPrecise { .. })));
        let jpy = Currency::parse("JPY").unwrap();
        assert!(matches!(Money::parse("1.5", jpy), Err(Error::TooPrecise { .. })));
        let kwd = Currency::parse("KWD").unwrap();
        assert!(matches!(Money::parse("1.0005", kwd), Err(Error::TooPrecise { .. })));
    }

    #[test]
    fn malformed_strings_are_refused() {
        for bad in ["", " ", "1e3", "1,000.00", "ten", "1.2.3", "--1", "+1", ".5", "5.", "NaN", "0x10"] {
            assert!(matches!(Money::parse(bad, eur()), Err(Error::InvalidAmount(_))), "{bad:?}");
        }
    }

    #[test]
    fn mixing_currencies_is_an_error() {
        let a = Money::parse("1", eur()).unwrap();
        let b = Money::parse("1", Currency::parse("USD").unwrap()).unwrap();
        assert!(matches!(a.checked_add(&b), Err(Error::CurrencyMismatch { .. })));
        assert!(matches!(a.checked_sub(&b), Err(Error::CurrencyMismatch { .. })));
        assert!(matches!(a.checked_cmp(&b), Err(Error::CurrencyMismatch { .. })));
    }

    #[test]
    fn overflow_is_an_error_not_a_panic() {
        let huge = Money::new(Decimal::MAX.trunc(), Currency::parse("JPY").unwrap()).unwrap();
        assert!(matches!(huge.checked_add(&huge), Err(Error::Overflow)));
        assert!(matches!(huge.checked_mul_count(2), Err(Error::Overflow)));
        assert!(matches!(huge.to_minor_units(), Err(Error::Overflow)));
        // Decimal::MAX cannot be held at two decimal places.
        assert!(matches!(Money::new(Decimal::MAX, eur()), Err(Error::Overflow)));
    }

    #[test]
    fn stripe_minor_units_are_exact() {
        assert_eq!(Money::from_minor_units(2500, eur()).unwrap().amount().to_string(), "25.00");
        assert_eq!(Money::parse("25.01", eur()).unwrap().to_minor_units().unwrap(), 2501);
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(Money::from_minor_units(500, jpy).unwrap().amount().to_string(), "500");
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(Money::from_minor_units(1234, kwd).unwrap().amount().to_string(), "1.234");
        assert_eq!(Money::parse("-0.01", eur()).unwrap().to_minor_units().unwrap(), -1);
    }

    #[test]
    fn json_uses_strings() {
        let m = Money::parse("123000", eur()).unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"amount":"123000.00","currency":"EUR"}"#);
        let back: Money = serde_json::from_str(r#"{"amount":"1.5","currency":"eur"}"#).unwrap();
        assert_eq!(back.amount().to_string(), "1.50");
        assert!(serde_json::from_str::<Money>(r#"{"amount":1.5,"currency":"EUR"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1.555","currency":"EUR"}"#).is_err());
    }

    proptest! {
        #[test]
        fn minor_units_round_trip(minor in any::<i64>(), code in prop::sample::select(vec!["EUR", "JPY", "KWD"])) {
            let currency = Currency::parse(code).unwrap();
            let money = Money::from_minor_units(minor, currency).unwrap();
            prop_assert_eq!(money.to_minor_units().unwrap(), minor);
            prop_assert_eq!(Money::parse(&money.amount().to_string(), currency).unwrap(), money);
        }

        #[test]
        fn addition_is_exact(a in -1_000_000_000_000i64..1_000_000_000_000, b in -1_000_000_000_000i64..1_000_000_000_000) {
            let eur = Currency::parse("EUR").unwrap();
            let sum = Money::from_minor_units(a, eur).unwrap()
                .checked_add(&Money::from_minor_units(b, eur).unwrap()).unwrap();
            prop_assert_eq!(sum.to_minor_units().unwrap(), a + b);
            let back = sum.checked_sub(&Money::from_minor_units(b, eur).unwrap()).unwrap();
            prop_assert_eq!(back.to_minor_units().unwrap(), a);
        }
    }
}
