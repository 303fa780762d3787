//! Value rules shared by the linter, the edit form and `meshdeck set`. The API server accepts
//! almost anything for these fields; istiod does not, so meshdeck checks before anyone writes.

use std::net::IpAddr;

pub const MAX_LOCALITY_SEGMENTS: usize = 3;

pub fn parse_weight(input: &str) -> Result<u32, String> {
    let t = input.trim();
    if t.is_empty() {
        return Err("weight is empty: enter a whole number from 0 to 4294967295".into());
    }
    if t.starts_with('-') {
        return Err(format!(
            "weight {t} is negative: weights are 0 to 4294967295"
        ));
    }
    if t.contains('.') || t.contains('e') || t.contains('E') {
        return Err(format!("weight {t} is not a whole number"));
    }
    t.parse::<u32>().map_err(|_| {
        if t.chars().all(|c| c.is_ascii_digit()) {
            format!("weight {t} is too large: the maximum is 4294967295")
        } else {
            format!("weight {t:?} is not a number")
        }
    })
}

/// A locality is `region`, `region/zone` or `region/zone/subzone`; each segment a label-like
/// word. An empty string clears the locality.
pub fn check_locality(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Ok(());
    }
    let segs: Vec<&str> = s.split('/').collect();
    if segs.len() > MAX_LOCALITY_SEGMENTS {
        return Err(format!(
            "locality {s:?} has {} segments; Istio reads region/zone/subzone and ignores {:?}",
            segs.len(),
            segs[MAX_LOCALITY_SEGMENTS..].join("/")
        ));
    }
    for (i, seg) in segs.iter().enumerate() {
        let what = ["region", "zone", "subzone"][i];
        if seg.is_empty() {
            return Err(format!("locality {s:?}: the {what} is empty"));
        }
        if let Some(c) = seg
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(format!(
                "locality {s:?}: the {what} {seg:?} contains {c:?}; use letters, digits, '-', '_' or '.'"
            ));
        }
    }
    Ok(())
}

/// An endpoint address must be an IP, a DNS name, or `unix:///absolute/path`.
pub fn check_address(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("address is empty".into());
    }
    if let Some(path) = s.strip_prefix("unix://") {
        return if path.starts_with('/') {
            Ok(())
        } else {
            Err(format!(
                "address {s:?}: a unix socket needs an absolute path (unix:///path)"
            ))
        };
    }
    if s.parse::<IpAddr>().is_ok() || is_hostname(s) {
        return Ok(());
    }
    Err(format!(
        "address {s:?} is neither an IP address, a DNS name nor unix:///path; Envoy cannot connect to it"
    ))
}

pub fn is_hostname(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        // A dotted string of digits is a malformed IP, not a name.
        && !s.split('.').all(|l| l.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights() {
        assert_eq!(parse_weight("20"), Ok(20));
        assert_eq!(parse_weight(" 0 "), Ok(0));
        assert_eq!(parse_weight("4294967295"), Ok(u32::MAX));
        assert!(
            parse_weight("4294967296")
                .unwrap_err()
                .contains("too large")
        );
        assert!(parse_weight("-1").unwrap_err().contains("negative"));
        assert!(parse_weight("1.5").unwrap_err().contains("whole"));
        assert!(parse_weight("abc").unwrap_err().contains("not a number"));
        assert!(parse_weight("").is_err());
    }

    #[test]
    fn localities() {
        assert!(check_locality("us-east1/us-east1-b/rack1").is_ok());
        assert!(check_locality("us").is_ok());
        assert!(check_locality("").is_ok());
        assert!(
            check_locality("us/us-east-1/az-1/r11")
                .unwrap_err()
                .contains("4 segments")
        );
        assert!(check_locality("us east/@@!/ /").is_err());
        assert!(
            check_locality("us//z")
                .unwrap_err()
                .contains("zone is empty")
        );
    }

    #[test]
    fn addresses() {
        assert!(check_address("10.0.0.1").is_ok());
        assert!(check_address("::1").is_ok());
        assert!(check_address("vm1.example.com").is_ok());
        assert!(check_address("unix:///var/run/app.sock").is_ok());
        assert!(check_address("unix://relative.sock").is_err());
        assert!(check_address("not an ip!!").is_err());
        assert!(check_address("10.0.0.300").is_err());
        assert!(check_address("").is_err());
    }
}
