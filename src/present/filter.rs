//! What a typed filter keeps, as k9s and less do: a substring by default (smart case: any capital
//! makes it case-sensitive), a regex after a leading `/` (so `//` from a list), fuzzy only after a
//! leading `~`. Best matches first: where the text is found, and whether it is a whole word.

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

pub enum Filter {
    All,
    Substring { needle: String, ignore_case: bool },
    Fuzzy(Pattern, Matcher, Vec<char>),
    Regex(regex::Regex),
    BadRegex,
}

fn smart_case(text: &str) -> bool {
    !text.chars().any(char::is_uppercase)
}

fn word_edge(c: Option<char>) -> bool {
    c.is_none_or(|c| !c.is_alphanumeric())
}

impl Filter {
    pub fn new(text: &str) -> Filter {
        if let Some(re) = text.strip_prefix('/') {
            if re.is_empty() {
                return Filter::All;
            }
            regex::RegexBuilder::new(re)
                .case_insensitive(smart_case(re))
                .build()
                .map_or(Filter::BadRegex, Filter::Regex)
        } else if let Some(fuzzy) = text.strip_prefix('~') {
            if fuzzy.is_empty() {
                return Filter::All;
            }
            let pattern = Pattern::parse(fuzzy, CaseMatching::Smart, Normalization::Smart);
            Filter::Fuzzy(pattern, Matcher::new(Config::DEFAULT), Vec::new())
        } else if text.is_empty() {
            Filter::All
        } else {
            let ignore_case = smart_case(text);
            let needle = if ignore_case {
                text.to_lowercase()
            } else {
                text.to_string()
            };
            Filter::Substring {
                needle,
                ignore_case,
            }
        }
    }

    pub fn matches(&mut self, haystack: &str) -> bool {
        self.score(haystack).is_some()
    }

    /// How well `haystack` matches: higher is better; regex and "all" score 0.
    pub fn score(&mut self, haystack: &str) -> Option<u32> {
        match self {
            Filter::All => Some(0),
            Filter::BadRegex => None,
            Filter::Regex(re) => re.is_match(haystack).then_some(0),
            Filter::Fuzzy(p, m, buf) => p.score(Utf32Str::new(haystack, buf), m),
            Filter::Substring {
                needle,
                ignore_case,
            } => {
                let lowered;
                let (hay, at) = if !*ignore_case {
                    (haystack, haystack.find(needle.as_str())?)
                } else if haystack.is_ascii() {
                    // Names and addresses are ASCII: compare in place, no copy per row.
                    let n = needle.len();
                    let at = haystack
                        .as_bytes()
                        .windows(n)
                        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))?;
                    (haystack, at)
                } else {
                    lowered = haystack.to_lowercase();
                    let at = lowered.find(needle.as_str())?;
                    (lowered.as_str(), at)
                };
                let before = word_edge(hay[..at].chars().next_back());
                let after = word_edge(hay[at + needle.len()..].chars().next());
                let edges = u32::from(before) + 2 * u32::from(after);
                Some(edges * 100_000 + 100_000u32.saturating_sub(at as u32 + 1))
            }
        }
    }

    /// Whether the order of matches carries meaning (best first).
    pub fn ranks(&self) -> bool {
        matches!(self, Filter::Fuzzy(..) | Filter::Substring { .. })
    }

    /// Typing one more character of `old` can only remove rows (not so for a regex).
    pub fn narrows(old: &str, new: &str) -> bool {
        !old.is_empty() && !old.starts_with('/') && new.starts_with(old)
    }
}

#[cfg(test)]
mod tests {
    use super::Filter;

    fn keeps(filter: &str, names: &[&str]) -> Vec<String> {
        let mut f = Filter::new(filter);
        names
            .iter()
            .filter(|n| f.matches(n))
            .map(|n| n.to_string())
            .collect()
    }

    #[test]
    fn a_plain_filter_is_a_smart_case_substring() {
        let names: Vec<String> = (0..10_000).map(|i| format!("ns/vm-{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        assert_eq!(keeps("vm-12", &names).len(), 111);
        assert_eq!(keeps("VM-12", &names).len(), 0, "a capital makes it exact");
        assert_eq!(keeps("vm-12", &["ns/VM-12"]), ["ns/VM-12"]);
    }

    #[test]
    fn regex_after_a_slash_and_fuzzy_after_a_tilde() {
        assert_eq!(keeps("/^ns/vm-1$", &["ns/vm-1", "ns/vm-12"]), ["ns/vm-1"]);
        assert!(matches!(Filter::new("/("), Filter::BadRegex));
        assert_eq!(keeps("~vm12", &["ns/vm-12", "ns/db-1"]), ["ns/vm-12"]);
        assert_eq!(keeps("vm12", &["ns/vm-12"]), Vec::<String>::new());
    }

    #[test]
    fn whole_words_and_early_matches_rank_first() {
        let mut f = Filter::new("vm-1");
        let exact = f.score("ns/vm-1 10.0.0.1").unwrap();
        let longer = f.score("ns/vm-12 10.0.0.1").unwrap();
        let later = f.score("ns/xvm-1x").unwrap();
        assert!(exact > longer && longer > later, "{exact} {longer} {later}");
    }

    #[test]
    fn narrowing_holds_for_substrings_and_fuzzy_not_regex() {
        assert!(Filter::narrows("vm", "vm-1"));
        assert!(Filter::narrows("~vm", "~vm1"));
        assert!(!Filter::narrows("/vm", "/vm|db"));
        assert!(!Filter::narrows("", "vm"));
    }
}
