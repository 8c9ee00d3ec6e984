//! Stripe's list endpoints, shared: the query string (bracket keys, as async-stripe encodes them),
//! `limit`, the `starting_after` / `ending_before` cursors, timestamp ranges (`created[gte]=…`),
//! `expand[]`, and the list object (`{"object": "list", "data", "has_more", "url"}`).

use serde_json::{json, Value};

use crate::{form_int, form_value, ApiError};

/// A GET request's query string as `(key, value)` pairs, percent-decoded like a form body:
/// `created%5Bgte%5D=1` is `("created[gte]", "1")`.
pub(crate) fn parse_query(raw: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str(raw.unwrap_or_default())
        .map_err(|_| ApiError::bad_request("Invalid query string"))
}

/// Refuses a parameter the endpoint does not know, as Stripe does. `known` holds plain names;
/// `name[…]` is known when `name` is (`created[gte]`, `expand[0]`).
pub(crate) fn only_known(query: &[(String, String)], known: &[&str]) -> Result<(), ApiError> {
    for (key, _) in query {
        let name = key.split('[').next().unwrap_or_default();
        if !known.contains(&name) {
            return Err(ApiError::invalid(key, format!("Received unknown parameter: {key}")));
        }
    }
    Ok(())
}

/// What `expand` asks for: `expand[]=a`, `expand[0]=a` (async-stripe) or `expand=a`.
pub(crate) fn expansions(query: &[(String, String)]) -> Vec<&str> {
    array(query, "expand")
}

/// The values of an array parameter: `name[]=a`, `name[0]=a` (async-stripe) or `name=a`.
pub(crate) fn array<'a>(query: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    query
        .iter()
        .filter(|(k, _)| {
            k == name
                || k.strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix('['))
                    .and_then(|i| i.strip_suffix(']'))
                    .is_some_and(is_index)
        })
        .map(|(_, v)| v.as_str())
        .collect()
}

fn is_index(inside: &str) -> bool {
    inside.bytes().all(|b| b.is_ascii_digit())
}

/// Refuses an expansion other than `allowed`, as Stripe refuses a property it cannot expand.
pub(crate) fn expand_only(query: &[(String, String)], allowed: &str) -> Result<bool, ApiError> {
    let mut expand = false;
    for path in expansions(query) {
        if path != allowed {
            return Err(ApiError::invalid("expand", format!("This property cannot be expanded ({path}).")));
        }
        expand = true;
    }
    Ok(expand)
}

/// A timestamp filter: `param=ts` (exactly), or any of `param[gt|gte|lt|lte]=ts`.
#[derive(Default)]
pub(crate) struct TimeRange {
    gt: Option<i64>,
    gte: Option<i64>,
    lt: Option<i64>,
    lte: Option<i64>,
}

impl TimeRange {
    pub(crate) fn parse(query: &[(String, String)], param: &str) -> Result<TimeRange, ApiError> {
        let bound = |op: &str| form_int(query, &format!("{param}[{op}]"));
        let range = match form_int(query, param)? {
            Some(exactly) => TimeRange { gte: Some(exactly), lte: Some(exactly), ..TimeRange::default() },
            None => TimeRange { gt: bound("gt")?, gte: bound("gte")?, lt: bound("lt")?, lte: bound("lte")? },
        };
        Ok(range)
    }

    pub(crate) fn contains(&self, ts: i64) -> bool {
        self.gt.is_none_or(|b| ts > b)
            && self.gte.is_none_or(|b| ts >= b)
            && self.lt.is_none_or(|b| ts < b)
            && self.lte.is_none_or(|b| ts <= b)
    }

    /// Whether `object[field]` (a timestamp) is in the range.
    pub(crate) fn holds(&self, object: &Value, field: &str) -> bool {
        self.contains(object[field].as_i64().unwrap_or_default())
    }
}

/// `limit`: 1 to 100, 10 when not given.
fn limit(query: &[(String, String)]) -> Result<usize, ApiError> {
    let limit = form_int(query, "limit")?.unwrap_or(10);
    usize::try_from(limit)
        .ok()
        .filter(|l| (1..=100).contains(l))
        .ok_or_else(|| ApiError::invalid("limit", "This value must be between 1 and 100."))
}

/// One page of a list: the objects of `newest_first` that `keep` accepts, at most `limit` of
/// them, after `starting_after` or the closest ones before `ending_before`; and whether there
/// are more in that direction. `newest_first` is the whole list, unfiltered, so that a cursor
/// keeps its place whatever the filters. An unknown cursor is Stripe's 400 `resource_missing`
/// (an id in a parameter; a 404 is for an id in the URL), `No such {object}: '…'`.
pub(crate) fn page<'a>(
    newest_first: &[&'a Value],
    keep: impl Fn(&Value) -> bool,
    query: &[(String, String)],
    object: &str,
) -> Result<(Vec<&'a Value>, bool), ApiError> {
    let limit = limit(query)?;
    let starting_after = form_value(query, "starting_after");
    let ending_before = form_value(query, "ending_before");
    let position = |param: &str, cursor: &str| {
        newest_first
            .iter()
            .position(|o| o["id"] == cursor)
            .ok_or_else(|| ApiError::no_such_param(object, cursor, param))
    };
    let kept = |objects: &[&'a Value]| objects.iter().copied().filter(|o| keep(o)).collect::<Vec<_>>();
    match (starting_after, ending_before) {
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "You may only specify one of these parameters: ending_before, starting_after.",
        )),
        (Some(cursor), None) => {
            let mut older =
                kept(newest_first.get(position("starting_after", cursor)? + 1..).unwrap_or_default());
            let has_more = older.len() > limit;
            older.truncate(limit);
            Ok((older, has_more))
        }
        (None, Some(cursor)) => {
            // the `limit` newer ones closest to the cursor
            let mut newer = kept(newest_first.get(..position("ending_before", cursor)?).unwrap_or_default());
            let start = newer.len().saturating_sub(limit);
            Ok((newer.split_off(start), start > 0))
        }
        (None, None) => {
            let mut all = kept(newest_first);
            let has_more = all.len() > limit;
            all.truncate(limit);
            Ok((all, has_more))
        }
    }
}

/// Stripe's list object; `url` is the list's path (`/v1/payouts`).
pub(crate) fn list(data: Vec<Value>, has_more: bool, url: &str) -> Value {
    json!({ "object": "list", "data": data, "has_more": has_more, "url": url })
}
