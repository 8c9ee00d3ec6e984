//! Campaigns: what donors give to. Each owns a ledger account holding its funds; [`AccountCode`]
//! is zbor's chart of accounts.
//!
//! Payouts reads campaigns through these functions ([`by_id`], [`by_ids`]), never the `campaigns`
//! table itself.

mod accounts;
mod error;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgExecutor, PgPool};
use zbor_audit::Actor;
use zbor_ledger::{AccountId, Currency, Money};

pub use accounts::AccountCode;
pub use error::Error;

/// The most suggested amounts a give page shows.
pub const SUGGESTED_AMOUNTS_MAX: usize = 8;
pub const TITLE_LEN_MAX: usize = 200;
pub const DESCRIPTION_LEN_MAX: usize = 5_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(transparent)]
#[serde(transparent)]
pub struct CampaignId(i64);

impl CampaignId {
    pub fn from_i64(id: i64) -> CampaignId {
        CampaignId(id)
    }

    pub fn as_i64(self) -> i64 {
        self.0
    }
}

impl std::fmt::Display for CampaignId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A campaign's URL name, e.g. `release-123`: parsed once at the edge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, pattern = "^[a-z0-9][a-z0-9-]{1,62}$", example = "release-123")]
pub struct Slug(String);

impl Slug {
    pub fn parse(slug: &str) -> Result<Slug, Error> {
        let bytes = slug.as_bytes();
        let valid = (2..=63).contains(&bytes.len())
            && bytes[0].is_ascii_alphanumeric()
            && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
        if valid {
            Ok(Slug(slug.to_owned()))
        } else {
            Err(Error::InvalidSlug(slug.chars().take(64).collect()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "campaign_status", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum CampaignStatus {
    Open,
    Closed,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Campaign {
    pub id: CampaignId,
    pub slug: Slug,
    pub title: String,
    pub description: String,
    pub currency: Currency,
    pub goal: Money,
    pub amount_per_beneficiary: Option<Money>,
    pub suggested_amounts: Vec<Money>,
    pub status: CampaignStatus,
    #[serde(skip)]
    pub ledger_account: AccountId,
    pub stripe_payment_link_id: Option<String>,
    /// The Payment Link's address to share; none until Stripe has created it.
    pub payment_link_url: Option<String>,
    /// The title and description in other languages, by language code (`be`, `de`, ...).
    pub translations: BTreeMap<String, CampaignText>,
    /// How many treasurers approve a payout batch (four eyes at least). Not in the API's JSON.
    #[serde(skip)]
    pub payout_approvals_required: i32,
    /// Where donors are sent once this campaign is funded (its goal is then a cap): the overflow
    /// campaign's slug. Same currency, never itself, never a cycle.
    #[schema(value_type = Option<String>, example = "release-123-families")]
    pub overflow: Option<Slug>,
    #[serde(skip)]
    pub overflow_campaign_id: Option<CampaignId>,
    /// When what it kept (raised net of refunds and disputes) reached its goal; only a campaign
    /// with an overflow is ever funded. Gifts that land later are booked here, over the cap.
    pub funded_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A campaign's title and description in one language; an empty description means the default
/// one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignText {
    #[schema(example = "123 вызваленыя палітвязні")]
    pub title: String,
    #[serde(default)]
    pub description: String,
}

impl Campaign {
    /// The title and description in `language` (a code such as `be`), else the default ones.
    pub fn text_in(&self, language: &str) -> (&str, &str) {
        match self.translations.get(language) {
            Some(text) => {
                let description =
                    if text.description.is_empty() { &self.description } else { &text.description };
                (&text.title, description)
            }
            None => (&self.title, &self.description),
        }
    }
}

/// A request to create a campaign, as it arrives (JSON or the command line): strings until
/// `validate` turns them into money of the campaign's currency.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCampaign {
    pub slug: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[schema(example = "EUR")]
    pub currency: String,
    /// Amounts are decimal strings at the currency's scale.
    #[schema(example = "123000.00")]
    pub goal: String,
    #[serde(default)]
    #[schema(example = "1000.00")]
    pub amount_per_beneficiary: Option<String>,
    #[serde(default)]
    #[schema(example = json!(["10.00", "25.00", "50.00"]))]
    pub suggested_amounts: Vec<String>,
    /// The campaign donors are sent to once this one reaches its goal (its slug; same currency).
    #[serde(default)]
    #[schema(example = "release-123-families")]
    pub overflow: Option<String>,
    /// The title and description in the pages' other languages (be, ru, uk, pl, lt, de, en).
    #[serde(default)]
    pub translations: BTreeMap<String, CampaignText>,
}

/// A change to a campaign; absent fields stay as they are. The currency never changes: money
/// already booked is in it.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignUpdate {
    pub title: Option<String>,
    pub description: Option<String>,
    pub goal: Option<String>,
    /// `Some(None)` (JSON `null`) removes it.
    #[serde(default, deserialize_with = "present_or_null")]
    pub amount_per_beneficiary: Option<Option<String>>,
    pub suggested_amounts: Option<Vec<String>>,
    pub status: Option<CampaignStatus>,
    /// The overflow campaign's slug; `null` removes it (the goal is then no longer a cap).
    #[serde(default, deserialize_with = "present_or_null")]
    #[schema(value_type = Option<String>)]
    pub overflow: Option<Option<String>>,
    /// Replaces every translation (`{}` removes them all).
    pub translations: Option<BTreeMap<String, CampaignText>>,
}

impl CampaignUpdate {
    /// The names of the fields given (what the audit entry records, never their text).
    pub fn fields_given(&self) -> Vec<&'static str> {
        [
            ("title", self.title.is_some()),
            ("description", self.description.is_some()),
            ("goal", self.goal.is_some()),
            ("amount_per_beneficiary", self.amount_per_beneficiary.is_some()),
            ("suggested_amounts", self.suggested_amounts.is_some()),
            ("status", self.status.is_some()),
            ("overflow", self.overflow.is_some()),
            ("translations", self.translations.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect()
    }
}

fn present_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn title(value: &str) -> Result<String, Error> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > TITLE_LEN_MAX {
        return Err(Error::invalid("title", format!("1 to {TITLE_LEN_MAX} characters")));
    }
    Ok(trimmed.to_owned())
}

fn description(value: &str) -> Result<String, Error> {
    if value.chars().count() > DESCRIPTION_LEN_MAX {
        return Err(Error::invalid("description", format!("at most {DESCRIPTION_LEN_MAX} characters")));
    }
    Ok(value.to_owned())
}

/// Each translation's language must be one the pages speak, its text valid like the default.
fn translations(values: &BTreeMap<String, CampaignText>) -> Result<BTreeMap<String, CampaignText>, Error> {
    values
        .iter()
        .map(|(language, text)| {
            let ours = zbor_i18n::Lang::parse(language).is_some_and(|l| l.code() == language);
            if !ours {
                let languages: Vec<&str> = zbor_i18n::Lang::ALL.iter().map(|l| l.code()).collect();
                return Err(Error::invalid(
                    "translations",
                    format!(
                        "{:?} is not one of the pages' languages ({})",
                        language.chars().take(16).collect::<String>(),
                        languages.join(", ")
                    ),
                ));
            }
            let text =
                CampaignText { title: title(&text.title)?, description: description(&text.description)? };
            Ok((language.clone(), text))
        })
        .collect()
}

fn positive(field: &'static str, value: &str, currency: Currency) -> Result<Money, Error> {
    let money = Money::parse(value, currency).map_err(|e| Error::invalid(field, e))?;
    if !money.is_positive() {
        return Err(Error::invalid(field, "must be more than zero"));
    }
    Ok(money)
}

fn suggested(values: &[String], currency: Currency) -> Result<Vec<Money>, Error> {
    if values.len() > SUGGESTED_AMOUNTS_MAX {
        return Err(Error::invalid("suggested_amounts", format!("at most {SUGGESTED_AMOUNTS_MAX}")));
    }
    values.iter().map(|v| positive("suggested_amounts", v, currency)).collect()
}

fn amounts(money: &[Money]) -> Vec<Decimal> {
    money.iter().map(Money::amount).collect()
}

#[derive(sqlx::FromRow)]
struct CampaignRow {
    id: CampaignId,
    slug: String,
    title: String,
    description: String,
    currency: String,
    goal: Decimal,
    amount_per_beneficiary: Option<Decimal>,
    suggested_amounts: Vec<Decimal>,
    status: CampaignStatus,
    ledger_account_id: i64,
    stripe_payment_link_id: Option<String>,
    stripe_payment_link_url: Option<String>,
    payout_approvals_required: i32,
    overflow_campaign_id: Option<CampaignId>,
    overflow_slug: Option<String>,
    funded_at: Option<DateTime<Utc>>,
    translations: sqlx::types::Json<BTreeMap<String, CampaignText>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl CampaignRow {
    fn into_campaign(self) -> Result<Campaign, Error> {
        let currency = Currency::parse(&self.currency)?;
        let money = |d: Decimal| Money::new(d, currency);
        Ok(Campaign {
            id: self.id,
            slug: Slug(self.slug),
            title: self.title,
            description: self.description,
            currency,
            goal: money(self.goal)?,
            amount_per_beneficiary: self.amount_per_beneficiary.map(money).transpose()?,
            suggested_amounts: self.suggested_amounts.into_iter().map(money).collect::<Result<_, _>>()?,
            status: self.status,
            ledger_account: AccountId::from_i64(self.ledger_account_id),
            stripe_payment_link_id: self.stripe_payment_link_id,
            payment_link_url: self.stripe_payment_link_url,
            payout_approvals_required: self.payout_approvals_required,
            overflow: self.overflow_slug.map(Slug),
            overflow_campaign_id: self.overflow_campaign_id,
            funded_at: self.funded_at,
            translations: self.translations.0,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const COLUMNS: &str = "id, slug, title, description, currency, goal, amount_per_beneficiary, \
                       suggested_amounts, status, ledger_account_id, stripe_payment_link_id, \
                       stripe_payment_link_url, payout_approvals_required, translations, \
                       overflow_campaign_id, \
                       (select o.slug from campaigns o where o.id = campaigns.overflow_campaign_id) \
                       as overflow_slug, funded_at, created_at, updated_at";

/// Creates the campaign and its ledger accounts in one database transaction.
pub async fn create(pool: &PgPool, new: &NewCampaign) -> Result<Campaign, Error> {
    let mut db = pool.begin().await?;
    let campaign = create_in(&mut db, new, &Actor::CLI).await?;
    db.commit().await?;
    Ok(campaign)
}

/// [`create`] in the caller's transaction, with its audit entry (`campaign.create`: the slug,
/// currency and goal; a title or description may name people and stays out of the log).
pub async fn create_in(db: &mut PgConnection, new: &NewCampaign, actor: &Actor) -> Result<Campaign, Error> {
    let campaign = create_as(&mut *db, new).await?;
    let details = serde_json::json!({ "slug": campaign.slug.as_str(), "currency": campaign.currency.code(),
                                      "goal": campaign.goal.amount().to_string() });
    zbor_audit::record_in(db, actor, "campaign.create", Some(&audit_subject(campaign.id)), details).await?;
    Ok(campaign)
}

/// The audit log's name for a campaign.
fn audit_subject(id: CampaignId) -> String {
    format!("campaign:{}", id.as_i64())
}

async fn create_as(db: &mut PgConnection, new: &NewCampaign) -> Result<Campaign, Error> {
    let slug = Slug::parse(&new.slug)?;
    let currency = Currency::parse(&new.currency).map_err(|e| Error::invalid("currency", e))?;
    let title = title(&new.title)?;
    let description = description(&new.description)?;
    let goal = positive("goal", &new.goal, currency)?;
    let per_beneficiary = new
        .amount_per_beneficiary
        .as_deref()
        .map(|v| positive("amount_per_beneficiary", v, currency))
        .transpose()?;
    let suggested = suggested(&new.suggested_amounts, currency)?;
    let translations = translations(&new.translations)?;

    let exists: bool = sqlx::query_scalar("select exists (select 1 from campaigns where slug = $1)")
        .bind(slug.as_str())
        .fetch_one(&mut *db)
        .await?;
    if exists {
        return Err(Error::SlugTaken(slug.0));
    }
    let account = ensure_accounts(&mut *db, &slug, currency).await?;
    let row: Option<CampaignRow> = sqlx::query_as(&format!(
        "insert into campaigns (slug, title, description, currency, goal, amount_per_beneficiary,
                                suggested_amounts, ledger_account_id, translations)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict (slug) do nothing
         returning {COLUMNS}"
    ))
    .bind(slug.as_str())
    .bind(&title)
    .bind(&description)
    .bind(currency.code())
    .bind(goal.amount())
    .bind(per_beneficiary.map(|m| m.amount()))
    .bind(amounts(&suggested))
    .bind(account.as_i64())
    .bind(sqlx::types::Json(&translations))
    .fetch_optional(&mut *db)
    .await?;
    let Some(row) = row else {
        return Err(Error::SlugTaken(slug.0));
    };
    tracing::info!(campaign = %slug.as_str(), "campaign created");
    let campaign = row.into_campaign()?;
    match new.overflow.as_deref() {
        None => Ok(campaign),
        Some(overflow) => set_overflow(&mut *db, &campaign, Some(overflow)).await,
    }
}

/// The campaign's funds account (a liability that may never be overdrawn), plus the per-currency
/// processor balance and fee accounts every donation books against.
async fn ensure_accounts(db: &mut PgConnection, slug: &Slug, currency: Currency) -> Result<AccountId, Error> {
    for code in [AccountCode::stripe_balance(currency), AccountCode::stripe_fees(currency)] {
        zbor_ledger::ensure_account(db, &code.new_account(currency)).await?;
    }
    let funds = zbor_ledger::ensure_account(db, &AccountCode::campaign(slug).new_account(currency)).await?;
    Ok(funds.id)
}

pub async fn update(pool: &PgPool, slug: &str, change: &CampaignUpdate) -> Result<Campaign, Error> {
    let mut db = pool.begin().await?;
    let campaign = update_in(&mut db, slug, change, &Actor::CLI).await?;
    db.commit().await?;
    Ok(campaign)
}

/// [`update`] in the caller's transaction, with its audit entry: `campaign.close`,
/// `campaign.reopen` or `campaign.update`, naming the fields given (never their text) and the
/// status after.
pub async fn update_in(
    db: &mut PgConnection,
    slug: &str,
    change: &CampaignUpdate,
    actor: &Actor,
) -> Result<Campaign, Error> {
    let campaign = update_as(&mut *db, slug, change).await?;
    let action = match change.status {
        Some(CampaignStatus::Closed) => "campaign.close",
        Some(CampaignStatus::Open) => "campaign.reopen",
        None => "campaign.update",
    };
    let details = serde_json::json!({ "fields": change.fields_given(), "status": campaign.status });
    zbor_audit::record_in(db, actor, action, Some(&audit_subject(campaign.id)), details).await?;
    Ok(campaign)
}

async fn update_as(db: &mut PgConnection, slug: &str, change: &CampaignUpdate) -> Result<Campaign, Error> {
    let current = by_slug_for_update(&mut *db, slug).await?;
    if let Some(overflow) = &change.overflow {
        set_overflow(&mut *db, &current, overflow.as_deref()).await?;
    }
    let currency = current.currency;
    let title = change.title.as_deref().map(title).transpose()?.unwrap_or(current.title);
    let description =
        change.description.as_deref().map(description).transpose()?.unwrap_or(current.description);
    let goal =
        change.goal.as_deref().map(|g| positive("goal", g, currency)).transpose()?.unwrap_or(current.goal);
    let per_beneficiary = match &change.amount_per_beneficiary {
        None => current.amount_per_beneficiary,
        Some(None) => None,
        Some(Some(v)) => Some(positive("amount_per_beneficiary", v, currency)?),
    };
    let suggested = match &change.suggested_amounts {
        None => current.suggested_amounts,
        Some(values) => suggested(values, currency)?,
    };
    let status = change.status.unwrap_or(current.status);
    let translations = match &change.translations {
        None => current.translations,
        Some(values) => translations(values)?,
    };
    let row: CampaignRow = sqlx::query_as(&format!(
        "update campaigns set title = $2, description = $3, goal = $4, amount_per_beneficiary = $5,
                              suggested_amounts = $6, status = $7, translations = $8, updated_at = now()
         where slug = $1 returning {COLUMNS}"
    ))
    .bind(slug)
    .bind(&title)
    .bind(&description)
    .bind(goal.amount())
    .bind(per_beneficiary.map(|m| m.amount()))
    .bind(amounts(&suggested))
    .bind(status)
    .bind(sqlx::types::Json(&translations))
    .fetch_one(&mut *db)
    .await?;
    tracing::info!(campaign = %slug, ?status, "campaign updated");
    row.into_campaign()
}

pub async fn by_slug(conn: &mut PgConnection, slug: &str) -> Result<Campaign, Error> {
    let row: Option<CampaignRow> =
        sqlx::query_as(&format!("select {COLUMNS} from campaigns where slug = $1"))
            .bind(slug)
            .fetch_optional(&mut *conn)
            .await?;
    row.ok_or_else(|| Error::CampaignNotFound(slug.chars().take(64).collect()))?.into_campaign()
}

/// The campaigns with these slugs (one query; unknown slugs are simply absent).
pub async fn by_slugs(conn: &mut PgConnection, slugs: &[&str]) -> Result<Vec<Campaign>, Error> {
    let rows: Vec<CampaignRow> =
        sqlx::query_as(&format!("select {COLUMNS} from campaigns where slug = any($1)"))
            .bind(slugs)
            .fetch_all(&mut *conn)
            .await?;
    rows.into_iter().map(CampaignRow::into_campaign).collect()
}

async fn by_slug_for_update(conn: &mut PgConnection, slug: &str) -> Result<Campaign, Error> {
    let row: Option<CampaignRow> =
        sqlx::query_as(&format!("select {COLUMNS} from campaigns where slug = $1 for update"))
            .bind(slug)
            .fetch_optional(&mut *conn)
            .await?;
    row.ok_or_else(|| Error::CampaignNotFound(slug.chars().take(64).collect()))?.into_campaign()
}

/// Sets (or with `None` removes) the campaign's overflow campaign, after the checks that keep
/// donors from being sent in circles or into another currency. The row is locked by the caller
/// (`update_as`) or new (`create_as`); the overflow's chain is read under `for share` so two
/// concurrent changes cannot close a cycle between them.
async fn set_overflow(
    db: &mut PgConnection,
    campaign: &Campaign,
    overflow: Option<&str>,
) -> Result<Campaign, Error> {
    let overflow_id = match overflow {
        None => None,
        Some(slug) => {
            let target: Option<(CampaignId, String)> =
                sqlx::query_as("select id, currency from campaigns where slug = $1 for share")
                    .bind(slug)
                    .fetch_optional(&mut *db)
                    .await?;
            let Some((target_id, currency)) = target else {
                return Err(Error::invalid(
                    "overflow",
                    format!("no campaign {:?}", slug.chars().take(64).collect::<String>()),
                ));
            };
            if target_id == campaign.id {
                return Err(Error::invalid("overflow", "a campaign cannot overflow into itself"));
            }
            if currency.trim() != campaign.currency.code() {
                return Err(Error::invalid(
                    "overflow",
                    format!("must be in {} like this campaign", campaign.currency.code()),
                ));
            }
            // Following the overflow's own chain must not lead back here.
            let cycle: bool = sqlx::query_scalar(
                "with recursive chain (id, depth) as (
                     select $1::bigint, 0
                     union all
                     select c.overflow_campaign_id, chain.depth + 1
                     from campaigns c join chain on c.id = chain.id
                     where c.overflow_campaign_id is not null and chain.depth < 1000)
                 select exists (select 1 from chain where id = $2)",
            )
            .bind(target_id)
            .bind(campaign.id)
            .fetch_one(&mut *db)
            .await?;
            if cycle {
                return Err(Error::invalid(
                    "overflow",
                    "that campaign already overflows (directly or not) into this one",
                ));
            }
            Some(target_id)
        }
    };
    let row: CampaignRow = sqlx::query_as(&format!(
        "update campaigns set overflow_campaign_id = $2, updated_at = now() where id = $1 returning {COLUMNS}"
    ))
    .bind(campaign.id)
    .bind(overflow_id)
    .fetch_one(&mut *db)
    .await?;
    row.into_campaign()
}

/// The campaign with this id, if there is one.
pub async fn by_id<'c>(db: impl PgExecutor<'c>, id: CampaignId) -> Result<Option<Campaign>, Error> {
    let row: Option<CampaignRow> = sqlx::query_as(&format!("select {COLUMNS} from campaigns where id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await?;
    row.map(CampaignRow::into_campaign).transpose()
}

/// The campaigns with these ids (those that exist), in id order.
pub async fn by_ids<'c>(db: impl PgExecutor<'c>, ids: &[CampaignId]) -> Result<Vec<Campaign>, Error> {
    let ids: Vec<i64> = ids.iter().map(|id| id.as_i64()).collect();
    let rows: Vec<CampaignRow> =
        sqlx::query_as(&format!("select {COLUMNS} from campaigns where id = any($1) order by id"))
            .bind(ids)
            .fetch_all(db)
            .await?;
    rows.into_iter().map(CampaignRow::into_campaign).collect()
}

pub async fn by_payment_link(conn: &mut PgConnection, link: &str) -> Result<Option<Campaign>, Error> {
    let row: Option<CampaignRow> =
        sqlx::query_as(&format!("select {COLUMNS} from campaigns where stripe_payment_link_id = $1"))
            .bind(link)
            .fetch_optional(&mut *conn)
            .await?;
    row.map(CampaignRow::into_campaign).transpose()
}

/// Records the campaign's Payment Link once Stripe has created it. A link recorded earlier
/// (another instance got there first) wins: returns the campaign as stored.
pub async fn set_payment_link(
    pool: &PgPool,
    id: CampaignId,
    link_id: &str,
    url: &str,
) -> Result<Campaign, Error> {
    let row: CampaignRow = sqlx::query_as(&format!(
        "update campaigns set stripe_payment_link_id = coalesce(stripe_payment_link_id, $2),
                              stripe_payment_link_url = coalesce(stripe_payment_link_url, $3)
         where id = $1 returning {COLUMNS}"
    ))
    .bind(id)
    .bind(link_id)
    .bind(url)
    .fetch_one(pool)
    .await?;
    row.into_campaign()
}

/// Open campaigns still waiting for their Payment Link (Stripe was unreachable when they opened).
pub async fn open_without_payment_link(pool: &PgPool) -> Result<Vec<Campaign>, Error> {
    let rows: Vec<CampaignRow> = sqlx::query_as(&format!(
        "select {COLUMNS} from campaigns where status = 'open' and stripe_payment_link_id is null
         order by id limit 100"
    ))
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(CampaignRow::into_campaign).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["release-123", "ab", "2025-december"] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "-x", "Release", "a b", "a_b", "ü-x", &"a".repeat(64)] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }
}
