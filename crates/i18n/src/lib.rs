//! The pages' languages. Every word a donor or coordinator reads on `/give`, `/dashboard` and the
//! not-found page comes from a Fluent catalogue in `locales/<lang>/pages.ftl`, and every word of
//! the treasurers' console from `locales/<lang>/console.ftl` ([`Catalogue`]); Rust and the
//! scripts hold no user-visible text. The catalogues are compiled in (`include_str!`), so a
//! release cannot ship without them.
//!
//! - [`Lang`]: the languages offered, and which one a visitor gets ([`negotiate`]).
//! - [`text`]: a message, with its variables filled in.
//! - [`template`]: a message for the pages' scripts, with `{name}` where a variable goes;
//!   [`templates`]: all of a catalogue's.
//! - [`money`]: an exact decimal string as money in the locale's format ([`MoneyStyle`]).

mod money;

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

pub use money::{money, money_style, MoneyStyle};

/// The languages the pages are written in: those the Belarusian diaspora's donors read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    Be,
    Ru,
    Uk,
    Pl,
    Lt,
    De,
    En,
}

/// The cookie that remembers a visitor's choice from the language switcher.
pub const COOKIE: &str = "zbor_lang";

impl Lang {
    /// In the order the switcher lists them.
    pub const ALL: [Lang; 7] = [Lang::Be, Lang::Ru, Lang::Uk, Lang::Pl, Lang::Lt, Lang::De, Lang::En];

    /// The BCP 47 code, as in `<html lang>` and `hreflang`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Be => "be",
            Lang::Ru => "ru",
            Lang::Uk => "uk",
            Lang::Pl => "pl",
            Lang::Lt => "lt",
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    /// A language tag (`be`, `be-BY`, `DE-at`): its primary subtag, if it is one of ours.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|lang| lang.code() == primary)
    }

    /// Stripe Checkout's `locale` for this language; Stripe has no Belarusian or Ukrainian page,
    /// so those get `auto` (Stripe follows the browser's language).
    pub fn stripe_locale(self) -> &'static str {
        match self {
            Lang::Be | Lang::Uk => "auto",
            other => other.code(),
        }
    }

    /// The text of one of this language's catalogue files.
    fn catalogue(self, catalogue: Catalogue) -> &'static str {
        match (catalogue, self) {
            (Catalogue::Pages, Lang::Be) => include_str!("../locales/be/pages.ftl"),
            (Catalogue::Pages, Lang::Ru) => include_str!("../locales/ru/pages.ftl"),
            (Catalogue::Pages, Lang::Uk) => include_str!("../locales/uk/pages.ftl"),
            (Catalogue::Pages, Lang::Pl) => include_str!("../locales/pl/pages.ftl"),
            (Catalogue::Pages, Lang::Lt) => include_str!("../locales/lt/pages.ftl"),
            (Catalogue::Pages, Lang::De) => include_str!("../locales/de/pages.ftl"),
            (Catalogue::Pages, Lang::En) => include_str!("../locales/en/pages.ftl"),
            (Catalogue::Console, Lang::Be) => include_str!("../locales/be/console.ftl"),
            (Catalogue::Console, Lang::Ru) => include_str!("../locales/ru/console.ftl"),
            (Catalogue::Console, Lang::Uk) => include_str!("../locales/uk/console.ftl"),
            (Catalogue::Console, Lang::Pl) => include_str!("../locales/pl/console.ftl"),
            (Catalogue::Console, Lang::Lt) => include_str!("../locales/lt/console.ftl"),
            (Catalogue::Console, Lang::De) => include_str!("../locales/de/console.ftl"),
            (Catalogue::Console, Lang::En) => include_str!("../locales/en/console.ftl"),
        }
    }
}

/// The catalogue files each language has. A language's bundle holds them all, so [`text`] finds
/// a message whichever file it is in; an id may be in one file only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Catalogue {
    /// `pages.ftl`: the donors' and coordinators' pages, and the language switcher.
    Pages,
    /// `console.ftl`: the treasurers' console (every id starts `console-`).
    Console,
}

impl Catalogue {
    pub const ALL: [Catalogue; 2] = [Catalogue::Pages, Catalogue::Console];

    /// The file's name in `locales/<lang>/`.
    pub fn file_name(self) -> &'static str {
        match self {
            Catalogue::Pages => "pages.ftl",
            Catalogue::Console => "console.ftl",
        }
    }
}

/// The visitor's language: an explicit choice (the switcher's `?lang=`), else the remembered one
/// (the cookie), else the best of `Accept-Language` by q-value (`be-BY` is `be`), else English.
pub fn negotiate(explicit: Option<&str>, cookie: Option<&str>, accept_language: Option<&str>) -> Lang {
    explicit
        .and_then(Lang::parse)
        .or_else(|| cookie.and_then(Lang::parse))
        .or_else(|| accept_language.and_then(from_accept_language))
        .unwrap_or(Lang::En)
}

/// `de-AT,de;q=0.9,be;q=0.95,*;q=0.1`: the ranges by falling q (ties keep their order), the first
/// that is ours. `q=0` means "not this one".
fn from_accept_language(header: &str) -> Option<Lang> {
    let mut ranges: Vec<(u16, usize, Lang)> = header
        .split(',')
        .enumerate()
        .filter_map(|(position, item)| {
            let mut parts = item.split(';');
            let lang = Lang::parse(parts.next()?)?;
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
                .map_or(Some(1000), quality)?;
            (q > 0).then_some((q, position, lang))
        })
        .collect();
    ranges.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    ranges.first().map(|(_, _, lang)| *lang)
}

/// A q-value (`0`, `0.5`, `1.000`) in thousandths, without floats; `None` when malformed.
fn quality(q: &str) -> Option<u16> {
    let (whole, fraction) = q.trim().split_once('.').unwrap_or((q.trim(), ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths: u16 = format!("{fraction:0<3}").parse().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

type Bundle = FluentBundle<FluentResource>;

fn bundles() -> &'static Vec<(Lang, Bundle)> {
    static BUNDLES: OnceLock<Vec<(Lang, Bundle)>> = OnceLock::new();
    BUNDLES.get_or_init(|| Lang::ALL.into_iter().map(|lang| (lang, bundle(lang))).collect())
}

/// A language's bundle, with every catalogue file. A catalogue with a syntax error keeps the
/// messages that parsed, and an id in two files keeps its first (the catalogue tests fail on
/// either, so neither reaches a release).
fn bundle(lang: Lang) -> Bundle {
    let id = lang.code().parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // No Unicode isolation marks around variables: every language here is left-to-right, and
    // the marks would end up inside attributes and the scripts' templates.
    bundle.set_use_isolating(false);
    for catalogue in Catalogue::ALL {
        let resource = FluentResource::try_new(lang.catalogue(catalogue).to_owned())
            .unwrap_or_else(|(partial, _)| partial);
        let _ = bundle.add_resource(resource);
    }
    bundle
}

fn bundle_for(lang: Lang) -> Option<&'static Bundle> {
    bundles().iter().find(|(l, _)| *l == lang).map(|(_, b)| b)
}

/// A message in `lang` with its variables (a value that reads as a number is one, so plural
/// rules apply). A message missing in `lang` falls back to English, then to its id: the
/// catalogue tests make both impossible in a release.
pub fn text(lang: Lang, id: &str, args: &[(&str, &str)]) -> String {
    format(lang, id, args).or_else(|| format(Lang::En, id, args)).unwrap_or_else(|| id.to_owned())
}

fn format(lang: Lang, id: &str, args: &[(&str, &str)]) -> Option<String> {
    let bundle = bundle_for(lang)?;
    let pattern = bundle.get_message(id)?.value()?;
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        fluent_args.set(*name, FluentValue::try_number(value));
    }
    let mut errors = Vec::new();
    Some(bundle.format_pattern(pattern, Some(&fluent_args), &mut errors).into_owned())
}

/// A message for a page's script: each variable in `vars` appears as `{name}` for the script to
/// replace (so no plural selection on these: the catalogues word them without one).
pub fn template(lang: Lang, id: &str, vars: &[&str]) -> String {
    let placeholders: Vec<String> = vars.iter().map(|v| format!("{{{v}}}")).collect();
    let args: Vec<(&str, &str)> = vars.iter().copied().zip(placeholders.iter().map(String::as_str)).collect();
    text(lang, id, &args)
}

/// Every message of one of `lang`'s catalogue files as a template for a script (see
/// [`template`]), by id: what the console's data block carries.
pub fn templates(lang: Lang, catalogue: Catalogue) -> Vec<(String, String)> {
    // English's contents: the catalogue tests make every language's the same
    let contents = catalogue_contents(Lang::En, catalogue).unwrap_or_default();
    contents
        .into_iter()
        .map(|(id, vars)| {
            let vars: Vec<&str> = vars.iter().map(String::as_str).collect();
            let message = template(lang, &id, &vars);
            (id, message)
        })
        .collect()
}

/// Every message id in one of a language's catalogue files, and the variables each refers to
/// (sorted), for the catalogue tests; `Err` lists the syntax errors.
pub fn catalogue_contents(lang: Lang, catalogue: Catalogue) -> Result<Vec<(String, Vec<String>)>, String> {
    use fluent_syntax::ast;
    let parsed = fluent_syntax::parser::parse(lang.catalogue(catalogue))
        .map_err(|(_, errors)| format!("{errors:?}"))?;
    let mut out = Vec::new();
    for entry in parsed.body {
        if let ast::Entry::Message(message) = entry {
            let mut vars = Vec::new();
            if let Some(pattern) = &message.value {
                pattern_variables(pattern, &mut vars);
            }
            vars.sort();
            vars.dedup();
            out.push((message.id.name.to_owned(), vars));
        }
    }
    Ok(out)
}

fn pattern_variables(pattern: &fluent_syntax::ast::Pattern<&str>, vars: &mut Vec<String>) {
    for element in &pattern.elements {
        if let fluent_syntax::ast::PatternElement::Placeable { expression } = element {
            expression_variables(expression, vars);
        }
    }
}

fn expression_variables(expression: &fluent_syntax::ast::Expression<&str>, vars: &mut Vec<String>) {
    use fluent_syntax::ast::Expression;
    match expression {
        Expression::Inline(inline) => inline_variables(inline, vars),
        Expression::Select { selector, variants } => {
            inline_variables(selector, vars);
            for variant in variants {
                pattern_variables(&variant.value, vars);
            }
        }
    }
}

fn inline_variables(expression: &fluent_syntax::ast::InlineExpression<&str>, vars: &mut Vec<String>) {
    use fluent_syntax::ast::InlineExpression;
    match expression {
        InlineExpression::VariableReference { id } => vars.push(id.name.to_owned()),
        InlineExpression::Placeable { expression } => expression_variables(expression, vars),
        InlineExpression::FunctionReference { arguments, .. } => {
            for argument in &arguments.positional {
                inline_variables(argument, vars);
            }
            for argument in &arguments.named {
                inline_variables(&argument.value, vars);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn every_catalogue_has_every_message_with_the_same_variables() {
        for catalogue in Catalogue::ALL {
            let file = catalogue.file_name();
            let english = catalogue_contents(Lang::En, catalogue).unwrap();
            assert!(english.len() > 40, "the English {file} looks truncated");
            for lang in Lang::ALL {
                let code = lang.code();
                let contents = catalogue_contents(lang, catalogue)
                    .unwrap_or_else(|e| panic!("{code}/{file}: syntax: {e}"));
                let ids: Vec<&String> = contents.iter().map(|(id, _)| id).collect();
                for (id, vars) in &english {
                    let theirs = contents.iter().find(|(i, _)| i == id);
                    let (_, their_vars) = theirs.unwrap_or_else(|| panic!("{code}/{file} lacks {id}"));
                    assert_eq!(
                        their_vars, vars,
                        "{code}/{file}: {id} refers to other variables than English"
                    );
                }
                for id in ids {
                    assert!(
                        english.iter().any(|(i, _)| i == id),
                        "{code}/{file} has {id}, which English lacks"
                    );
                }
                // every message formats without a resolver error given the variables it names
                let bundle = bundle(lang);
                for (id, vars) in &contents {
                    let pattern = bundle.get_message(id).and_then(|m| m.value()).expect("a value");
                    let mut args = FluentArgs::new();
                    for var in vars {
                        args.set(var.as_str(), FluentValue::try_number("3"));
                    }
                    let mut errors = Vec::new();
                    let _ = bundle.format_pattern(pattern, Some(&args), &mut errors);
                    assert!(errors.is_empty(), "{code}/{file}: {id}: {errors:?}");
                }
            }
        }
    }

    #[test]
    fn the_catalogue_files_share_no_id_and_the_console_keeps_its_prefix() {
        // a bundle keeps the first of two messages with one id: the second would be lost
        let pages = catalogue_contents(Lang::En, Catalogue::Pages).unwrap();
        let console = catalogue_contents(Lang::En, Catalogue::Console).unwrap();
        for (id, _) in &console {
            assert!(id.starts_with("console-"), "console.ftl: {id} lacks the console- prefix");
            assert!(!pages.iter().any(|(i, _)| i == id), "{id} is in both files");
        }
        for (id, _) in &pages {
            assert!(!id.starts_with("console-"), "pages.ftl: {id} has the console's prefix");
        }
    }

    #[test]
    fn console_templates_come_from_the_console_file_in_the_language_asked() {
        let be = templates(Lang::Be, Catalogue::Console);
        let en = templates(Lang::En, Catalogue::Console);
        assert_eq!(be.len(), en.len());
        assert!(be.iter().all(|(id, _)| id.starts_with("console-")));
        let login =
            |all: &[(String, String)]| all.iter().find(|(id, _)| id == "console-login").unwrap().1.clone();
        assert_eq!(login(&en), "Log in");
        assert_eq!(login(&be), text(Lang::Be, "console-login", &[]));
        assert_ne!(login(&be), login(&en));
        let of = |all: &[(String, String)]| {
            all.iter().find(|(id, _)| id == "console-approvals-of").unwrap().1.clone()
        };
        assert_eq!(of(&en), "{given} of {required}");
    }

    #[test]
    fn each_language_names_itself_in_its_own_words() {
        let names: Vec<String> = Lang::ALL.iter().map(|l| text(*l, "language-name", &[])).collect();
        assert_eq!(
            names,
            ["Беларуская", "Русский", "Українська", "Polski", "Lietuvių", "Deutsch", "English"]
        );
    }

    #[test]
    fn texts_fill_in_variables_without_isolation_marks() {
        assert_eq!(
            text(Lang::En, "thanks-receipt", &[("reference", "ZB-1234")]),
            "Your receipt reference: ZB-1234"
        );
        assert_eq!(template(Lang::De, "dashboard-funded-of", &["funded", "total"]), "{funded} von {total}");
        assert_eq!(text(Lang::Be, "no-such-message", &[]), "no-such-message");
    }

    #[test]
    fn the_language_is_the_choice_then_the_cookie_then_accept_language_then_english() {
        assert_eq!(negotiate(Some("pl"), Some("de"), Some("be")), Lang::Pl);
        assert_eq!(negotiate(Some("xx"), Some("de"), Some("be")), Lang::De);
        assert_eq!(negotiate(None, None, Some("be-BY,be;q=0.9,ru;q=0.8")), Lang::Be);
        assert_eq!(negotiate(None, None, Some("fr-FR,fr;q=0.9,ru;q=0.5,uk;q=0.7")), Lang::Uk);
        assert_eq!(negotiate(None, None, Some("de;q=0.5, lt")), Lang::Lt);
        assert_eq!(negotiate(None, None, Some("lt;q=0, pl;q=0.001")), Lang::Pl);
        assert_eq!(negotiate(None, None, Some("ru;q=1.5, be;q=abc")), Lang::En);
        assert_eq!(negotiate(None, None, Some("fr, ja")), Lang::En);
        assert_eq!(negotiate(None, None, None), Lang::En);
    }

    #[test]
    fn stripe_gets_its_locale_or_auto() {
        let locales: Vec<&str> = Lang::ALL.iter().map(|l| l.stripe_locale()).collect();
        assert_eq!(locales, ["auto", "ru", "auto", "pl", "lt", "de", "en"]);
    }
}
