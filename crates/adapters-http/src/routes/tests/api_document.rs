//! The OpenAPI document: it describes every API route and nothing else, and it is served as JSON.

use super::*;

/// Routes that answer under `/api` but are not part of the described API: the document itself.
const UNDESCRIBED: &[(&str, &str)] = &[("GET", "/api/openapi.json")];

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
    // Every described answer that is an error has the error body.
    for (path, item) in &doc.paths.paths {
        for op in [&item.get, &item.post].into_iter().flatten() {
            for (status, response) in &op.responses.responses {
                let json = serde_json::to_value(response).unwrap_or_default();
                assert!(
                    json["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{path} {status} needs a description"
                );
                if status.starts_with('4') || status.starts_with('5') {
                    let schema = AGREED_ERROR_SHAPES
                        .iter()
                        .find(|(p, s, _)| p == path && s == status)
                        .map_or("ErrorBody", |(_, _, schema)| schema);
                    assert_eq!(
                        json["content"]["application/json"]["schema"]["$ref"],
                        format!("#/components/schemas/{schema}"),
                        "{path} {status} must document the error body"
                    );
                }
            }
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
