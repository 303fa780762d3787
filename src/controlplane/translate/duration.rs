//! Istio's duration strings (`10s`, `1m30s`, `500ms`) as protobuf Durations.

use envoy_types::pb::google::protobuf::Duration;

pub fn parse(s: &str) -> Option<Duration> {
    let mut total_ms: u64 = 0;
    let mut num = String::new();
    let mut chars = s.trim().chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let unit = match (c, chars.peek()) {
            ('m', Some('s')) => {
                chars.next();
                1
            }
            ('h', _) => 3_600_000,
            ('m', _) => 60_000,
            ('s', _) => 1_000,
            _ => return None,
        };
        let n: f64 = num.parse().ok()?;
        total_ms += (n * unit as f64) as u64;
        num.clear();
    }
    if !num.is_empty() {
        return None;
    }
    Some(millis(total_ms))
}

pub fn millis(ms: u64) -> Duration {
    Duration {
        seconds: (ms / 1000) as i64,
        nanos: ((ms % 1000) * 1_000_000) as i32,
    }
}

pub fn seconds(s: i64) -> Duration {
    Duration {
        seconds: s,
        nanos: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn istio_durations() {
        assert_eq!(parse("10s"), Some(seconds(10)));
        assert_eq!(parse("1m30s"), Some(seconds(90)));
        assert_eq!(parse("500ms"), Some(millis(500)));
        assert_eq!(parse("1.5s"), Some(millis(1500)));
        assert_eq!(parse("10"), None);
        assert_eq!(parse("abc"), None);
    }
}
