//! Money in the locale's format, built from the exact decimal string (`"123000.00"`): digits
//! are only ever moved, never computed, so no amount passes through a float. The pages' scripts
//! get the same [`MoneyStyle`] and the same rules, so a total reads alike on the server's page
//! and after a live update.

use serde::Serialize;

use crate::Lang;

/// No-break space: between groups of digits and before a trailing currency sign, as browsers'
/// `Intl.NumberFormat` writes them for these languages.
const NBSP: &str = "\u{a0}";
/// A percent sign after a no-break space, as de, be, ru, uk and lt write it.
const NBSP_PERCENT: &str = "\u{a0}%";

/// How one language writes one currency's amounts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MoneyStyle {
    /// Between groups of three digits.
    pub group: &'static str,
    /// Between the whole units and the fraction.
    pub decimal: &'static str,
    /// Before the digits (`€`), or empty.
    pub prefix: String,
    /// After the digits (` €`), or empty.
    pub suffix: String,
    /// The fewest digits left of the first group separator: Polish writes `1000` but `10 000`.
    pub min_grouping: usize,
    /// After a percentage's digits: `%` (en, pl), ` %` with a no-break space (de, be, ru, uk, lt).
    pub percent: &'static str,
}

/// The sign a currency is written with; the code for any other.
fn symbol(currency: &str) -> &str {
    match currency {
        "EUR" => "€",
        "USD" => "$",
        "GBP" => "£",
        "PLN" => "zł",
        "UAH" => "₴",
        other => other,
    }
}

pub fn money_style(lang: Lang, currency: &str) -> MoneyStyle {
    let sign = symbol(currency);
    let after = |group, min_grouping, percent| MoneyStyle {
        group,
        decimal: ",",
        prefix: String::new(),
        suffix: format!("{NBSP}{sign}"),
        min_grouping,
        percent,
    };
    match lang {
        Lang::En => {
            // "€25.00", but "CHF 25.00": a letter code keeps a space from the digits
            let spaced = sign.chars().all(|c| c.is_ascii_alphabetic());
            MoneyStyle {
                group: ",",
                decimal: ".",
                prefix: if spaced { format!("{sign}{NBSP}") } else { sign.to_owned() },
                suffix: String::new(),
                min_grouping: 1,
                percent: "%",
            }
        }
        Lang::De => after(".", 1, NBSP_PERCENT),
        Lang::Pl => after(NBSP, 2, "%"),
        Lang::Be | Lang::Ru | Lang::Uk | Lang::Lt => after(NBSP, 1, NBSP_PERCENT),
    }
}

/// `amount` (a decimal string such as `"-1234.50"`, as the API writes money) in `lang`'s format
/// with `currency`'s sign. `compact` drops a fraction of only zeros (`€25` on a button). A string
/// that is not a decimal number comes back as it is, rather than as a wrong amount.
pub fn money(lang: Lang, currency: &str, amount: &str, compact: bool) -> String {
    let style = money_style(lang, currency);
    let (negative, unsigned) = match amount.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, amount),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) {
        return amount.to_owned();
    }
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    out.push_str(&style.prefix);
    let grouped = whole.len() >= 3 + style.min_grouping;
    for (i, digit) in whole.chars().enumerate() {
        let left = whole.len() - i;
        if grouped && i > 0 && left % 3 == 0 {
            out.push_str(style.group);
        }
        out.push(digit);
    }
    let dropped = compact && fraction.bytes().all(|b| b == b'0');
    if !fraction.is_empty() && !dropped {
        out.push_str(style.decimal);
        out.push_str(fraction);
    }
    out.push_str(&style.suffix);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_each_locale() {
        let nb = |s: &str| s.replace(' ', NBSP);
        assert_eq!(money(Lang::En, "EUR", "123000.00", false), "€123,000.00");
        assert_eq!(money(Lang::De, "EUR", "123000.00", false), nb("123.000,00 €"));
        for lang in [Lang::Pl, Lang::Ru, Lang::Be, Lang::Uk, Lang::Lt] {
            assert_eq!(money(lang, "EUR", "123000.00", false), nb("123 000,00 €"), "{lang:?}");
        }
        assert_eq!(money(Lang::Pl, "EUR", "1000.00", false), nb("1000,00 €"));
        assert_eq!(money(Lang::Ru, "EUR", "1000.00", false), nb("1 000,00 €"));
        assert_eq!(money(Lang::En, "EUR", "999999999999.99", false), "€999,999,999,999.99");
        assert_eq!(money(Lang::En, "EUR", "-12.50", false), "-€12.50");
        assert_eq!(money(Lang::En, "EUR", "25.00", true), "€25");
        assert_eq!(money(Lang::En, "EUR", "25.50", true), "€25.50");
        assert_eq!(money(Lang::En, "CHF", "25.00", false), nb("CHF 25.00"));
        assert_eq!(money(Lang::Pl, "PLN", "25.00", false), nb("25,00 zł"));
        assert_eq!(money(Lang::En, "JPY", "1500", false), nb("JPY 1,500"));
        assert_eq!(money(Lang::En, "EUR", "0.10", false), "€0.10");
        assert_eq!(money(Lang::En, "EUR", "1e5", false), "1e5");
        assert_eq!(
            (money_style(Lang::En, "EUR").percent, money_style(Lang::De, "EUR").percent),
            ("%", NBSP_PERCENT)
        );
    }
}
