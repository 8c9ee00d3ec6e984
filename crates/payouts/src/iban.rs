//! IBANs (ISO 13616) and BICs (ISO 9362): parsed and normalised once, at the edge.
//!
//! An [`Iban`] prints only in masked form (`**** 3000`), through both `Display`
//! and `Debug`, so a full IBAN never reaches a log by accident; [`Iban::as_str`] is the one way
//! to the full value. Errors describe what is wrong, never the value itself.

use std::fmt;

/// Why a text is not a valid IBAN. The messages never contain the IBAN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IbanError {
    #[error("is empty")]
    Empty,
    #[error("may contain only letters A-Z and digits (spaces are ignored)")]
    InvalidCharacters,
    #[error("does not start with the code of a country that uses IBANs")]
    UnknownCountry,
    #[error("has {actual} characters; IBANs of its country have {expected}")]
    WrongLength { expected: usize, actual: usize },
    #[error("does not have its country's format (a letter where a digit is expected, or the reverse)")]
    WrongFormat,
    #[error("checksum is wrong (a character is mistyped)")]
    WrongChecksum,
}

/// Why a text is not a valid BIC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("must be 8 or 11 characters: 4 letters (bank), 2 letters (country), 2 letters or digits (location), optionally 3 letters or digits (branch)")]
pub struct BicError;

/// What a position of the account part (BBAN) may hold, as in SWIFT's IBAN registry.
#[derive(Clone, Copy)]
enum Class {
    /// digits (`n`)
    N,
    /// upper-case letters (`a`)
    A,
    /// either (`c`)
    C,
}
use Class::{A, C, N};

/// A BBAN's parts: so many characters of a class, in order.
type Structure = &'static [(usize, Class)];

/// Country code, IBAN length, and the structure of the BBAN, from SWIFT's IBAN registry: every
/// SEPA country and the other countries that issue IBANs and whose format is settled. Where
/// sources disagree on a part's class, the looser one (`C`) is used: the mod-97 checksum is
/// the real safeguard, and refusing a valid IBAN would leave a beneficiary unpaid.
const COUNTRIES: &[(&str, usize, Structure)] = &[
    ("AD", 24, &[(8, N), (12, C)]),
    ("AE", 23, &[(19, N)]),
    ("AL", 28, &[(8, N), (16, C)]),
    ("AT", 20, &[(16, N)]),
    ("AZ", 28, &[(4, A), (20, C)]),
    ("BA", 20, &[(16, N)]),
    ("BE", 16, &[(12, N)]),
    ("BG", 22, &[(4, A), (6, N), (8, C)]),
    ("BH", 22, &[(4, A), (14, C)]),
    ("BR", 29, &[(23, N), (1, A), (1, C)]),
    ("BY", 28, &[(4, C), (4, N), (16, C)]),
    ("CH", 21, &[(5, N), (12, C)]),
    ("CR", 22, &[(18, N)]),
    ("CY", 28, &[(8, N), (16, C)]),
    ("CZ", 24, &[(20, N)]),
    ("DE", 22, &[(18, N)]),
    ("DK", 18, &[(14, N)]),
    ("DO", 28, &[(4, C), (20, N)]),
    ("EE", 20, &[(16, N)]),
    ("EG", 29, &[(25, N)]),
    ("ES", 24, &[(20, N)]),
    ("FI", 18, &[(14, N)]),
    ("FO", 18, &[(14, N)]),
    ("FR", 27, &[(10, N), (11, C), (2, N)]),
    ("GB", 22, &[(4, A), (14, N)]),
    ("GE", 22, &[(2, C), (16, N)]),
    ("GI", 23, &[(4, A), (15, C)]),
    ("GL", 18, &[(14, N)]),
    ("GR", 27, &[(7, N), (16, C)]),
    ("GT", 28, &[(24, C)]),
    ("HR", 21, &[(17, N)]),
    ("HU", 28, &[(24, N)]),
    ("IE", 22, &[(4, C), (14, N)]),
    ("IL", 23, &[(19, N)]),
    ("IQ", 23, &[(4, A), (15, N)]),
    ("IS", 26, &[(22, N)]),
    ("IT", 27, &[(1, A), (10, N), (12, C)]),
    ("JO", 30, &[(4, A), (4, N), (18, C)]),
    ("KW", 30, &[(4, A), (22, C)]),
    ("KZ", 20, &[(3, N), (13, C)]),
    ("LB", 28, &[(4, N), (20, C)]),
    ("LC", 32, &[(4, A), (24, C)]),
    ("LI", 21, &[(5, N), (12, C)]),
    ("LT", 20, &[(16, N)]),
    ("LU", 20, &[(3, N), (13, C)]),
    ("LV", 21, &[(4, A), (13, C)]),
    ("LY", 25, &[(21, N)]),
    ("MC", 27, &[(10, N), (11, C), (2, N)]),
    ("MD", 24, &[(20, C)]),
    ("ME", 22, &[(18, N)]),
    ("MK", 19, &[(3, N), (10, C), (2, N)]),
    ("MR", 27, &[(23, N)]),
    ("MT", 31, &[(4, A), (5, N), (18, C)]),
    ("MU", 30, &[(4, A), (19, N), (3, A)]),
    ("NL", 18, &[(4, A), (10, N)]),
    ("NO", 15, &[(11, N)]),
    ("PK", 24, &[(4, C), (16, C)]),
    ("PL", 28, &[(24, N)]),
    ("PS", 29, &[(4, C), (21, C)]),
    ("PT", 25, &[(21, N)]),
    ("QA", 29, &[(4, A), (21, C)]),
    ("RO", 24, &[(4, A), (16, C)]),
    ("RS", 22, &[(18, N)]),
    ("SA", 24, &[(2, N), (18, C)]),
    ("SC", 31, &[(4, A), (20, N), (3, A)]),
    ("SE", 24, &[(20, N)]),
    ("SI", 19, &[(15, N)]),
    ("SK", 24, &[(20, N)]),
    ("SM", 27, &[(1, A), (10, N), (12, C)]),
    ("ST", 25, &[(21, N)]),
    ("SV", 28, &[(4, A), (20, N)]),
    ("TL", 23, &[(19, N)]),
    ("TN", 24, &[(20, N)]),
    ("TR", 26, &[(5, N), (17, C)]),
    ("UA", 29, &[(6, N), (19, C)]),
    ("VA", 22, &[(18, N)]),
    ("VG", 24, &[(4, C), (16, N)]),
    ("XK", 20, &[(16, N)]),
];

/// A valid IBAN in electronic form: upper case, no spaces.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Iban(String);

impl Iban {
    /// Normalises (drops all whitespace, upper-cases) and validates: known country, its length,
    /// its BBAN structure, and the ISO 13616 mod-97 checksum.
    pub fn parse(text: &str) -> Result<Iban, IbanError> {
        let iban: String =
            text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        if iban.is_empty() {
            return Err(IbanError::Empty);
        }
        if !iban.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
            return Err(IbanError::InvalidCharacters);
        }
        let country = iban.get(..2).ok_or(IbanError::UnknownCountry)?;
        let (_, length, bban) =
            COUNTRIES.iter().find(|(code, _, _)| *code == country).ok_or(IbanError::UnknownCountry)?;
        if iban.len() != *length {
            return Err(IbanError::WrongLength { expected: *length, actual: iban.len() });
        }
        let bytes = iban.as_bytes();
        if !bytes[2..4].iter().all(u8::is_ascii_digit) || !matches_structure(&bytes[4..], bban) {
            return Err(IbanError::WrongFormat);
        }
        if mod97(bytes) != 1 {
            return Err(IbanError::WrongChecksum);
        }
        Ok(Iban(iban))
    }

    /// The full IBAN, for sealing and for paying. Never log it: log [`Iban::masked`] instead.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The country code (`DE`).
    pub fn country(&self) -> &str {
        &self.0[..2]
    }

    /// The last four characters only: `**** 3000`, as banks print on a receipt. Not the country
    /// or the check digits (security review, issue 9): treasurers do not need them to tell
    /// beneficiaries apart, and the country alone says where a beneficiary banks. The same
    /// shape whatever the IBAN's length, so it does not tell the length either.
    pub fn masked(&self) -> String {
        // an `Iban` is ASCII and at least 15 characters long (Norway's): this cannot panic
        let last4 = &self.0[self.0.len() - 4..];
        format!("**** {last4}")
    }
}

/// Masked: a full IBAN must never be formatted into a log line.
impl fmt::Display for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Iban({})", self.masked())
    }
}

/// Deserialized through [`Iban::parse`]; the error names what is wrong, never the value.
impl<'de> serde::Deserialize<'de> for Iban {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Iban, D::Error> {
        let text = String::deserialize(d)?;
        Iban::parse(&text).map_err(|e| serde::de::Error::custom(format_args!("IBAN {e}")))
    }
}

fn matches_structure(bban: &[u8], structure: &[(usize, Class)]) -> bool {
    let mut rest = bban;
    for &(count, class) in structure {
        let Some((part, tail)) = rest.split_at_checked(count) else { return false };
        let ok = part.iter().all(|b| match class {
            N => b.is_ascii_digit(),
            A => b.is_ascii_uppercase(),
            C => b.is_ascii_uppercase() || b.is_ascii_digit(),
        });
        if !ok {
            return false;
        }
        rest = tail;
    }
    rest.is_empty()
}

/// ISO 7064 MOD 97-10 over the IBAN with its first four characters moved to the end and letters
/// replaced by 10..35, computed digit by digit so no big integer is needed. A valid IBAN gives 1.
/// `iban` holds only digits and upper-case letters.
fn mod97(iban: &[u8]) -> u32 {
    let (head, tail) = iban.split_at(4.min(iban.len()));
    tail.iter().chain(head).fold(0u32, |r, &b| {
        if b.is_ascii_digit() {
            (r * 10 + u32::from(b - b'0')) % 97
        } else {
            (r * 100 + u32::from(b - b'A') + 10) % 97
        }
    })
}

/// A BIC (SWIFT code), upper case without spaces: `COBADEFFXXX` or `COBADEFF`. It names a bank,
/// not a person, but it is sealed with the IBAN and kept out of `Debug` all the same.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Bic(String);

impl fmt::Debug for Bic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Bic(..)")
    }
}

impl Bic {
    /// Normalises (drops whitespace, upper-cases) and checks the format: 4 letters, 2 letters,
    /// 2 letters or digits, and optionally 3 letters or digits.
    pub fn parse(text: &str) -> Result<Bic, BicError> {
        let bic: String =
            text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        let b = bic.as_bytes();
        let alnum = |s: &[u8]| s.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        let valid =
            (b.len() == 8 || b.len() == 11) && b[..6].iter().all(u8::is_ascii_uppercase) && alnum(&b[6..]);
        if valid {
            Ok(Bic(bic))
        } else {
            Err(BicError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> serde::Deserialize<'de> for Bic {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Bic, D::Error> {
        let text = String::deserialize(d)?;
        Bic::parse(&text).map_err(|e| serde::de::Error::custom(format_args!("BIC {e}")))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    const VALID: &[&str] = &[
        "DE89370400440532013000",
        "GB82WEST12345698765432",
        "FR1420041010050500013M02606",
        "NL91ABNA0417164300",
        "LT121000011101001000",
        "PL61109010140000071219812874",
        "BE68539007547034",
        "AT611904300234573201",
        "ES9121000418450200051332",
        "IT60X0542811101000000123456",
        "CH9300762011623852957",
        "LV80BANK0000435195001",
        "EE382200221020145685",
        "NO9386011117947",
        "SE4550000000058398257466",
        "CZ6508000000192000145399",
        "BY13NBRB3600900000002Z00AB00",
        "UA213223130000026007233566001",
        "GE29NB0000000101904917",
        "IE29AIBK93115212345678",
        "MT84MALT011000012345MTLCAST001S",
    ];

    #[test]
    fn accepts_real_ibans() {
        for iban in VALID {
            let parsed = Iban::parse(iban).unwrap_or_else(|e| panic!("{iban}: {e}"));
            assert_eq!(parsed.as_str(), *iban);
        }
    }

    #[test]
    fn normalises_spaces_and_case() {
        let iban = Iban::parse(" de89 3704 0044 0532 0130 00\t").unwrap();
        assert_eq!(iban.as_str(), "DE89370400440532013000");
        assert_eq!(iban.country(), "DE");
        // a no-break space, as copied from a bank's web page
        assert_eq!(
            Iban::parse("GB82\u{a0}WEST\u{a0}1234\u{a0}5698\u{a0}7654\u{a0}32").unwrap().as_str(),
            "GB82WEST12345698765432"
        );
    }

    #[test]
    fn refuses_invalid_ibans() {
        // one digit changed
        assert_eq!(Iban::parse("DE89370400440532013001"), Err(IbanError::WrongChecksum));
        assert_eq!(Iban::parse("GB82WEST12345698765431"), Err(IbanError::WrongChecksum));
        // two digits swapped
        assert_eq!(Iban::parse("NL91ABNA0417164030"), Err(IbanError::WrongChecksum));
        assert_eq!(
            Iban::parse("DE8937040044053201300"),
            Err(IbanError::WrongLength { expected: 22, actual: 21 })
        );
        assert_eq!(
            Iban::parse("LT1210000111010010000"),
            Err(IbanError::WrongLength { expected: 20, actual: 21 })
        );
        assert_eq!(Iban::parse("XX89370400440532013000"), Err(IbanError::UnknownCountry));
        assert_eq!(Iban::parse("US89370400440532013000"), Err(IbanError::UnknownCountry));
        assert_eq!(Iban::parse("D"), Err(IbanError::UnknownCountry));
        assert_eq!(Iban::parse(""), Err(IbanError::Empty));
        assert_eq!(Iban::parse("   "), Err(IbanError::Empty));
        assert_eq!(Iban::parse("DE89-3704-0044-0532-0130-00"), Err(IbanError::InvalidCharacters));
        assert_eq!(Iban::parse("DE89 3704 0044 0532 0130 0Ä"), Err(IbanError::InvalidCharacters));
        // letters where digits belong (German BBANs are all digits), in the account part and in
        // the check digits
        assert_eq!(Iban::parse("DE89370400440532O13000"), Err(IbanError::WrongFormat));
        assert_eq!(Iban::parse("DEAB370400440532013000"), Err(IbanError::WrongFormat));
        // digits where letters belong (the bank code of a British or Dutch IBAN)
        assert_eq!(Iban::parse("GB82123456123456987654"), Err(IbanError::WrongFormat));
        assert_eq!(Iban::parse("NL9112340417164300"), Err(IbanError::WrongFormat));
    }

    #[test]
    fn a_wrong_letter_with_a_recomputed_checksum_is_still_caught_by_the_format() {
        // DE with a letter in the BBAN and check digits made to fit: only the structure catches it
        let bban = "37040044053201300A";
        let check = 98 - mod97(format!("DE00{bban}").as_bytes());
        let forged = format!("DE{check:02}{bban}");
        assert_eq!(mod97(forged.as_bytes()), 1);
        assert_eq!(Iban::parse(&forged), Err(IbanError::WrongFormat));
    }

    #[test]
    fn the_table_is_consistent() {
        for (code, length, bban) in COUNTRIES {
            let sum: usize = bban.iter().map(|(n, _)| n).sum();
            assert_eq!(sum + 4, *length, "{code}");
            assert!(code.bytes().all(|b| b.is_ascii_uppercase()) && code.len() == 2);
        }
        let codes: Vec<&str> = COUNTRIES.iter().map(|(c, _, _)| *c).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted, "sorted, no duplicates");
        // every SEPA country
        for sepa in [
            "AD", "AL", "AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GI",
            "GR", "HR", "HU", "IE", "IS", "IT", "LI", "LT", "LU", "LV", "MC", "MD", "ME", "MK", "MT", "NL",
            "NO", "PL", "PT", "RO", "RS", "SE", "SI", "SK", "SM", "VA",
        ] {
            assert!(codes.contains(&sepa), "{sepa}");
        }
    }

    #[test]
    fn prints_only_masked() {
        let iban = Iban::parse("DE89370400440532013000").unwrap();
        assert_eq!(iban.masked(), "**** 3000");
        assert_eq!(iban.to_string(), "**** 3000");
        assert_eq!(format!("{iban:?}"), "Iban(**** 3000)");
        // the shortest IBANs (Norway's) and the longest look alike: no country, no check digits,
        // no length
        assert_eq!(Iban::parse("NO9386011117947").unwrap().masked(), "**** 7947");
        assert_eq!(Iban::parse("LT121000011101001000").unwrap().masked(), "**** 1000");
        assert_eq!(Iban::parse("MT84MALT011000012345MTLCAST001S").unwrap().masked(), "**** 001S");
        for iban in VALID {
            let masked = Iban::parse(iban).unwrap().masked();
            assert_eq!(masked, format!("**** {}", &iban[iban.len() - 4..]));
        }
    }

    #[test]
    fn deserializes_through_parse_without_echoing_the_value() {
        let iban: Iban = serde_json::from_str("\"de89 3704 0044 0532 0130 00\"").unwrap();
        assert_eq!(iban.as_str(), "DE89370400440532013000");
        let err = serde_json::from_str::<Iban>("\"DE89370400440532013001\"").unwrap_err().to_string();
        assert!(err.contains("checksum"), "{err}");
        assert!(!err.contains("0532013001"), "{err}");
    }

    #[test]
    fn bics() {
        assert_eq!(Bic::parse("COBADEFFXXX").unwrap().as_str(), "COBADEFFXXX");
        assert_eq!(Bic::parse("deut de ff").unwrap().as_str(), "DEUTDEFF");
        assert_eq!(Bic::parse("NBRBBY2X").unwrap().as_str(), "NBRBBY2X");
        assert_eq!(Bic::parse("DEUTDEFF500").unwrap().as_str(), "DEUTDEFF500");
        for bad in ["", "DEUTDE", "DEUTDEF", "DEUTDEFF5", "DEUTDEFF5000", "DEU1DEFF", "DEUTD1FF", "DEUTDEF-"]
        {
            assert_eq!(Bic::parse(bad), Err(BicError), "{bad}");
        }
    }
}
