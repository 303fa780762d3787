//! The order of table cells: `vm-2` before `vm-10`, `9.5` before `12.25`, numbers before text.
//!
//! A cell is read as a sequence of tokens: runs of digits are numbers (a run with exactly one
//! dot, `12.25`, is a decimal; a dotted address `10.0.0.12` stays four numbers), everything else
//! is text. Sequences compare token by token, a number before any text; equal sequences fall back
//! to the bytes, so the comparison is a total order (`sort_by` may panic on one that is not).

use std::cmp::Ordering;

#[derive(Debug, PartialEq, Eq)]
enum Token<'a> {
    /// Integer digits without leading zeros, and the fraction without trailing zeros.
    Number(&'a str, &'a str),
    Text(&'a str),
}

fn cmp_tokens(a: &Token, b: &Token) -> Ordering {
    match (a, b) {
        (Token::Number(ai, af), Token::Number(bi, bf)) => ai
            .len()
            .cmp(&bi.len())
            .then_with(|| ai.cmp(bi))
            .then_with(|| af.cmp(bf)),
        (Token::Number(..), Token::Text(_)) => Ordering::Less,
        (Token::Text(_), Token::Number(..)) => Ordering::Greater,
        (Token::Text(a), Token::Text(b)) => a.cmp(b),
    }
}

fn number<'a>(int: &'a str, frac: &'a str) -> Token<'a> {
    let int = int.trim_start_matches('0');
    Token::Number(int, frac.trim_end_matches('0'))
}

fn tokens(s: &str) -> Vec<Token<'_>> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        if !bytes[i].is_ascii_digit() {
            while i < bytes.len() && !bytes[i].is_ascii_digit() {
                i += 1;
            }
            out.push(Token::Text(&s[start..i]));
            continue;
        }
        // A run of digits and dots between digits: `12`, `12.25`, `10.0.0.12`.
        let mut dots = Vec::new();
        loop {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
                dots.push(i);
                i += 1;
            } else {
                break;
            }
        }
        match dots.as_slice() {
            [] => out.push(number(&s[start..i], "")),
            [dot] => out.push(number(&s[start..*dot], &s[dot + 1..i])),
            _ => {
                let mut from = start;
                for &dot in &dots {
                    out.push(number(&s[from..dot], ""));
                    out.push(Token::Text("."));
                    from = dot + 1;
                }
                out.push(number(&s[from..i], ""));
            }
        }
    }
    out
}

/// A total, natural order of cell texts.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (ta, tb) = (tokens(a), tokens(b));
    for (x, y) in ta.iter().zip(&tb) {
        let o = cmp_tokens(x, y);
        if o != Ordering::Equal {
            return o;
        }
    }
    ta.len().cmp(&tb.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::natural_cmp;
    use proptest::prelude::*;
    use std::cmp::Ordering;

    fn sorted(mut v: Vec<&str>) -> Vec<&str> {
        v.sort_by(|a, b| natural_cmp(a, b));
        v
    }

    #[test]
    fn names_numbers_and_addresses_sort_as_people_read_them() {
        assert_eq!(
            sorted(vec!["vm-10", "vm-2", "vm-1", "vm-02", "vm"]),
            ["vm", "vm-1", "vm-02", "vm-2", "vm-10"]
        );
        assert_eq!(
            sorted(vec!["12.25", "9.5", "12.5", "100", "-", "NaN"]),
            ["9.5", "12.25", "12.5", "100", "-", "NaN"]
        );
        assert_eq!(
            sorted(vec!["10.0.0.12", "10.0.0.2", "9.0.0.1"]),
            ["9.0.0.1", "10.0.0.2", "10.0.0.12"]
        );
        assert_eq!(
            sorted(vec!["3/4", "10/10", "2/10"]),
            ["2/10", "3/4", "10/10"]
        );
    }

    fn cell() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[a-c0-9.\\-]{0,8}|NaN|inf|[0-9]{1,3}\\.[0-9]{1,3}").unwrap()
    }

    proptest! {
        #[test]
        fn it_is_a_total_order(a in cell(), b in cell(), c in cell()) {
            // Antisymmetric and equal only for equal text.
            prop_assert_eq!(natural_cmp(&a, &b), natural_cmp(&b, &a).reverse());
            prop_assert_eq!(natural_cmp(&a, &b) == Ordering::Equal, a == b);
            // Transitive.
            if natural_cmp(&a, &b) != Ordering::Greater && natural_cmp(&b, &c) != Ordering::Greater {
                prop_assert_ne!(natural_cmp(&a, &c), Ordering::Greater);
            }
        }

        #[test]
        fn sorting_never_panics_and_is_ordered(mut v in proptest::collection::vec(cell(), 0..40)) {
            v.sort_by(|a, b| natural_cmp(a, b));
            for w in v.windows(2) {
                prop_assert_ne!(natural_cmp(&w[0], &w[1]), Ordering::Greater);
            }
        }
    }
}
