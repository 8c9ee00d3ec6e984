//! What anyone may see of a campaign's donations: a view that lets nobody match a known
//! (amount, time) pair, say from a card statement seized from a donor, to one donation.
//!
//! - Times are coarsened to [`BUCKET_MINUTES`]-minute buckets, and a bucket is published only
//!   once it closed at least [`DELAY_MINUTES`] minutes ago: a donation made now cannot be watched
//!   arriving.
//! - Nothing is shown that holds fewer than [`K`] donations: a bucket (or, in `recent`, a bucket
//!   and amount band) with fewer is held back and folded into the next until together they hold
//!   K or more.
//! - Amounts in `recent` are [`BANDS`] only; the top band is open ("1,000 or more"), so a large
//!   gift shows only as one of K or more gifts of 1,000 or more.
//! - The public totals are those of the last published step: they move only when K or more new
//!   donations are published together, so no two consecutive public totals differ by one
//!   donation's amount, and their `updated_at` is the step's bucket end, never a donation's time.
//!   Fees move with those steps; refunds and disputes move in steps of their own of at least K
//!   movements ([`published`]), so a single refund is never seen alone either.
//!
//! Every group is computed from the campaign's whole history walked from its first donation, so
//! the groups never depend on the window or on when one asks (only on the cut-off, which moves
//! every [`BUCKET_MINUTES`] minutes): asking twice with two windows and subtracting finds nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use zbor_campaigns::Campaign;
use zbor_ledger::{Currency, Money};

use crate::totals::{Minute, RecentDonations, Sums, Timeline, Totals, RECENT_MAX, TIMELINE_MINUTES_MAX};
use crate::Error;

/// The width of a public time bucket. Five minutes: a statement's minute then matches any of
/// five, and a busy campaign's chart still shows the burst's shape.
pub const BUCKET_MINUTES: i64 = 5;
/// How long after a bucket closes it may be published. With it a donation appears 10 to 15
/// minutes after it was made at the earliest (later when its group waits for K): nobody can give
/// and watch which group moves, nor watch a suspect's payment land.
pub const DELAY_MINUTES: i64 = 10;
/// The fewest donations any public group, bucket or total step holds.
pub const K: i64 = 5;
/// The amount bands' lower bounds, in currency units; each band ends one minor unit below the
/// next one's start, and the last is open. Round figures people give, so a band says little,
/// and the top one starts where a single gift would stand out.
pub const BANDS: [i64; 7] = [0, 10, 25, 50, 100, 250, 1000];

/// Where the public view ends when asked at `now`: the end of the newest bucket that closed
/// [`DELAY_MINUTES`] or more ago. Donations paid at or after it are not published yet.
pub fn cut_off(now: DateTime<Utc>) -> DateTime<Utc> {
    bucket_start(now) - TimeDelta::minutes(DELAY_MINUTES)
}

/// The start of the [`BUCKET_MINUTES`] bucket `at` falls in (aligned on the Unix epoch, as
/// PostgreSQL's `date_bin` with the origin used below).
pub fn bucket_start(at: DateTime<Utc>) -> DateTime<Utc> {
    // duration_trunc only fails for spans beyond i64 nanoseconds; our span is 5 minutes
    at.duration_trunc(TimeDelta::minutes(BUCKET_MINUTES)).unwrap_or(at)
}

/// The band an amount falls in: an index into [`BANDS`].
pub fn band_of(amount: Decimal) -> usize {
    BANDS.iter().rposition(|from| amount >= Decimal::from(*from)).unwrap_or(0)
}

/// A band's bounds as money: its first amount, and its last (one minor unit below the next
/// band), or none for the open top band.
pub fn band_bounds(band: usize, currency: Currency) -> Result<(Money, Option<Money>), Error> {
    let from = BANDS.get(band).copied().unwrap_or(0);
    let from = Money::new(Decimal::from(from), currency)?;
    let to = match BANDS.get(band + 1) {
        Some(next) => {
            let one_minor_unit = Decimal::new(1, currency.minor_units());
            Some(Money::new(Decimal::from(*next) - one_minor_unit, currency)?)
        }
        None => None,
    };
    Ok((from, to))
}

/// One bucket's donations in one band, as the database groups them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketBand {
    pub bucket: DateTime<Utc>,
    pub band: usize,
    pub donations: i64,
    pub raised: Decimal,
}

/// A published step of the timeline: the donations of the bucket at `at`, with those held back
/// from the buckets before it. Never fewer than [`K`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub at: DateTime<Utc>,
    pub donations: i64,
    pub raised: Decimal,
}

/// A published (bucket, band) group: never fewer than [`K`] donations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BandGroup {
    pub at: DateTime<Utc>,
    pub band: usize,
    pub donations: i64,
}

/// Folds buckets (in time order) into steps of at least [`K`] donations: a bucket with fewer is
/// held back and joins the next, until together they have K. What is still held at the end is
/// not published.
pub fn steps(rows: &[BucketBand]) -> Vec<Step> {
    let mut out = Vec::new();
    let (mut held, mut held_raised) = (0_i64, Decimal::ZERO);
    let mut rows = rows.iter().peekable();
    while let Some(first) = rows.next() {
        let bucket = first.bucket;
        held += first.donations;
        held_raised += first.raised;
        while let Some(row) = rows.next_if(|row| row.bucket == bucket) {
            held += row.donations;
            held_raised += row.raised;
        }
        if held >= K {
            out.push(Step { at: bucket, donations: held, raised: held_raised });
            (held, held_raised) = (0, Decimal::ZERO);
        }
    }
    out
}

/// Folds each band's buckets (in time order) the same way: a (bucket, band) group with fewer
/// than [`K`] donations is held back and joins that band's next, until together they have K.
pub fn band_groups(rows: &[BucketBand]) -> Vec<BandGroup> {
    let mut held = [0_i64; BANDS.len()];
    let mut out = Vec::new();
    for row in rows {
        let band = row.band.min(BANDS.len() - 1);
        held[band] += row.donations;
        if held[band] >= K {
            out.push(BandGroup { at: row.bucket, band, donations: held[band] });
            held[band] = 0;
        }
    }
    out
}

/// Every paid donation before `cut_off`, grouped by bucket and band, in time order: all a
/// public view is computed from. (`width_bucket` gives 0 below the first threshold, so the
/// thresholds are BANDS without its 0: its band indexes are BANDS' indexes.)
async fn history(
    conn: &mut PgConnection,
    campaign_id: i64,
    cut_off: DateTime<Utc>,
) -> Result<Vec<BucketBand>, Error> {
    let thresholds: Vec<Decimal> = BANDS[1..].iter().map(|from| Decimal::from(*from)).collect();
    let rows: Vec<(DateTime<Utc>, i32, i64, Decimal)> = sqlx::query_as(
        "select date_bin(make_interval(mins => $3::int), paid_at, timestamptz '1970-01-01 00:00:00+00'),
                width_bucket(amount, $4::numeric[]), count(*), sum(amount)
         from donations
         where campaign_id = $1 and status = 'paid' and paid_at < $2
         group by 1, 2 order by 1, 2",
    )
    .bind(campaign_id)
    .bind(cut_off)
    .bind(i32::try_from(BUCKET_MINUTES).unwrap_or(5))
    .bind(thresholds)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(bucket, band, donations, raised)| BucketBand {
            bucket,
            band: usize::try_from(band).unwrap_or(0),
            donations,
            raised,
        })
        .collect())
}

/// The public timeline at `now`: the steps of the last `minutes` (1 to 1,440) and the latest
/// [`RECENT_MAX`] band groups, newest first.
pub async fn timeline(
    conn: &mut PgConnection,
    slug: &str,
    minutes: i64,
    now: DateTime<Utc>,
    cache: Option<&PublicCache>,
) -> Result<Timeline, Error> {
    let campaign = zbor_campaigns::by_slug(&mut *conn, slug).await?;
    let currency = campaign.currency;
    let minutes = minutes.clamp(1, TIMELINE_MINUTES_MAX);
    let history = view(conn, &campaign, cut_off(now), cache).await?.history;
    let since = now - TimeDelta::minutes(minutes);
    let shown = steps(&history)
        .into_iter()
        .filter(|step| step.at >= since)
        .map(|step| {
            Ok(Minute { at: step.at, raised: Money::new(step.raised, currency)?, donations: step.donations })
        })
        .collect::<Result<_, Error>>()?;
    let groups = band_groups(&history);
    let recent = groups
        .iter()
        .rev()
        .take(usize::try_from(RECENT_MAX).unwrap_or(20))
        .map(|group| {
            let (amount_from, amount_to) = band_bounds(group.band, currency)?;
            Ok(RecentDonations { at: group.at, amount_from, amount_to, donations: group.donations })
        })
        .collect::<Result<_, Error>>()?;
    Ok(Timeline {
        campaign: campaign.slug.as_str().to_owned(),
        currency,
        exact: false,
        bucket_minutes: BUCKET_MINUTES,
        minutes: shown,
        recent,
    })
}

/// The public totals, and where the public view ends (the end of its last published step; none
/// before the first).
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub totals: Totals,
    pub published_until: Option<DateTime<Utc>>,
}

/// What the public view adds up at one cut-off. It depends on nothing booked at or after the
/// cut-off, and what was booked before it never changes (a donation's `paid_at`, a fee's and a
/// refund's ledger time are the times they were booked), so it is the same every time it is
/// computed for that cut-off: [`PublicCache`] keeps it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Published {
    /// The end of the last published donation step.
    until: Option<DateTime<Utc>>,
    sums: Sums,
}

/// Adds up the public view at `cut_off` from the campaign's `history` (its donations by bucket
/// and band before the cut-off):
/// - donations: those paid before the end of the last step of at least [`K`] ([`steps`]);
/// - fees: those of the same donations that were booked before that end, so fees move only
///   together with a step (a fee alone would tell its donation's amount);
/// - refunded: refunds and dispute movements (withdrawn, or won back) on the campaign's account,
///   in steps of their own of at least [`K`] movements, booked before the cut-off: one refund
///   alone is held back until K are published together, exactly as donations are.
async fn published(
    conn: &mut PgConnection,
    campaign: &Campaign,
    cut_off: DateTime<Utc>,
    history: &[BucketBand],
) -> Result<Published, Error> {
    let until = steps(history).last().map(|step| step.at + TimeDelta::minutes(BUCKET_MINUTES));
    let Some(until) = until else {
        return Ok(Published::default());
    };
    let mut sums: Sums = sqlx::query_as(
        "select coalesce(sum(d.amount) filter (where d.stripe_subscription_id is null), 0) as one_off_raised,
                coalesce(sum(d.amount) filter (where d.stripe_subscription_id is not null), 0) as recurring_raised,
                0::numeric as refunded,
                coalesce(sum(d.fee) filter (where f.created_at < $2), 0) as fees,
                count(*) as donations, max(d.paid_at) as last_paid
         from donations d left join ledger_transactions f on f.id = d.fee_transaction_id
         where d.campaign_id = $1 and d.status = 'paid' and d.paid_at < $2",
    )
    .bind(campaign.id)
    .bind(until)
    .fetch_one(&mut *conn)
    .await?;
    let reversals = reversal_history(conn, campaign, cut_off).await?;
    sums.refunded = steps(&reversals).iter().map(|step| step.raised).sum();
    Ok(Published { until: Some(until), sums })
}

/// Refund and dispute movements on the campaign's account booked before `cut_off`, by bucket:
/// `donations` counts movements, `raised` adds what they took back (a dispute won back is a
/// negative movement). Read through the partial index on those two kinds, so a campaign's
/// thousands of donations are not walked.
async fn reversal_history(
    conn: &mut PgConnection,
    campaign: &Campaign,
    cut_off: DateTime<Utc>,
) -> Result<Vec<BucketBand>, Error> {
    let rows: Vec<(DateTime<Utc>, i64, Decimal)> = sqlx::query_as(
        "select date_bin(make_interval(mins => $3::int), t.created_at, timestamptz '1970-01-01 00:00:00+00'),
                count(*), sum(p.amount)
         from ledger_transactions t join ledger_postings p on p.transaction_id = t.id
         where t.metadata->>'kind' in ('refund', 'dispute') and t.created_at < $2 and p.account_id = $1
         group by 1 order by 1",
    )
    .bind(campaign.ledger_account.as_i64())
    .bind(cut_off)
    .bind(i32::try_from(BUCKET_MINUTES).unwrap_or(5))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(bucket, movements, taken)| BucketBand { bucket, band: 0, donations: movements, raised: taken })
        .collect())
}

/// Each campaign's [`Published`] at the newest cut-off it was asked for. A server process
/// computes a campaign's public view once per [`BUCKET_MINUTES`] however often its totals are
/// published (ten times a second in a burst); a cut-off older than the kept one (a clock that
/// lags across a boundary) is computed and not kept.
///
/// What was booked before a cut-off does not change, but a person could change it by hand (a
/// corrected `paid_at`, a restored backup): each use checks a cheap fingerprint of the
/// donations before the cut-off (how many, the latest `paid_at`: one index-only range read) and
/// recomputes when it differs.
#[derive(Debug, Default)]
pub struct PublicCache {
    kept: Mutex<HashMap<i64, Kept>>,
}

#[derive(Debug)]
struct Kept {
    cut_off: DateTime<Utc>,
    fingerprint: Fingerprint,
    view: View,
}

/// Everything the public view at one cut-off is made of: the campaign's history in groups (for
/// the timeline) and the published sums (for the totals).
#[derive(Clone, Debug)]
struct View {
    history: Arc<Vec<BucketBand>>,
    published: Published,
}

/// The public view of `campaign` at `cut_off`: from the cache when it holds this cut-off with the
/// same fingerprint, else computed (and kept).
async fn view(
    conn: &mut PgConnection,
    campaign: &Campaign,
    cut_off: DateTime<Utc>,
    cache: Option<&PublicCache>,
) -> Result<View, Error> {
    let id = campaign.id.as_i64();
    let fingerprint = match cache {
        Some(cache) => {
            let fingerprint = fingerprint(conn, id, cut_off).await?;
            if let Some(view) = cache.get(id, cut_off, fingerprint) {
                return Ok(view);
            }
            Some(fingerprint)
        }
        None => None,
    };
    let history = history(conn, id, cut_off).await?;
    let published = published(conn, campaign, cut_off, &history).await?;
    let view = View { history: Arc::new(history), published };
    if let (Some(cache), Some(fingerprint)) = (cache, fingerprint) {
        cache.keep(id, cut_off, fingerprint, &view);
    }
    Ok(view)
}

/// How many donations were paid before a cut-off, and the latest of them.
type Fingerprint = (i64, Option<DateTime<Utc>>);

async fn fingerprint(
    conn: &mut PgConnection,
    campaign_id: i64,
    cut_off: DateTime<Utc>,
) -> Result<Fingerprint, Error> {
    Ok(sqlx::query_as(
        "select count(*), max(paid_at) from donations
         where campaign_id = $1 and status = 'paid' and paid_at < $2",
    )
    .bind(campaign_id)
    .bind(cut_off)
    .fetch_one(&mut *conn)
    .await?)
}

impl PublicCache {
    pub fn new() -> PublicCache {
        PublicCache::default()
    }

    fn get(&self, campaign: i64, cut_off: DateTime<Utc>, fingerprint: Fingerprint) -> Option<View> {
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.get(&campaign)
            .filter(|kept| kept.cut_off == cut_off && kept.fingerprint == fingerprint)
            .map(|kept| kept.view.clone())
    }

    fn keep(&self, campaign: i64, cut_off: DateTime<Utc>, fingerprint: Fingerprint, view: &View) {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.get(&campaign).is_none_or(|kept| kept.cut_off <= cut_off) {
            kept.insert(campaign, Kept { cut_off, fingerprint, view: view.clone() });
        }
    }
}

/// The public totals at `now`: those [`published`] at its cut-off, with the campaign's goal and
/// amount per beneficiary as they are now, stamped with the step's end (never a donation's
/// time). Before the first step: zero. With a cache, computed once per cut-off.
pub async fn snapshot(
    conn: &mut PgConnection,
    slug: &str,
    now: DateTime<Utc>,
    cache: Option<&PublicCache>,
) -> Result<Snapshot, Error> {
    let campaign = zbor_campaigns::by_slug(&mut *conn, slug).await?;
    let published = view(conn, &campaign, cut_off(now), cache).await?.published;
    let mut totals = Totals::from_sums(&campaign, &published.sums, None)?;
    totals.exact = false;
    // never the last donation's time: the step's end, or (no step yet) the campaign's own
    totals.updated_at = published.until.unwrap_or(campaign.updated_at);
    Ok(Snapshot { totals, published_until: published.until })
}

/// [`snapshot`]'s totals, uncached.
pub async fn totals(conn: &mut PgConnection, slug: &str, now: DateTime<Utc>) -> Result<Totals, Error> {
    Ok(snapshot(conn, slug, now, None).await?.totals)
}

/// When what [`timeline`] and [`totals`] answer can next change: the next bucket boundary after
/// `now` (they change by time alone; nothing booked since can move them before it).
pub fn next_change(now: DateTime<Utc>) -> DateTime<Utc> {
    bucket_start(now) + TimeDelta::minutes(BUCKET_MINUTES)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::TimeZone;

    use super::*;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, h, m, s).unwrap()
    }

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn row(bucket: DateTime<Utc>, band: usize, donations: i64, raised: &str) -> BucketBand {
        BucketBand { bucket, band, donations, raised: dec(raised) }
    }

    #[test]
    fn amounts_fall_in_fixed_bands_with_an_open_top() {
        let cases = [
            ("0.01", 0),
            ("9.99", 0),
            ("10.00", 1),
            ("24.99", 1),
            ("25", 2),
            ("49.99", 2),
            ("50", 3),
            ("99.99", 3),
            ("100", 4),
            ("249.99", 4),
            ("250", 5),
            ("999.99", 5),
            ("1000", 6),
            ("5000", 6),
            ("1000000", 6),
        ];
        for (amount, band) in cases {
            assert_eq!(band_of(dec(amount)), band, "{amount}");
        }
        let eur = Currency::parse("EUR").unwrap();
        let text = |(from, to): (Money, Option<Money>)| {
            (from.amount().to_string(), to.map(|t| t.amount().to_string()))
        };
        assert_eq!(text(band_bounds(0, eur).unwrap()), (String::from("0.00"), Some(String::from("9.99"))));
        assert_eq!(text(band_bounds(3, eur).unwrap()), (String::from("50.00"), Some(String::from("99.99"))));
        assert_eq!(text(band_bounds(6, eur).unwrap()), (String::from("1000.00"), None));
        // a currency without minor units ends its bands one unit below the next
        let jpy = Currency::parse("JPY").unwrap();
        let (_, to) = band_bounds(0, jpy).unwrap();
        assert_eq!(to.unwrap().amount().to_string(), "9");
    }

    #[test]
    fn times_are_bucketed_and_published_only_after_the_delay() {
        assert_eq!(bucket_start(at(14, 3, 59)), at(14, 0, 0));
        assert_eq!(bucket_start(at(14, 5, 0)), at(14, 5, 0));
        // at 14:23 the newest published bucket is 14:05-14:10: it closed 13 minutes ago
        assert_eq!(cut_off(at(14, 23, 0)), at(14, 10, 0));
        // at 14:19:59 the 14:05 bucket closed only 9:59 ago
        assert_eq!(cut_off(at(14, 19, 59)), at(14, 5, 0));
        assert_eq!(next_change(at(14, 19, 59)), at(14, 20, 0));
    }

    #[test]
    fn buckets_with_fewer_than_k_are_held_back_until_they_have_k() {
        let rows = [
            // a quiet bucket: one donation, held
            row(at(14, 0, 0), 3, 1, "60.00"),
            // two more, in two bands: three held
            row(at(14, 5, 0), 1, 1, "12.00"),
            row(at(14, 5, 0), 6, 1, "5000.00"),
            // a burst: together with the three held, one step
            row(at(14, 10, 0), 1, 4, "80.00"),
            row(at(14, 10, 0), 2, 3, "99.00"),
            // four after it: held, not published
            row(at(14, 15, 0), 0, 4, "20.00"),
        ];
        assert_eq!(steps(&rows), vec![Step { at: at(14, 10, 0), donations: 10, raised: dec("5251.00") }]);
        // bands: 10-24.99 reaches 5 at 14:10 (1 + 4); 25-49.99 has 3, 50-99.99 has 1, the large
        // gift is alone in its band: none of those is published
        assert_eq!(band_groups(&rows), vec![BandGroup { at: at(14, 10, 0), band: 1, donations: 5 }]);
        // four more large gifts: the top band is shown once it holds five
        let mut more = rows.to_vec();
        more.push(row(at(14, 20, 0), 6, 4, "4000.00"));
        assert_eq!(band_groups(&more).last(), Some(&BandGroup { at: at(14, 20, 0), band: 6, donations: 5 }));
    }

    #[test]
    fn every_group_holds_at_least_k() {
        // any history: one donation per bucket in a band chosen by a simple sequence
        let rows: Vec<BucketBand> = (0..200_i64)
            .zip((0..200_usize).map(|i| (i * 3 + 1) % BANDS.len()))
            .map(|(i, band)| row(at(10, 0, 0) + TimeDelta::minutes(5 * i), band, i % 3, "1"))
            .filter(|r| r.donations > 0)
            .collect();
        assert!(steps(&rows).iter().all(|s| s.donations >= K));
        assert!(band_groups(&rows).iter().all(|g| g.donations >= K));
        let published: i64 = steps(&rows).iter().map(|s| s.donations).sum();
        let all: i64 = rows.iter().map(|r| r.donations).sum();
        assert!(all - published < K, "no more than K - 1 held back at the end");
    }
}
