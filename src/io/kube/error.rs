//! One readable line for a failed request: the layers of client errors (`ServiceError: client
//! error (Connect): client error (Connect): tcp connect error: …`) say the cause once.

use std::error::Error;

/// Wrappers that add nothing a person can act on.
const GENERIC: &[&str] = &[
    "client error (Connect)",
    "tcp connect error",
    "error trying to connect",
    "client error (SendRequest)",
];

fn tidy(message: &str) -> String {
    // An operating system's error ("Connection refused (os error 111)") reads as the middle of
    // a sentence here.
    match message.find(" (os error ") {
        Some(at) if message.ends_with(')') => {
            let mut chars = message[..at].chars();
            chars
                .next()
                .map(|c| c.to_lowercase().chain(chars).collect())
                .unwrap_or_default()
        }
        _ => message.to_string(),
    }
}

/// The error and its causes, each said once: an outer message that repeats the next one, and
/// the client's generic wrappers, are left out.
pub fn describe(e: &(dyn Error + 'static)) -> String {
    let mut chain: Vec<String> = Vec::new();
    let mut next: Option<&(dyn Error + 'static)> = Some(e);
    while let Some(err) = next {
        chain.push(err.to_string());
        next = err.source();
    }
    let mut kept: Vec<String> = Vec::new();
    for (i, m) in chain.iter().enumerate() {
        let inner = chain.get(i + 1);
        let repeats_inner = inner.is_some_and(|n| !n.is_empty() && m.contains(n.as_str()));
        let generic = GENERIC
            .iter()
            .any(|g| m.trim_start_matches("ServiceError: ") == *g);
        if m.is_empty() || (repeats_inner && i + 1 < chain.len()) || (generic && inner.is_some()) {
            continue;
        }
        let tidied = tidy(m);
        if kept.last() != Some(&tidied) {
            kept.push(tidied);
        }
    }
    if kept.is_empty() {
        return tidy(chain.last().map_or("", String::as_str));
    }
    kept.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);
    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl Error for Layer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref().map(|l| l as &(dyn Error + 'static))
        }
    }

    #[test]
    fn a_refused_connection_says_so_once() {
        let e = Layer(
            "ServiceError: client error (Connect)",
            Some(Box::new(Layer(
                "client error (Connect)",
                Some(Box::new(Layer(
                    "tcp connect error",
                    Some(Box::new(Layer("Connection refused (os error 111)", None))),
                ))),
            ))),
        );
        assert_eq!(describe(&e), "connection refused");
    }

    #[test]
    fn distinct_layers_are_all_kept() {
        let e = Layer(
            "listing workloadentries",
            Some(Box::new(Layer("Forbidden: user viewer may not list", None))),
        );
        assert_eq!(
            describe(&e),
            "listing workloadentries: Forbidden: user viewer may not list"
        );
    }
}
