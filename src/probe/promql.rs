//! `promql` probes: one instant query against a Prometheus HTTP API, judged
//! by whether it returned samples or by an `expect` over `value` and `result`.

use serde_json::{Value, json};

use super::cel;
use super::{Outcome, Verdict};
use crate::checklist::model::PromqlProbe;
use crate::doc::Doc;

/// A larger answer is refused rather than held in memory.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// At most this many series are kept in the evidence.
const MAX_LISTED_SERIES: usize = 20;

pub async fn run(probe: &PromqlProbe) -> Outcome {
    // Shown in messages: the URL as written, so `${env:...}` stays hidden.
    // As shown: a password in the URL is not.
    let endpoint = format!(
        "{}/api/v1/query",
        super::redact::url(probe.url.trim_end_matches('/'))
    );
    let answer = match query(probe).await {
        Ok(answer) => answer,
        Err(reason) => return Outcome::error(format!("{endpoint}: {reason}")),
    };
    judge(probe, &answer)
}

/// The useful part of a successful answer.
#[derive(Debug)]
struct Answer {
    result_type: String,
    result: Value,
    /// The scalar, or the first sample's value; `null` when there is none.
    value: Value,
    samples: usize,
}

/// Sends the query and reads the answer; the error says why it could not.
async fn query(probe: &PromqlProbe) -> Result<Answer, String> {
    crate::install_crypto_provider();
    let base = super::secret_env(&probe.url)?;
    let mut url = reqwest::Url::parse(&format!("{}/api/v1/query", base.trim_end_matches('/')))
        .map_err(|e| format!("not a valid URL: {e}"))?;
    url.query_pairs_mut().append_pair("query", &probe.query);
    let client = reqwest::Client::builder()
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {}", innermost(&e)))?;
    let mut response = client
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| format!("unreachable: {}", innermost(&e.without_url())))?;
    let status = response.status();
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("the answer broke off: {}", innermost(&e.without_url())))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BODY_BYTES {
            return Err("the answer is larger than 16 MiB".into());
        }
    }
    let Ok(json) = serde_json::from_slice::<Value>(&body) else {
        let text = String::from_utf8_lossy(&body);
        let snippet = crate::text::truncate(&crate::text::sanitize(text.trim(), false), 120);
        let shown = if snippet.is_empty() {
            "an empty body".to_string()
        } else {
            snippet
        };
        return Err(format!(
            "not a Prometheus API answer (HTTP {status}): {shown}"
        ));
    };
    parse_answer(&json, status)
}

fn parse_answer(json: &Value, status: reqwest::StatusCode) -> Result<Answer, String> {
    if json["status"] == "error" {
        let kind = json["errorType"].as_str().unwrap_or("error");
        let reason = json["error"].as_str().unwrap_or("no reason given");
        let reason = crate::text::sanitize(reason, false);
        return Err(format!("Prometheus refused the query ({kind}): {reason}"));
    }
    let data = &json["data"];
    let (Some(result_type), Some(result)) = (data["resultType"].as_str(), data.get("result"))
    else {
        return Err(format!(
            "not a Prometheus API answer (HTTP {status}): no data.result"
        ));
    };
    let (value, samples) = match result_type {
        "scalar" | "string" => (sample_value(result), 1),
        "vector" => (sample_value(&result[0]["value"]), series_count(result)),
        "matrix" => {
            let last = result[0]["values"].as_array().and_then(|v| v.last());
            (last.map_or(Value::Null, sample_value), series_count(result))
        }
        other => return Err(format!("unknown result type {other:?}")),
    };
    Ok(Answer {
        result_type: result_type.to_string(),
        result: result.clone(),
        value,
        samples,
    })
}

fn series_count(result: &Value) -> usize {
    result.as_array().map_or(0, Vec::len)
}

/// `[1700000000.1, "0.98"]` → 0.98. Prometheus sends values as strings; a
/// number that JSON cannot hold (NaN, ±Inf) becomes null, and a string
/// result stays a string.
fn sample_value(pair: &Value) -> Value {
    match &pair[1] {
        Value::String(text) => match text.parse::<f64>() {
            Ok(v) => serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
            Err(_) => Value::String(text.clone()),
        },
        _ => Value::Null,
    }
}

fn judge(probe: &PromqlProbe, answer: &Answer) -> Outcome {
    let detail = evidence(probe, answer);
    let shown = show(&answer.value);
    let Some(expect) = &probe.expect else {
        return if answer.samples == 0 {
            Outcome::fail("the query returned no samples", detail)
        } else if answer.samples == 1 {
            Outcome::pass(format!("value {shown}"), detail)
        } else {
            Outcome::pass(
                format!("value {shown} (first of {} series)", answer.samples),
                detail,
            )
        };
    };
    let value = Doc::from_value(&answer.value);
    let result = Doc::from_value(&answer.result);
    let vars = [("value", value.root()), ("result", result.root())];
    match cel::evaluate(expect, &vars) {
        Ok(true) => Outcome::pass(format!("expect holds: value {shown}"), detail),
        Ok(false) => Outcome::fail(
            super::explain::why_false(expect, &vars, false).unwrap_or_else(|| {
                format!("expect does not hold: {} (value {shown})", expect.source)
            }),
            detail,
        ),
        Err(_) if answer.samples == 0 => Outcome::fail(
            format!(
                "the query returned no samples, so expect cannot hold: {}",
                expect.source
            ),
            detail,
        ),
        Err(e) => Outcome::new(
            Verdict::Error,
            format!("expect could not be evaluated: {e}"),
            detail,
        ),
    }
}

fn show(value: &Value) -> String {
    match value {
        Value::Null => "none".into(),
        Value::String(s) => crate::text::truncate(&crate::text::sanitize(s, false), 60),
        // Rust's float formatting shows 1, not JSON's 1.0.
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), |v| v.to_string()),
        other => other.to_string(),
    }
}

fn evidence(probe: &PromqlProbe, answer: &Answer) -> Value {
    let listed = match &answer.result {
        Value::Array(items) if answer.result_type != "scalar" && answer.result_type != "string" => {
            Value::Array(items.iter().take(MAX_LISTED_SERIES).cloned().collect())
        }
        other => other.clone(),
    };
    json!({
        "url": super::redact::url(&probe.url),
        "query": probe.query,
        "result_type": answer.result_type,
        "samples": answer.samples,
        "value": answer.value,
        "result": listed,
        "expect": probe.expect.as_ref().map(|e| e.source.as_str()),
    })
}

/// The most specific reason in an error chain: "Connection refused (os
/// error 111)" rather than "error sending request".
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(next) = current.source() {
        current = next;
    }
    crate::text::sanitize(&current.to_string(), false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::Query;
    use axum::http::StatusCode;
    use axum::{Json, Router, routing::get};
    use std::collections::HashMap;

    const ERROR_RATE: &str = r#"sum(rate(http_requests_total{code=~"5.."}[5m])) / 2"#;

    async fn answer(Query(params): Query<HashMap<String, String>>) -> (StatusCode, Json<Value>) {
        let query = params.get("query").map(String::as_str).unwrap_or_default();
        let data = |result_type: &str, result: Value| json!({"status": "success", "data": {"resultType": result_type, "result": result}});
        match query {
            "up" => (
                StatusCode::OK,
                Json(data(
                    "vector",
                    json!([
                        {"metric": {"__name__": "up", "job": "api"}, "value": [1700000000.5, "1"]},
                        {"metric": {"__name__": "up", "job": "db"}, "value": [1700000000.5, "0"]},
                    ]),
                )),
            ),
            ERROR_RATE => (
                StatusCode::OK,
                Json(data("scalar", json!([1700000000.5, "0.25"]))),
            ),
            "absent_metric" => (StatusCode::OK, Json(data("vector", json!([])))),
            _ => (
                StatusCode::BAD_REQUEST,
                Json(json!({
                    "status": "error",
                    "errorType": "bad_data",
                    "error": "1:4: parse error: unclosed left parenthesis",
                })),
            ),
        }
    }

    async fn prometheus() -> String {
        let app = Router::new().route("/api/v1/query", get(answer));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a local port is free");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }

    fn probe(url: &str, query: &str, expect: Option<&str>) -> PromqlProbe {
        PromqlProbe {
            url: url.to_string(),
            query: query.to_string(),
            expect: expect.map(|e| cel::compile(e).expect("the test expression compiles")),
        }
    }

    #[tokio::test]
    async fn a_vector_with_samples_passes_without_expect() {
        let url = prometheus().await;
        let out = run(&probe(&url, "up", None)).await;
        assert_eq!(out.verdict, Verdict::Pass);
        assert_eq!(out.evidence.summary, "value 1 (first of 2 series)");
        assert_eq!(out.evidence.detail["result"][1]["metric"]["job"], "db");
    }

    #[tokio::test]
    async fn expect_sees_value_and_result() {
        let url = prometheus().await;
        let all_up = "result.all(s, s.value[1] == '1')";
        let out = run(&probe(&url, "up", Some(all_up))).await;
        assert_eq!(out.verdict, Verdict::Fail);
        assert_eq!(
            out.evidence.summary,
            "result[1]: value[1] is \"0\", wants == '1'"
        );

        let out = run(&probe(&url, ERROR_RATE, Some("value < 0.5"))).await;
        assert_eq!(out.verdict, Verdict::Pass, "{}", out.evidence.summary);
        assert_eq!(out.evidence.summary, "expect holds: value 0.25");
        let out = run(&probe(&url, ERROR_RATE, Some("value < 0.1"))).await;
        assert_eq!(out.evidence.summary, "value is 0.25, wants < 0.1");
    }

    #[tokio::test]
    async fn no_samples_is_a_fail() {
        let url = prometheus().await;
        let out = run(&probe(&url, "absent_metric", None)).await;
        assert_eq!(out.verdict, Verdict::Fail);
        assert_eq!(out.evidence.summary, "the query returned no samples");

        let out = run(&probe(&url, "absent_metric", Some("value > 0.0"))).await;
        assert_eq!(out.verdict, Verdict::Fail);
        assert_eq!(
            out.evidence.summary,
            "the query returned no samples, so expect cannot hold: value > 0.0"
        );

        let out = run(&probe(&url, "absent_metric", Some("size(result) == 0"))).await;
        assert_eq!(out.verdict, Verdict::Pass);
    }

    #[tokio::test]
    async fn a_prometheus_error_is_an_error_with_its_reason() {
        let url = prometheus().await;
        let out = run(&probe(&url, "sum(up", None)).await;
        assert_eq!(out.verdict, Verdict::Error);
        assert_eq!(
            out.evidence.summary,
            format!(
                "{url}/api/v1/query: Prometheus refused the query (bad_data): \
                 1:4: parse error: unclosed left parenthesis"
            )
        );
    }

    #[tokio::test]
    async fn a_non_prometheus_endpoint_is_an_error() {
        let url = prometheus().await;
        let out = run(&probe(&format!("{url}/grafana"), "up", None)).await;
        assert_eq!(out.verdict, Verdict::Error);
        assert_eq!(
            out.evidence.summary,
            format!(
                "{url}/grafana/api/v1/query: not a Prometheus API answer (HTTP 404 Not Found): an empty body"
            )
        );
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_an_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a local port is free");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        drop(listener);
        let out = run(&probe(&format!("http://{addr}"), "up", None)).await;
        assert_eq!(out.verdict, Verdict::Error);
        let summary = &out.evidence.summary;
        assert!(
            summary.starts_with(&format!("http://{addr}/api/v1/query: unreachable: ")),
            "{summary}"
        );
        assert!(summary.to_lowercase().contains("refused"), "{summary}");
    }
}
