//! The API server's `Warning: 299` headers (a pruned unknown field, a deprecated version), which
//! kube's typed calls drop. A layer on the client hands each response's warnings to the task
//! that made the request, if that task asked for them with `collect`.

use std::cell::RefCell;
use std::future::Future;

tokio::task_local! {
    static SINK: RefCell<Vec<String>>;
}

/// The messages of every `299` warning a response carries.
pub fn parse(headers: &http::HeaderMap) -> Vec<String> {
    let mut out = Vec::new();
    for value in headers.get_all("warning") {
        let Ok(text) = value.to_str() else { continue };
        let mut rest = text;
        // `299 - "message"`, possibly several in one header, separated by commas.
        while let Some(start) = rest.find("299 ") {
            let Some(open) = rest[start..].find('"') else {
                break;
            };
            let body = &rest[start + open + 1..];
            let mut message = String::new();
            let mut chars = body.char_indices();
            let mut end = body.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            message.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    _ => message.push(c),
                }
            }
            out.push(message);
            rest = &body[end..];
        }
    }
    out
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
