//! A period of an export: whole UTC days, half-open (`from` included, `to` excluded), so the
//! periods `[Dec 1, Jan 1)` and `[Jan 1, Feb 1)` share no instant and miss none.

use chrono::{DateTime, NaiveDate, Utc};

use crate::Error;

/// The longest period one export covers: ten years, so a mistyped year is refused rather than
/// read for decades of rows.
pub const PERIOD_DAYS_MAX: i64 = 3_660;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    from: NaiveDate,
    to: NaiveDate,
}

impl Period {
    /// `from` and `to` as `YYYY-MM-DD`; `to` must be after `from`.
    pub fn parse(from: &str, to: &str) -> Result<Period, Error> {
        Period::new(date("from", from)?, date("to", to)?)
    }

    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Period, Error> {
        if to <= from {
            return Err(Error::InvalidRequest(format!(
                "the period is empty: `to` ({to}) must be after `from` ({from}); `to` is excluded"
            )));
        }
        if (to - from).num_days() > PERIOD_DAYS_MAX {
            return Err(Error::InvalidRequest(format!(
                "the period is longer than {PERIOD_DAYS_MAX} days: export it in parts"
            )));
        }
        Ok(Period { from, to })
    }

    pub fn from_date(&self) -> NaiveDate {
        self.from
    }

    pub fn to_date(&self) -> NaiveDate {
        self.to
    }

    /// The first instant in the period: `from` at 00:00 UTC.
    pub fn start(&self) -> DateTime<Utc> {
        self.from.and_time(chrono::NaiveTime::MIN).and_utc()
    }

    /// The first instant after the period: `to` at 00:00 UTC.
    pub fn end(&self) -> DateTime<Utc> {
        self.to.and_time(chrono::NaiveTime::MIN).and_utc()
    }

    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start() <= at && at < self.end()
    }
}

fn date(name: &str, text: &str) -> Result<NaiveDate, Error> {
    let well_formed = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    let parsed = well_formed.then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()).flatten();
    parsed.ok_or_else(|| {
        Error::InvalidRequest(format!(
            "`{name}` must be a date as YYYY-MM-DD (a day in UTC), got {:?}",
            text.chars().take(40).collect::<String>()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_open_whole_days_in_utc() -> Result<(), Error> {
        let december = Period::parse("2026-12-01", "2027-01-01")?;
        let january = Period::parse("2027-01-01", "2027-02-01")?;
        let new_year = january.start();
        assert_eq!(new_year.to_rfc3339(), "2027-01-01T00:00:00+00:00");
        assert!(!december.contains(new_year) && january.contains(new_year));
        let last_microsecond = new_year - chrono::Duration::microseconds(1);
        assert!(december.contains(last_microsecond) && !january.contains(last_microsecond));
        Ok(())
    }

    #[test]
    fn bad_dates_and_backward_periods_say_why() {
        for (from, to, says) in [
            ("2026-12-01", "2026-11-30", "must be after"),
            ("2026-12-01", "2026-12-01", "must be after"),
            ("2026-13-01", "2027-01-01", "`from` must be a date"),
            ("2026-12-01", "1.1.2027", "`to` must be a date"),
            ("2026-12-01", "2027-01-01T00:00:00Z", "`to` must be a date"),
            ("+2026-12-01", "2027-01-01", "`from` must be a date"),
            ("2026-02-30", "2027-01-01", "`from` must be a date"),
            ("1990-01-01", "2027-01-01", "longer than"),
        ] {
            let error = Period::parse(from, to).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains(says), "{from} {to}: {error}");
        }
    }
}
