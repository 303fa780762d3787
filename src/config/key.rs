//! Keys as written in keymap files (`ctrl-c`, `G`, `g g`) and as crossterm reports them.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub code: KeyCodeRepr,
    pub ctrl: bool,
    pub alt: bool,
}

/// A comparable stand-in for crossterm's KeyCode (which is not Ord).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCodeRepr {
    Char(char),
    F(u8),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
}

impl Key {
    pub fn from_event(ev: &KeyEvent) -> Option<Key> {
        let code = match ev.code {
            KeyCode::Char(c) => KeyCodeRepr::Char(c),
            KeyCode::F(n) => KeyCodeRepr::F(n),
            KeyCode::Enter => KeyCodeRepr::Enter,
            KeyCode::Esc => KeyCodeRepr::Esc,
            KeyCode::Tab => KeyCodeRepr::Tab,
            KeyCode::BackTab => KeyCodeRepr::BackTab,
            KeyCode::Backspace => KeyCodeRepr::Backspace,
            KeyCode::Delete => KeyCodeRepr::Delete,
            KeyCode::Up => KeyCodeRepr::Up,
            KeyCode::Down => KeyCodeRepr::Down,
            KeyCode::Left => KeyCodeRepr::Left,
            KeyCode::Right => KeyCodeRepr::Right,
            KeyCode::PageUp => KeyCodeRepr::PageUp,
            KeyCode::PageDown => KeyCodeRepr::PageDown,
            KeyCode::Home => KeyCodeRepr::Home,
            KeyCode::End => KeyCodeRepr::End,
            _ => return None,
        };
        Some(Key {
            code,
            ctrl: ev.modifiers.contains(KeyModifiers::CONTROL),
            alt: ev.modifiers.contains(KeyModifiers::ALT),
        })
    }

    pub fn parse(s: &str) -> Result<Key, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = s;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "enter" => KeyCodeRepr::Enter,
            "esc" => KeyCodeRepr::Esc,
            "tab" => KeyCodeRepr::Tab,
            "backtab" => KeyCodeRepr::BackTab,
            "backspace" => KeyCodeRepr::Backspace,
            "delete" => KeyCodeRepr::Delete,
            "space" => KeyCodeRepr::Char(' '),
            "up" => KeyCodeRepr::Up,
            "down" => KeyCodeRepr::Down,
            "left" => KeyCodeRepr::Left,
            "right" => KeyCodeRepr::Right,
            "pgup" => KeyCodeRepr::PageUp,
            "pgdown" => KeyCodeRepr::PageDown,
            "home" => KeyCodeRepr::Home,
            "end" => KeyCodeRepr::End,
            f if f.len() > 1 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                KeyCodeRepr::F(f[1..].parse().unwrap_or(1))
            }
            c if c.chars().count() == 1 => KeyCodeRepr::Char(c.chars().next().unwrap_or(' ')),
            other => return Err(format!("unknown key {other:?} in {s:?}")),
        };
        Ok(Key { code, ctrl, alt })
    }

    /// A sequence written with spaces: `g g`.
    pub fn parse_sequence(s: &str) -> Result<Vec<Key>, String> {
        let keys: Result<Vec<Key>, String> = s.split_whitespace().map(Key::parse).collect();
        let keys = keys?;
        if keys.is_empty() {
            return Err("empty key".into());
        }
        Ok(keys)
    }

    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCodeRepr::Char(' ') => "space".to_string(),
            KeyCodeRepr::Char(c) => c.to_string(),
            KeyCodeRepr::F(n) => format!("f{n}"),
            KeyCodeRepr::Enter => "enter".into(),
            KeyCodeRepr::Esc => "esc".into(),
            KeyCodeRepr::Tab => "tab".into(),
            KeyCodeRepr::BackTab => "backtab".into(),
            KeyCodeRepr::Backspace => "backspace".into(),
            KeyCodeRepr::Delete => "delete".into(),
            KeyCodeRepr::Up => "↑".into(),
            KeyCodeRepr::Down => "↓".into(),
            KeyCodeRepr::Left => "←".into(),
            KeyCodeRepr::Right => "→".into(),
            KeyCodeRepr::PageUp => "pgup".into(),
            KeyCodeRepr::PageDown => "pgdown".into(),
            KeyCodeRepr::Home => "home".into(),
            KeyCodeRepr::End => "end".into(),
        };
        let mut s = String::new();
        if self.ctrl {
            s.push_str("ctrl-");
        }
        if self.alt {
            s.push_str("alt-");
        }
        s + &base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_files_use() {
        assert_eq!(
            Key::parse("ctrl-c").unwrap(),
            Key {
                code: KeyCodeRepr::Char('c'),
                ctrl: true,
                alt: false
            }
        );
        assert_eq!(Key::parse("G").unwrap().code, KeyCodeRepr::Char('G'));
        assert_eq!(Key::parse("f5").unwrap().code, KeyCodeRepr::F(5));
        assert_eq!(Key::parse_sequence("g g").unwrap().len(), 2);
        assert!(Key::parse("hyper-x").is_err());
    }

    #[test]
    fn shifted_letters_match_their_uppercase_binding() {
        let ev = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(Key::from_event(&ev), Key::parse("G").ok());
    }
}
