//! The OpenAPI document: it describes every API route and nothing else, and it is served as JSON.

use super::*;

/// Routes that answer under `/api` but are not part of the described API: the document itself
/// and its reference page.
const UNDESCRIBED: &[(&str, &str)] = &[("GET", "/api/openapi.json"), ("GET", "/api/docs")];

#[test]
fn the_openapi_document_describes_every_api_route_and_nothing_else() {
    let doc = crate::routes::openapi::document();
    let table = table();
    let mut described: Vec<(String, String)> = Vec::new();
    for (path, item) in &doc.paths.paths {
        let methods = [
            ("GET", item.get.is_some()),
            ("POST", item.post.is_some()),
            ("PUT", item.put.is_some()),
            ("PATCH", item.patch.is_some()),
            ("DELETE", item.delete.is_some()),
        ];
        for (method, present) in methods {
            if present {
                described.push((method.to_owned(), path.clone()));
            }
        }
    }
    described.sort();
    let mut routed: Vec<(String, String)> = table
        .iter()
        .filter(|r| r.path.starts_with("/api/"))
        .map(|r| (r.method.to_string(), r.path.to_owned()))
        .filter(|(m, p)| !UNDESCRIBED.contains(&(m.as_str(), p.as_str())))
        .collect();
    routed.sort();
    assert_eq!(described, routed);
    // Every described answer that is an error has the error body (and an agreed older shape
    // where there is one, as an alternative).
    for (path, item) in &doc.paths.paths {
        let operations = [&item.get, &item.post, &item.put, &item.patch, &item.delete];
        for op in operations.into_iter().flatten() {
            for (status, response) in &op.responses.responses {
                let json = serde_json::to_value(response).unwrap_or_default();
                assert!(
                    json["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{path} {status} needs a description"
                );
                if status.starts_with('4') || status.starts_with('5') {
                    let schema = &json["content"]["application/json"]["schema"];
                    let shapes: Vec<&str> = match schema["oneOf"].as_array() {
                        Some(one_of) => one_of.iter().filter_map(|s| s["$ref"].as_str()).collect(),
                        None => schema["$ref"].as_str().into_iter().collect(),
                    };
                    assert!(
                        shapes.contains(&"#/components/schemas/ErrorBody"),
                        "{path} {status} must document the error body: {schema}"
                    );
                    if let Some((_, _, agreed)) = AGREED_ERROR_SHAPES
                        .iter()
                        .find(|(p, s, _)| p == path && s == status)
                    {
                        assert!(
                            shapes.contains(&format!("#/components/schemas/{agreed}").as_str()),
                            "{path} {status} keeps its agreed shape"
                        );
                    }
                }
            }
        }
    }
}

/// The answers the frame gives (limits, dependencies, anti-forgery, body limit, access) are
/// documented on every API operation, from the route table (`openapi_frame.rs`).
#[test]
fn every_api_operation_documents_the_answers_of_the_frame_around_it() {
    let doc = serde_json::to_value(crate::routes::openapi::document()).unwrap();
    for route in table().iter().filter(|r| r.path.starts_with("/api/")) {
        if UNDESCRIBED.contains(&(route.method.as_str(), route.path)) {
            continue;
        }
        let method = route.method.as_str().to_lowercase();
        let responses = &doc["paths"][route.path][&method]["responses"];
        let mut expected = vec!["429", "500", "503"];
        if route.method != Method::GET {
            expected.extend(["403", "413"]);
        }
        match route.access {
            Access::Public => {}
            Access::Owner => expected.push("404"),
            Access::Role(Role::Visitor) => expected.push("401"),
            Access::Role(_) => expected.extend(["401", "403"]),
        }
        if doc["paths"][route.path][&method]["requestBody"].is_object() {
            expected.extend(["400", "415"]);
        }
        for status in expected {
            assert!(
                responses[status].is_object(),
                "{} {} does not document {status}",
                route.method,
                route.path
            );
        }
    }
}

/// Error answers whose shape was agreed with external clients before the common error body
/// (seed §7's `{"success": false, "error"}`).
const AGREED_ERROR_SHAPES: &[(&str, &str, &str)] =
    &[("/api/security/verify", "400", "CaptchaFailed")];

#[tokio::test]
async fn the_openapi_document_is_served_as_json() {
    let (r, body) = get_("/api/openapi.json").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header_of(&r, "content-type"), "application/json");
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        doc["openapi"]
            .as_str()
            .unwrap_or_default()
            .starts_with("3.")
    );
    assert!(doc["paths"]["/api/auth/login"]["post"].is_object());
    assert!(doc["components"]["securitySchemes"]["csrf"].is_object());
}
