//! Themes: semantic style keys with parent fallback, colours from a palette, `inherits`.

use super::{ConfigError, line_of};
use ratatui::style::{Color, Modifier, Style};
use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

pub const BUILTIN: [(&str, &str); 5] = [
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../themes/mono.toml")),
    ("prod-red", include_str!("../../themes/prod-red.toml")),
];

#[derive(Debug, Clone, Default)]
pub struct Theme {
    pub name: String,
    styles: BTreeMap<String, Style>,
}

#[derive(serde::Deserialize, Default, Clone)]
struct StyleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    italic: bool,
    #[serde(default)]
    dim: bool,
    #[serde(default)]
    reversed: bool,
    #[serde(default)]
    underlined: bool,
}

#[derive(serde::Deserialize, Default)]
struct ThemeFile {
    inherits: Option<String>,
    #[serde(default)]
    palette: BTreeMap<String, String>,
    #[serde(default)]
    styles: toml::Table,
}

/// Flattens `row.selected = {...}` written as nested tables into dotted keys.
fn flatten(
    prefix: &str,
    t: &toml::Table,
    out: &mut BTreeMap<String, StyleSpec>,
) -> Result<(), String> {
    for (k, v) in t {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        let toml::Value::Table(inner) = v else {
            return Err(format!(
                "style {key}: expected a table like {{ fg = \"red\" }}"
            ));
        };
        let is_spec = inner.keys().all(|k| {
            matches!(
                k.as_str(),
                "fg" | "bg" | "bold" | "italic" | "dim" | "reversed" | "underlined"
            )
        });
        if is_spec {
            let spec: StyleSpec = inner
                .clone()
                .try_into()
                .map_err(|e: toml::de::Error| format!("style {key}: {}", e.message()))?;
            out.insert(key.clone(), spec);
        }
        let nested: toml::Table = inner
            .iter()
            .filter(|(_, v)| v.is_table())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !nested.is_empty() {
            flatten(&key, &nested, out)?;
        }
    }
    Ok(())
}

fn color(name: &str, palette: &BTreeMap<String, String>) -> Result<Color, String> {
    let resolved = palette.get(name).map(String::as_str).unwrap_or(name);
    Color::from_str(resolved).map_err(|_| format!("unknown colour {name:?}"))
}

impl Theme {
    pub fn style(&self, key: &str) -> Style {
        let mut k = key;
        loop {
            if let Some(s) = self.styles.get(k) {
                return *s;
            }
            match k.rsplit_once('.') {
                Some((parent, _)) => k = parent,
                None => return self.styles.get("default").copied().unwrap_or_default(),
            }
        }
    }

    fn parse(name: &str, text: &str, file: &str, depth: usize) -> Result<Theme, ConfigError> {
        let err = |line: usize, message: String| ConfigError {
            file: file.into(),
            line,
            message,
        };
        let tf: ThemeFile = toml::from_str(text).map_err(|e| {
            err(
                e.span().map_or(1, |s| line_of(text, s.start)),
                e.message().to_string(),
            )
        })?;
        let mut base = match tf.inherits.as_deref() {
            Some(parent) if depth < 4 => {
                let (_, ptext) = BUILTIN
                    .iter()
                    .find(|(n, _)| *n == parent)
                    .ok_or_else(|| err(1, format!("inherits unknown theme {parent:?}")))?;
                Theme::parse(parent, ptext, &format!("themes/{parent}.toml"), depth + 1)?
            }
            Some(_) => return Err(err(1, "themes inherit too deeply".into())),
            None => Theme::default(),
        };
        // A child palette recolours the parent's styles: re-read the parent's specs with it.
        let mut specs = BTreeMap::new();
        let mut palette = BTreeMap::new();
        if let Some(parent) = tf.inherits.as_deref()
            && let Some((_, ptext)) = BUILTIN.iter().find(|(n, _)| *n == parent)
        {
            let pf: ThemeFile = toml::from_str(ptext).unwrap_or_default();
            palette = pf.palette;
            flatten("", &pf.styles, &mut specs).map_err(|m| err(1, m))?;
        }
        palette.extend(tf.palette);
        flatten("", &tf.styles, &mut specs).map_err(|m| err(1, m))?;
        for (key, spec) in specs {
            let line = super::line_of_key(text, &key);
            let mut style = Style::default();
            if let Some(fg) = &spec.fg {
                style =
                    style.fg(color(fg, &palette).map_err(|m| err(line, format!("{key}: {m}")))?);
            }
            if let Some(bg) = &spec.bg {
                style =
                    style.bg(color(bg, &palette).map_err(|m| err(line, format!("{key}: {m}")))?);
            }
            for (on, m) in [
                (spec.bold, Modifier::BOLD),
                (spec.italic, Modifier::ITALIC),
                (spec.dim, Modifier::DIM),
                (spec.reversed, Modifier::REVERSED),
                (spec.underlined, Modifier::UNDERLINED),
            ] {
                if on {
                    style = style.add_modifier(m);
                }
            }
            base.styles.insert(key, style);
        }
        base.name = name.to_string();
        Ok(base)
    }

    pub fn builtin(name: &str) -> Option<Theme> {
        BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(n, t)| Theme::parse(n, t, &format!("themes/{n}.toml"), 0).ok())
    }

    /// The named built-in or file theme (mono when NO_COLOR is set and nothing was asked for);
    /// a user `theme.toml` in the config dir overrides it. Errors fall back to the default.
    pub fn load(
        choice: Option<&str>,
        user_file: Option<&Path>,
        no_color: bool,
    ) -> (Theme, Vec<ConfigError>) {
        let mut errors = Vec::new();
        let fallback = if no_color { "mono" } else { "dark" };
        let default = Theme::builtin(fallback).unwrap_or_default();
        let mut theme = match choice {
            None => default.clone(),
            Some(c) => match Theme::builtin(c) {
                Some(t) => t,
                None => match std::fs::read_to_string(c) {
                    Ok(text) => Theme::parse(c, &text, c, 0).unwrap_or_else(|e| {
                        errors.push(e);
                        default.clone()
                    }),
                    Err(e) => {
                        errors.push(ConfigError { file: c.into(), line: 0, message: format!("no such theme ({e}); built-in: dark, light, high-contrast, mono, prod-red") });
                        default.clone()
                    }
                },
            },
        };
        if let Some(p) = user_file
            && let Some(text) = super::read_user_file(p)
        {
            let file = p.display().to_string();
            match Theme::parse(&theme.name.clone(), &text, &file, 0) {
                Ok(user) => theme.styles.extend(user.styles),
                Err(e) => errors.push(e),
            }
        }
        (theme, errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_theme_parses() {
        for (name, text) in BUILTIN {
            let t = Theme::parse(name, text, name, 0);
            assert!(t.is_ok(), "{name}: {:?}", t.err());
        }
    }

    #[test]
    fn keys_fall_back_to_their_parent() {
        let t = Theme::builtin("dark").unwrap();
        assert_eq!(t.style("status.error.sync"), t.style("status.error"));
        assert_ne!(t.style("status.error"), t.style("status"));
        assert_eq!(t.style("nothing.at.all"), t.style("default"));
    }

    #[test]
    fn inheriting_themes_override_only_what_they_set() {
        let dark = Theme::builtin("dark").unwrap();
        let prod = Theme::builtin("prod-red").unwrap();
        assert_eq!(prod.style("border").fg, Some(Color::Red));
        assert_eq!(prod.style("health.healthy"), dark.style("health.healthy"));
    }

    #[test]
    fn mono_has_no_colours() {
        let t = Theme::builtin("mono").unwrap();
        for key in ["title", "row.selected", "status.error", "health.unhealthy"] {
            assert_eq!(t.style(key).fg, None, "{key}");
            assert_eq!(t.style(key).bg, None, "{key}");
        }
    }

    #[test]
    fn a_broken_user_theme_is_reported_and_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("theme.toml");
        std::fs::write(&p, "[styles]\ntitle = { fg = \"notacolour\" }\n").unwrap();
        let (t, errors) = Theme::load(None, Some(&p), false);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 2);
        assert_eq!(
            t.style("title"),
            Theme::builtin("dark").unwrap().style("title")
        );
    }
}
