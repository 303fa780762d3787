//! The API server's `Warning: 299` headers (a pruned unknown field, a deprecated version), which
//! kube's typed calls drop. A layer on the client hands each response's warnings to the task
//! that made the request, if that task asked for them with `collect`.

use std::cell::RefCell;
use std::future::Future;
use std::sync::LazyLock;

tokio::task_local! {
    static SINK: RefCell<Vec<String>>;
}

/// `299 - "message"` (RFC 7234 warn-code, agent, quoted text), possibly several per header.
static WARNING: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r#"299 \S+ "((?:[^"\\]|\\.)*)""#).expect("a valid regex"));
static ESCAPE: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"\\(.)").expect("a valid regex"));

/// The messages of every `299` warning a response carries.
pub fn parse(headers: &http::HeaderMap) -> Vec<String> {
    headers
        .get_all("warning")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|text| WARNING.captures_iter(text))
        .map(|c| ESCAPE.replace_all(&c[1], "$1").into_owned())
        .collect()
}

/// The server's words, and for the common case what they mean for the edit: an unknown field
/// was accepted and thrown away, which "warning" alone does not say.
pub fn explain(warning: &str) -> String {
    if warning.starts_with("unknown field") {
        format!("{warning} (not stored: the cluster's CRD does not have it)")
    } else {
        warning.to_string()
    }
}

/// For `tower::util::MapResponseLayer`: records the warnings for the task that asked.
pub fn record<B>(response: http::Response<B>) -> http::Response<B> {
    let warnings = parse(response.headers());
    if !warnings.is_empty() {
        let kept = SINK.try_with(|sink| sink.borrow_mut().extend(warnings.iter().cloned()));
        if kept.is_err() {
            for w in warnings {
                tracing::warn!("API server warning: {w}");
            }
        }
    }
    response
}

/// Runs `f` and returns what it returned with the warnings its requests got (each once).
pub async fn collect<F: Future>(f: F) -> (F::Output, Vec<String>) {
    SINK.scope(RefCell::new(Vec::new()), async {
        let out = f.await;
        let mut warnings = SINK.with(|s| s.take());
        let mut seen = std::collections::HashSet::new();
        warnings.retain(|w| seen.insert(w.clone()));
        (out, warnings)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_field_says_it_was_not_stored() {
        assert_eq!(
            explain("unknown field \"spec.wieght\""),
            "unknown field \"spec.wieght\" (not stored: the cluster's CRD does not have it)"
        );
        assert_eq!(explain("v1alpha3 is deprecated"), "v1alpha3 is deprecated");
    }

    #[test]
    fn reads_the_recorded_header_and_several_in_one() {
        let mut h = http::HeaderMap::new();
        h.append(
            "warning",
            r#"299 - "unknown field \"spec.wieght\"""#.parse().unwrap(),
        );
        h.append(
            "warning",
            r#"299 - "a, b", 299 - "networking.istio.io/v1alpha3 is deprecated""#
                .parse()
                .unwrap(),
        );
        assert_eq!(
            parse(&h),
            [
                "unknown field \"spec.wieght\"",
                "a, b",
                "networking.istio.io/v1alpha3 is deprecated"
            ]
        );
    }
}
