//! Label selectors: a selector matches when every one of its labels is on the object.

use super::meta::Labels;

pub fn matches(selector: &Labels, labels: &Labels) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn subset_matches() {
        assert!(matches(
            &l(&[("app", "a")]),
            &l(&[("app", "a"), ("v", "1")])
        ));
        assert!(!matches(
            &l(&[("app", "a"), ("v", "2")]),
            &l(&[("app", "a")])
        ));
        assert!(!matches(&l(&[("app", "b")]), &l(&[("app", "a")])));
        assert!(matches(&l(&[]), &l(&[("app", "a")])));
    }
}
