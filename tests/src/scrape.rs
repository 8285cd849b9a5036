//! Reading a server's metrics as Prometheus does: its address from the server's log, and the
//! scrape parsed by a real Prometheus text parser (the `prometheus-parse` crate).

use crate::server::Server;

/// Every sample of a scrape, parsed by the `prometheus-parse` crate.
pub async fn scrape(url: &str) -> (String, prometheus_parse::Scrape) {
    let http = crate::client::http_builder().build().unwrap();
    let r = http.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let content_type = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = r.text().await.unwrap();
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    (
        text.clone(),
        prometheus_parse::Scrape::parse(lines).unwrap(),
    )
}

/// Where the server says it serves its metrics (its log line at start).
pub fn metrics_url(server: &Server) -> String {
    let line = server.wait_for_log("metrics on http://");
    line.split("metrics on ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .trim_end_matches('"')
        .to_owned()
}

/// The value of the sample named `name` whose labels include `labels`.
pub fn value(
    scrape: &prometheus_parse::Scrape,
    name: &str,
    labels: &[(&str, &str)],
) -> Option<f64> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .find(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            prometheus_parse::Value::Histogram(ref buckets) => {
                buckets.last().map_or(0.0, |b| b.count)
            }
            prometheus_parse::Value::Summary(_) => 0.0,
        })
}
