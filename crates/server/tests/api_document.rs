#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! The OpenAPI document against the router and against the README:
//! - it is served, OpenAPI 3.1, and says for every operation its answers, errors and auth;
//! - every documented operation is routed, and every method a documented path does not list is
//!   refused (405): the router has nothing the document lacks on those paths;
//! - no handler is registered outside utoipa-axum's `routes!` (which takes the path from the
//!   handler's own description), so a route without an entry cannot be written;
//! - README's API table lists exactly the document's operations, with "—" exactly where the
//!   document asks for no credentials.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn served_document(app: &Running) -> Value {
    let res = reqwest::get(format!("{}/api/v1/openapi.json", app.base)).await.unwrap();
    assert_eq!(res.status(), 200);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("application/json"), "{content_type}");
    res.json().await.unwrap()
}

/// (method, path) of every operation, and whether it asks for credentials.
fn operations(document: &Value) -> BTreeMap<(String, String), bool> {
    let mut found = BTreeMap::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                let secured = operation["security"].as_array().is_some_and(|s| !s.is_empty());
                found.insert((method.to_uppercase(), path.clone()), secured);
            }
        }
    }
    found
}

#[tokio::test]
async fn the_document_is_served_and_complete() {
    let app = start(Some(WEBHOOK_SECRET)).await;
    let document = served_document(&app).await;
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document, serde_json::from_str::<Value>(zbor_server::http::openapi::document()).unwrap());

    let schemes = document["components"]["securitySchemes"].as_object().unwrap();
    assert_eq!(
        schemes.keys().collect::<BTreeSet<_>>(),
        BTreeSet::from([&"bearer".into(), &"csrf".into(), &"session".into()])
    );
    let schemas = document["components"]["schemas"].as_object().unwrap();
    assert!(schemas.contains_key("ErrorBody"));

    let operations = operations(&document);
    assert!(operations.len() >= 60, "only {} operations", operations.len());
    let mut ids = BTreeSet::new();
    for (method, path) in operations.keys() {
        let id = document["paths"][path][method.to_lowercase()]["operationId"].as_str().unwrap();
        assert!(ids.insert(id.to_owned()), "operationId {id} twice");
    }
    // every link names an operation that exists
    for (method, path) in operations.keys() {
        for response in
            document["paths"][path][method.to_lowercase()]["responses"].as_object().unwrap().values()
        {
            for link in response["links"].as_object().into_iter().flatten().map(|(_, l)| l) {
                let target = link["operationId"].as_str().unwrap();
                assert!(ids.contains(target), "{method} {path} links to unknown {target}");
            }
        }
    }
    for ((method, path), secured) in &operations {
        let operation = &document["paths"][path][method.to_lowercase()];
        let name = format!("{method} {path}");
        assert!(operation["tags"].as_array().is_some_and(|t| t.len() == 1), "{name}: one tag");
        assert!(
            operation["summary"].is_string() || operation["description"].is_string(),
            "{name}: says what it does"
        );
        let responses = operation["responses"].as_object().unwrap();
        assert!(responses.keys().any(|s| s.starts_with('2')), "{name}: a success answer");
        for status in ["500", "503"] {
            assert!(responses.contains_key(status), "{name}: {status}");
        }
        if *secured {
            assert!(responses.contains_key("401") && responses.contains_key("403"), "{name}: 401, 403");
            for requirement in operation["security"].as_array().unwrap() {
                for scheme in requirement.as_object().unwrap().keys() {
                    assert!(schemes.contains_key(scheme), "{name}: unknown scheme {scheme}");
                }
            }
        }
        // a change made with a session cookie is only accepted with its CSRF header
        if method != "GET" {
            for requirement in operation["security"].as_array().into_iter().flatten() {
                if requirement.get("session").is_some() {
                    assert!(requirement.get("csrf").is_some(), "{name}: session without csrf");
                }
            }
        }
        for (status, response) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                let content = &response["content"];
                let error_schema = content["application/json"]["schema"]["$ref"].as_str().unwrap_or("");
                assert!(
                    error_schema.starts_with("#/components/schemas/"),
                    "{name} {status}: an error answer without its body: {response}"
                );
            }
        }
        // every parameter said to be in the path is in the path
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            if parameter["in"] == "path" {
                let name = parameter["name"].as_str().unwrap();
                assert!(path.contains(&format!("{{{name}}}")), "{method} {path}: {name} is not in the path");
            }
        }
        // path parameters are described
        for parameter in path.split('/').filter(|s| s.starts_with('{')) {
            let parameter = parameter.trim_matches(['{', '}']);
            let declared = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["in"] == "path" && p["name"] == parameter);
            assert!(declared, "{name}: path parameter {parameter} undeclared");
        }
    }
    // Amounts are decimal strings, ids integers: spot checks on the types integrators use most.
    assert_eq!(schemas["Totals"]["properties"]["raised"]["type"], "string");
    assert_eq!(schemas["Item"]["properties"]["amount"]["type"], "string");
    assert_eq!(schemas["Batch"]["properties"]["id"]["$ref"], "#/components/schemas/BatchId");
    assert_eq!(schemas["BatchId"]["type"], "integer");
    // Two types of one name in two crates would share one schema, and one of them would be
    // described wrongly (the ledger's verify report and a reconciliation's were, once).
    assert!(schemas["Report"]["properties"]["accounts"].is_object(), "the ledger's verify report");
    assert!(schemas["ReconciliationReport"]["properties"]["matched"].is_object());
    assert!(schemas["ReconciliationDifference"]["properties"]["stripe"].is_object());
    app.finish().await;
}

/// A sample value for each path parameter: a route that exists answers anything but the bare
/// 404 of no route at all.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "{slug}" => "release-123",
            "{code}" => "1000",
            s if s.starts_with('{') => "999999",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_documented_operation_is_routed_and_nothing_else_on_its_paths() {
    let app = start(Some(WEBHOOK_SECRET)).await;
    let document = served_document(&app).await;
    let operations = operations(&document);
    let client = reqwest::Client::new();
    let paths: BTreeSet<&String> = operations.keys().map(|(_, path)| path).collect();
    for path in paths {
        let url = format!("{}{}", app.base, concrete(path));
        for method in METHODS {
            let method = method.to_uppercase();
            let documented = operations.contains_key(&(method.clone(), path.clone()));
            let res = client
                .request(method.parse().unwrap(), &url)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body = res.bytes().await.unwrap();
            if documented {
                assert_ne!(status, 405, "{method} {path} is documented but not routed");
                assert!(!(status == 404 && body.is_empty()), "{method} {path} is documented but not routed");
                assert!(status < 500 || status == 503, "{method} {path}: {status}");
            } else {
                assert_eq!(status, 405, "{method} {path} is routed but not documented");
            }
        }
    }
    // and a path nobody wrote is the router's bare 404
    let res = client.get(format!("{}/api/v1/no-such-thing", app.base)).send().await.unwrap();
    assert_eq!(res.status(), 404);
    app.finish().await;
}

/// Every `.rs` file under `src/http`.
fn http_sources() -> Vec<(std::path::PathBuf, String)> {
    let mut found = Vec::new();
    let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                found.push((path, text));
            }
        }
    }
    assert!(found.len() >= 10, "the http sources were not found");
    found
}

#[test]
fn no_route_is_registered_outside_routes_macro() {
    for (path, text) in http_sources() {
        // OpenApiRouter::new() is how an area starts; a plain axum Router::new() is not
        let plain_routers =
            text.matches("Router::new()").count() - text.matches("OpenApiRouter::new()").count();
        assert_eq!(plain_routers, 0, "{} builds a plain axum Router", path.display());
        for forbidden in [".route(", ".route_service(", "OpenApiRouter::from(", ".nest("] {
            assert!(
                !text.contains(forbidden),
                "{} registers a route with `{forbidden}`: use `routes!` with a #[utoipa::path] handler",
                path.display()
            );
        }
    }
}

/// The README's API table: (method, path) → the auth column, for each operation a row names.
fn readme_operations() -> BTreeMap<(String, String), String> {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let section = readme.split("## HTTP API").nth(1).unwrap().split("\n## ").next().unwrap();
    let mut found = BTreeMap::new();
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split(" | ").collect();
        let (endpoints, auth) = (cells[0].trim_start_matches("| "), cells[1].trim());
        // each `METHOD /path ...` in backquotes in the first cell
        for quoted in endpoints.split('`').skip(1).step_by(2) {
            let mut words = quoted.split_whitespace();
            let (Some(method), Some(path)) = (words.next(), words.next()) else { continue };
            if !METHODS.contains(&method.to_lowercase().as_str()) {
                continue;
            }
            let path = path.split('?').next().unwrap();
            let previous = found.insert((method.to_owned(), path.to_owned()), auth.to_owned());
            assert!(previous.is_none(), "README names {method} {path} twice");
        }
    }
    found
}

#[test]
fn the_readme_table_lists_exactly_the_documented_operations() {
    let document: Value = serde_json::from_str(zbor_server::http::openapi::document()).unwrap();
    let documented = operations(&document);
    let readme = readme_operations();
    let missing: Vec<_> = documented.keys().filter(|k| !readme.contains_key(*k)).collect();
    let extra: Vec<_> = readme.keys().filter(|k| !documented.contains_key(*k)).collect();
    assert!(missing.is_empty(), "documented but not in README's API table: {missing:?}");
    assert!(extra.is_empty(), "in README's API table but not documented: {extra:?}");
    for (operation, auth) in &readme {
        let secured = documented[operation];
        let anonymous = auth.starts_with('—') || auth.starts_with("`Stripe-Signature`");
        assert_eq!(
            secured, !anonymous,
            "{operation:?}: README says auth `{auth}`, the document says secured = {secured}"
        );
    }
}
