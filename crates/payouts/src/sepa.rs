//! A SEPA Credit Transfer file: ISO 20022 `pain.001.001.09` under the EPC rulebook, for a
//! treasurer to upload to the organisation's bank.
//!
//! EPC rules kept here:
//! - EUR only; every amount more than 0.00 and at most 999,999,999.99, with two decimals.
//! - `NbOfTxs` and `CtrlSum` (the exact decimal sum) in both the group header and the payment
//!   information; 1 to [`TRANSFERS_MAX`] transfers.
//! - Identifiers (`MsgId`, `PmtInfId`, `EndToEndId`) are 1–35 characters of the SEPA set, not
//!   starting or ending with `/` and without `//`. The application makes them, so a bad one is
//!   refused, never shortened.
//! - Names at most 70 characters, remittance information at most 140, in the EPC basic Latin set
//!   (`a-z A-Z 0-9 / - ? : ( ) . , ' +` and space). People's names often are Cyrillic: they are
//!   transliterated as Belarusian passports do (Бяляцкі → Bialiatski, Алесь → Ales; г → h,
//!   х → kh, ц → ts, я → ia, ў → u), Latin letters lose their diacritics (ł → l, ß → ss),
//!   anything else becomes a space; then spaces are collapsed and the text is cut at the limit.
//!   A name empty after that is refused: the bank needs one.
//!
//! The document is written by hand, element by element in the schema's order, with every text
//! escaped; the same input gives the same bytes (the creation time is the caller's).

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use zbor_ledger::Money;

use crate::iban::{Bic, Iban};
use crate::Error;

pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09";
pub const ID_LEN_MAX: usize = 35;
pub const NAME_LEN_MAX: usize = 70;
pub const REMITTANCE_LEN_MAX: usize = 140;
pub const TRANSFERS_MAX: usize = 10_000;

/// The organisation paying: its account at the bank the file goes to.
#[derive(Clone, Debug)]
pub struct Debtor {
    pub name: String,
    pub iban: Iban,
    pub bic: Option<Bic>,
}

#[derive(Clone, Debug)]
pub struct CreditTransfer {
    pub end_to_end_id: String,
    pub amount: Money,
    pub creditor_name: String,
    pub creditor_iban: Iban,
    pub creditor_bic: Option<Bic>,
    pub remittance: String,
}

#[derive(Clone, Debug)]
pub struct PaymentFile {
    pub message_id: String,
    pub created_at: DateTime<Utc>,
    pub payment_information_id: String,
    pub requested_execution_date: NaiveDate,
    pub debtor: Debtor,
    pub transfers: Vec<CreditTransfer>,
}

/// The file's figures, as its header states them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Totals {
    pub transactions: usize,
    pub control_sum: Decimal,
}

/// Checks the file and returns its number of transfers and control sum.
pub fn totals(file: &PaymentFile) -> Result<Totals, Error> {
    if file.transfers.is_empty() || file.transfers.len() > TRANSFERS_MAX {
        return Err(Error::invalid("transfers", format!("1 to {TRANSFERS_MAX} per file")));
    }
    check_id("message_id", &file.message_id)?;
    check_id("payment_information_id", &file.payment_information_id)?;
    let mut sum = Decimal::ZERO;
    let mut ids = std::collections::HashSet::new();
    for (index, transfer) in file.transfers.iter().enumerate() {
        check_id("end_to_end_id", &transfer.end_to_end_id)?;
        if !ids.insert(transfer.end_to_end_id.as_str()) {
            return Err(Error::invalid("end_to_end_id", format!("transfer {index}: used twice in one file")));
        }
        let amount = transfer.amount.amount();
        if transfer.amount.currency().code() != "EUR" {
            return Err(Error::invalid("amount", format!("transfer {index}: SEPA pays in EUR only")));
        }
        if amount <= Decimal::ZERO || amount > Decimal::new(99_999_999_999, 2) || amount.scale() > 2 {
            return Err(Error::invalid(
                "amount",
                format!("transfer {index}: more than 0.00, at most 999999999.99, two decimals"),
            ));
        }
        sum = sum.checked_add(amount).ok_or_else(|| Error::invalid("amount", "the control sum overflows"))?;
    }
    Ok(Totals { transactions: file.transfers.len(), control_sum: sum })
}

/// The pain.001.001.09 document (UTF-8, with its XML declaration).
pub fn pain_001_001_09(file: &PaymentFile) -> Result<String, Error> {
    let totals = totals(file)?;
    let debtor_name = name("debtor name", &file.debtor.name, NAME_LEN_MAX)?;
    let mut creditors = Vec::with_capacity(file.transfers.len());
    for (index, transfer) in file.transfers.iter().enumerate() {
        let creditor = name("creditor name", &transfer.creditor_name, NAME_LEN_MAX).map_err(|_| {
            Error::invalid("creditor name", format!("transfer {index}: empty in the SEPA character set"))
        })?;
        creditors.push((creditor, to_epc_text(&transfer.remittance, REMITTANCE_LEN_MAX)));
    }
    let count = totals.transactions;
    let sum = two_decimals(totals.control_sum);

    let mut x = String::with_capacity(1_024 + 700 * count);
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(x, "<Document xmlns=\"{NAMESPACE}\">");
    x.push_str("<CstmrCdtTrfInitn>\n<GrpHdr>\n");
    element(&mut x, "MsgId", &file.message_id);
    element(&mut x, "CreDtTm", &file.created_at.format("%Y-%m-%dT%H:%M:%S").to_string());
    element(&mut x, "NbOfTxs", &count.to_string());
    element(&mut x, "CtrlSum", &sum);
    x.push_str("<InitgPty>");
    element(&mut x, "Nm", &debtor_name);
    x.push_str("</InitgPty>\n</GrpHdr>\n<PmtInf>\n");
    element(&mut x, "PmtInfId", &file.payment_information_id);
    element(&mut x, "PmtMtd", "TRF");
    element(&mut x, "BtchBookg", "true");
    element(&mut x, "NbOfTxs", &count.to_string());
    element(&mut x, "CtrlSum", &sum);
    x.push_str("<PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl></PmtTpInf>\n");
    x.push_str("<ReqdExctnDt>");
    element(&mut x, "Dt", &file.requested_execution_date.format("%Y-%m-%d").to_string());
    x.push_str("</ReqdExctnDt>\n<Dbtr>");
    element(&mut x, "Nm", &debtor_name);
    x.push_str("</Dbtr>\n<DbtrAcct><Id>");
    element(&mut x, "IBAN", file.debtor.iban.as_str());
    x.push_str("</Id></DbtrAcct>\n<DbtrAgt><FinInstnId>");
    match &file.debtor.bic {
        Some(bic) => element(&mut x, "BICFI", bic.as_str()),
        None => x.push_str("<Othr><Id>NOTPROVIDED</Id></Othr>"),
    }
    x.push_str("</FinInstnId></DbtrAgt>\n");
    element(&mut x, "ChrgBr", "SLEV");
    for (transfer, (creditor, remittance)) in file.transfers.iter().zip(&creditors) {
        x.push_str("<CdtTrfTxInf>\n<PmtId>");
        element(&mut x, "EndToEndId", &transfer.end_to_end_id);
        x.push_str("</PmtId>\n");
        let _ = writeln!(
            x,
            "<Amt><InstdAmt Ccy=\"EUR\">{}</InstdAmt></Amt>",
            two_decimals(transfer.amount.amount())
        );
        if let Some(bic) = &transfer.creditor_bic {
            x.push_str("<CdtrAgt><FinInstnId>");
            element(&mut x, "BICFI", bic.as_str());
            x.push_str("</FinInstnId></CdtrAgt>\n");
        }
        x.push_str("<Cdtr>");
        element(&mut x, "Nm", creditor);
        x.push_str("</Cdtr>\n<CdtrAcct><Id>");
        element(&mut x, "IBAN", transfer.creditor_iban.as_str());
        x.push_str("</Id></CdtrAcct>\n");
        if !remittance.is_empty() {
            x.push_str("<RmtInf>");
            element(&mut x, "Ustrd", remittance);
            x.push_str("</RmtInf>\n");
        }
        x.push_str("</CdtTrfTxInf>\n");
    }
    x.push_str("</PmtInf>\n</CstmrCdtTrfInitn>\n</Document>\n");
    Ok(x)
}

fn element(x: &mut String, tag: &str, text: &str) {
    x.push('<');
    x.push_str(tag);
    x.push('>');
    for c in text.chars() {
        match c {
            '&' => x.push_str("&amp;"),
            '<' => x.push_str("&lt;"),
            '>' => x.push_str("&gt;"),
            '"' => x.push_str("&quot;"),
            '\'' => x.push_str("&apos;"),
            c => x.push(c),
        }
    }
    x.push_str("</");
    x.push_str(tag);
    x.push_str(">\n");
}

fn two_decimals(amount: Decimal) -> String {
    let mut rounded = amount;
    rounded.rescale(2);
    rounded.to_string()
}

fn is_epc(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '?' | ':' | '(' | ')' | '.' | ',' | '\'' | '+' | ' ')
}

fn check_id(field: &'static str, id: &str) -> Result<(), Error> {
    let ok = (1..=ID_LEN_MAX).contains(&id.len())
        && id.chars().all(|c| is_epc(c) && c != ' ')
        && !id.starts_with('/')
        && !id.ends_with('/')
        && !id.contains("//");
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            "1 to 35 characters of the SEPA set, not starting or ending with '/', no '//'",
        ))
    }
}

fn name(field: &'static str, text: &str, limit: usize) -> Result<String, Error> {
    let converted = to_epc_text(text, limit);
    if converted.is_empty() {
        return Err(Error::invalid(field, "empty in the SEPA character set"));
    }
    Ok(converted)
}

/// `text` in the EPC basic Latin set, transliterated, spaces collapsed, at most `limit` long.
pub fn to_epc_text(text: &str, limit: usize) -> String {
    let mut latin = String::with_capacity(text.len());
    for c in text.chars() {
        let lower = c.to_lowercase().next().unwrap_or(c);
        let upper = c != lower;
        let mapped: std::borrow::Cow<'static, str> = match transliterate(lower) {
            Some(s) => s.into(),
            None if is_epc(c) => c.to_string().into(),
            None => " ".into(),
        };
        if upper {
            // first letter upper case: Ж → Zh, Я → Ia
            let mut chars = mapped.chars();
            if let Some(first) = chars.next() {
                latin.extend(first.to_uppercase());
                latin.push_str(chars.as_str());
            }
        } else {
            latin.push_str(&mapped);
        }
    }
    let collapsed = latin.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.chars().take(limit).collect::<String>().trim_end().to_owned()
}

/// Lower-case letters outside ASCII that have a Latin spelling.
fn transliterate(c: char) -> Option<&'static str> {
    Some(match c {
        // Cyrillic: Belarusian first (г = h, ў, і), then Russian and Ukrainian letters
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "h",
        'ґ' => "g",
        'д' => "d",
        'е' | 'э' => "e",
        'ё' => "io",
        'є' => "ie",
        'ж' => "zh",
        'з' => "z",
        'і' | 'и' | 'ї' | 'й' => "i",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' | 'ў' => "u",
        'ф' => "f",
        'х' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ы' => "y",
        'ь' | 'ъ' | '’' | 'ʼ' => "",
        'ю' => "iu",
        'я' => "ia",
        // Latin with diacritics
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'ā' | 'ą' | 'ă' => "a",
        'æ' => "ae",
        'ć' | 'č' | 'ç' => "c",
        'ď' | 'đ' => "d",
        'é' | 'è' | 'ê' | 'ë' | 'ě' | 'ę' | 'ē' | 'ė' => "e",
        'ğ' => "g",
        'í' | 'ì' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => "i",
        'ķ' => "k",
        'ł' | 'ľ' | 'ĺ' | 'ļ' => "l",
        'ń' | 'ň' | 'ñ' | 'ņ' => "n",
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ő' | 'ø' | 'ō' => "o",
        'œ' => "oe",
        'ř' | 'ŕ' => "r",
        'ś' | 'š' | 'ş' | 'ș' => "s",
        'ß' => "ss",
        'ť' | 'ţ' | 'ț' => "t",
        'ú' | 'ù' | 'û' | 'ü' | 'ů' | 'ű' | 'ū' | 'ų' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}
