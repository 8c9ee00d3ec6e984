//! Which donation amounts Stripe accepts, checked before calling Stripe so a donor gets a clear
//! answer at once and our rate limit is not spent on requests Stripe would refuse.

use zbor_ledger::{Currency, Money};

use crate::Error;

/// Stripe's minimum charge per settlement currency (docs.stripe.com/currencies#minimum-and-maximum-charge-amounts),
/// in the currency's major units. A currency not listed has no published minimum: zbor does not
/// open checkout in it rather than guess one.
const MINIMUMS: &[(&str, &str)] = &[
    ("AED", "2.00"),
    ("AUD", "0.50"),
    ("BGN", "1.00"),
    ("BRL", "0.50"),
    ("CAD", "0.50"),
    ("CHF", "0.50"),
    ("CZK", "15.00"),
    ("DKK", "2.50"),
    ("EUR", "0.50"),
    ("GBP", "0.30"),
    ("HKD", "4.00"),
    ("HUF", "175.00"),
    ("INR", "0.50"),
    ("JPY", "50"),
    ("MXN", "10"),
    ("MYR", "2"),
    ("NOK", "3.00"),
    ("NZD", "0.50"),
    ("PLN", "2.00"),
    ("RON", "2.00"),
    ("SEK", "3.00"),
    ("SGD", "0.50"),
    ("THB", "10"),
    ("USD", "0.50"),
];

/// Stripe's largest amount for a charge: eight digits of minor units (999,999.99 for EUR).
const MAXIMUM_MINOR_UNITS: i64 = 99_999_999;

pub fn minimum(currency: Currency) -> Result<Money, Error> {
    let (_, amount) = MINIMUMS.iter().find(|(code, _)| *code == currency.code()).ok_or_else(|| {
        Error::invalid("currency", format!("checkout in {currency} is not supported by Stripe"))
    })?;
    Ok(Money::parse(amount, currency)?)
}

pub fn maximum(currency: Currency) -> Result<Money, Error> {
    Ok(Money::from_minor_units(MAXIMUM_MINOR_UNITS, currency)?)
}

/// Parses a donor's amount: a decimal string in the currency's scale, within Stripe's limits.
pub fn donation(amount: &str, currency: Currency) -> Result<Money, Error> {
    let money = Money::parse(amount, currency).map_err(|e| Error::invalid("amount", e))?;
    let min = minimum(currency)?;
    let max = maximum(currency)?;
    if money.checked_cmp(&min)?.is_lt() {
        return Err(Error::invalid(
            "amount",
            format!("the smallest donation is {} {currency}", min.amount()),
        ));
    }
    if money.checked_cmp(&max)?.is_gt() {
        return Err(Error::invalid("amount", format!("the largest donation is {} {currency}", max.amount())));
    }
    Ok(money)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    #[test]
    fn accepts_amounts_within_stripes_limits() {
        assert_eq!(donation("25.00", eur()).unwrap().to_minor_units().unwrap(), 2500);
        assert_eq!(donation("0.50", eur()).unwrap().to_minor_units().unwrap(), 50);
        assert_eq!(donation("999999.99", eur()).unwrap().to_minor_units().unwrap(), 99_999_999);
        assert_eq!(donation("50", Currency::parse("JPY").unwrap()).unwrap().to_minor_units().unwrap(), 50);
    }

    #[test]
    fn refuses_too_small_too_large_too_fine_and_malformed() {
        for bad in ["0.49", "0", "-5.00", "1000000.00", "25.001", "1e3", "25,00", "", "abc", " 25.00x"] {
            let error = donation(bad, eur()).unwrap_err();
            assert!(matches!(error, Error::InvalidField { field: "amount", .. }), "{bad}: {error}");
        }
        assert!(donation("0.3", Currency::parse("GBP").unwrap()).is_ok());
        assert!(donation("49", Currency::parse("JPY").unwrap()).is_err());
        assert!(donation("1.5", Currency::parse("JPY").unwrap()).is_err());
    }

    #[test]
    fn every_listed_minimum_is_a_known_currency_at_its_scale() {
        for (code, _) in MINIMUMS {
            let currency = Currency::parse(code).unwrap();
            assert!(minimum(currency).unwrap().is_positive(), "{code}");
        }
        let unlisted = Currency::parse("BYN").unwrap();
        assert!(matches!(minimum(unlisted), Err(Error::InvalidField { field: "currency", .. })));
    }
}
