//! Keymaps: action name → keys, from the embedded defaults with user files merged over them.

use super::key::Key;
use super::{ConfigError, line_of, line_of_key};
use crate::action::{Action, Layer};
use std::collections::BTreeMap;
use std::path::Path;

pub const DEFAULT: &str = include_str!("../../keymaps/default.toml");
pub const BUILTIN: [(&str, &str); 2] = [
    ("default", DEFAULT),
    ("vim", include_str!("../../keymaps/vim.toml")),
];

#[derive(Debug, Clone, Default)]
pub struct Keymap {
    bindings: BTreeMap<(Layer, Vec<Key>), Action>,
    /// Keys per action in the order the files list them, for help and hints.
    shown: BTreeMap<Action, Vec<String>>,
}

pub enum Lookup {
    Action(Action),
    /// The keys so far start a longer sequence: wait for the next key.
    Prefix,
    None,
}

/// The line of `action` in a keymap file: `table.name = …`, or `name = …` under its layer's
/// `[table]`, or at the top level for the normal layer (1 when not found).
fn line_of_action(text: &str, action: Action) -> usize {
    let is_key = |line: &str, key: &str| super::defines(line, key);
    let lines: Vec<&str> = text.lines().collect();
    if let Some(i) = lines.iter().position(|l| is_key(l, action.name())) {
        return i + 1;
    }
    let header = action.layer().table().map(|t| format!("[{t}]"));
    let start = match &header {
        Some(h) => match lines.iter().position(|l| l.trim() == h) {
            Some(i) => i + 1,
            None => return 1,
        },
        None => 0,
    };
    lines[start..]
        .iter()
        .take_while(|l| !l.trim_start().starts_with('['))
        .position(|l| is_key(l, action.key_name()))
        .map_or(1, |i| start + i + 1)
}

/// Flattens `[form] submit = …` (and `form.submit = …`) into `form.submit`.
fn flatten(table: toml::Table) -> Vec<(String, toml::Value)> {
    let mut out = Vec::new();
    for (name, value) in table {
        match value {
            toml::Value::Table(inner) => {
                for (k, v) in inner {
                    out.push((format!("{name}.{k}"), v));
                }
            }
            other => out.push((name, other)),
        }
    }
    out
}

impl Keymap {
    /// The action `keys` are bound to in `layer`.
    pub fn lookup_in(&self, layer: Layer, keys: &[Key]) -> Lookup {
        let wanted = (layer, keys.to_vec());
        if let Some(a) = self.bindings.get(&wanted) {
            return Lookup::Action(*a);
        }
        let prefix = self
            .bindings
            .range(wanted..)
            .next()
            .is_some_and(|((l, k), _)| *l == layer && k.starts_with(keys));
        if prefix { Lookup::Prefix } else { Lookup::None }
    }

    /// In the normal layer (lists and screens).
    pub fn lookup(&self, keys: &[Key]) -> Lookup {
        self.lookup_in(Layer::Normal, keys)
    }

    /// The action one key does in `layer`, if any (no sequences outside the normal layer).
    pub fn action_in(&self, layer: Layer, key: Key) -> Option<Action> {
        self.bindings.get(&(layer, vec![key])).copied()
    }

    /// Keys bound to `action`, as the help screen shows them.
    pub fn keys_for(&self, action: Action) -> Vec<String> {
        self.shown.get(&action).cloned().unwrap_or_default()
    }

    /// Parses one keymap file into action → key strings.
    fn parse_table(
        text: &str,
        file: &str,
    ) -> Result<BTreeMap<Action, Vec<String>>, Vec<ConfigError>> {
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            vec![ConfigError {
                file: file.into(),
                line: e.span().map_or(1, |s| line_of(text, s.start)),
                message: e.message().to_string(),
            }]
        })?;
        let mut out = BTreeMap::new();
        let mut errors = Vec::new();
        for (name, value) in flatten(table) {
            let Some(action) = Action::from_name(&name) else {
                let key = name.rsplit('.').next().unwrap_or(&name);
                errors.push(ConfigError {
                    file: file.into(),
                    line: line_of_key(text, key),
                    message: format!(
                        "unknown action {name:?}; see the help screen (?) for the names"
                    ),
                });
                continue;
            };
            let err = |message: String| ConfigError {
                file: file.into(),
                line: line_of_action(text, action),
                message,
            };
            let keys: Option<Vec<String>> = match value {
                toml::Value::String(s) => Some(vec![s]),
                toml::Value::Array(a) => a
                    .into_iter()
                    .map(|v| v.as_str().map(String::from))
                    .collect(),
                _ => None,
            };
            match keys {
                Some(k) => {
                    out.insert(action, k);
                }
                None => errors.push(err(format!("{name}: expected a key or a list of keys"))),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }

    fn build(
        table: &BTreeMap<Action, Vec<String>>,
        sources: &BTreeMap<Action, (String, String)>,
    ) -> Result<Keymap, Vec<ConfigError>> {
        let mut map = Keymap::default();
        let mut errors = Vec::new();
        for (action, keys) in table {
            let (file, text) = sources.get(action).cloned().unwrap_or_default();
            for k in keys.iter().filter(|k| k.as_str() != "none") {
                let err = |message: String| ConfigError {
                    file: file.clone(),
                    line: line_of_action(&text, *action),
                    message,
                };
                match Key::parse_sequence(k) {
                    Ok(seq) if seq.len() > 1 && action.layer() != Layer::Normal => {
                        errors.push(err(format!(
                            "{}: key sequences work only at the top level (lists and screens)",
                            action.name()
                        )));
                    }
                    Ok(seq) => {
                        let label = seq.iter().map(Key::label).collect::<Vec<_>>().join(" ");
                        map.shown.entry(*action).or_default().push(label);
                        if let Some(other) = map.bindings.insert((action.layer(), seq), *action)
                            && other != *action
                        {
                            errors.push(err(format!(
                                "key {k:?} is bound to both {} and {} in the same layer",
                                other.name(),
                                action.name()
                            )));
                        }
                    }
                    Err(e) => errors.push(err(e)),
                }
            }
        }
        if errors.is_empty() {
            Ok(map)
        } else {
            Err(errors)
        }
    }

    /// The embedded default, then the named built-in or file, then the user's keymap.toml.
    /// Any broken layer is skipped and reported; the defaults always load.
    pub fn load(choice: Option<&str>, user_file: Option<&Path>) -> (Keymap, Vec<ConfigError>) {
        let mut errors = Vec::new();
        let mut table = Self::parse_table(DEFAULT, "keymaps/default.toml").unwrap_or_default();
        let mut sources: BTreeMap<Action, (String, String)> = table
            .keys()
            .map(|a| {
                (
                    *a,
                    ("keymaps/default.toml".to_string(), DEFAULT.to_string()),
                )
            })
            .collect();
        let mut layers: Vec<(String, String)> = Vec::new();
        if let Some(c) = choice {
            match BUILTIN.iter().find(|(n, _)| *n == c) {
                Some((n, t)) => layers.push((format!("keymaps/{n}.toml"), t.to_string())),
                None => match std::fs::read_to_string(c) {
                    Ok(t) => layers.push((c.to_string(), t)),
                    Err(e) => errors.push(ConfigError {
                        file: c.into(),
                        line: 0,
                        message: format!("cannot read keymap: {e}"),
                    }),
                },
            }
        }
        if let Some(p) = user_file
            && let Some(t) = super::read_user_file(p)
        {
            layers.push((p.display().to_string(), t));
        }
        for (file, text) in layers {
            match Self::parse_table(&text, &file) {
                Ok(layer) => {
                    let mut merged = table.clone();
                    let mut merged_sources = sources.clone();
                    for (a, k) in layer {
                        merged.insert(a, k);
                        merged_sources.insert(a, (file.clone(), text.clone()));
                    }
                    match Self::build(&merged, &merged_sources) {
                        Ok(_) => {
                            table = merged;
                            sources = merged_sources;
                        }
                        Err(e) => errors.extend(e),
                    }
                }
                Err(e) => errors.extend(e),
            }
        }
        let map = Self::build(&table, &sources).unwrap_or_else(|e| {
            errors.extend(e);
            Keymap::default()
        });
        (map, errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_keymap_loads_cleanly_and_binds_every_action() {
        for (name, _) in BUILTIN {
            let (map, errors) = Keymap::load(Some(name), None);
            assert!(errors.is_empty(), "{name}: {errors:?}");
            for a in Action::ALL {
                assert!(
                    !map.keys_for(a).is_empty(),
                    "{name}: {} has no key",
                    a.name()
                );
            }
        }
    }

    #[test]
    fn a_key_bound_twice_is_rejected_with_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("keymap.toml");
        std::fs::write(&p, "# mine\nhelp = [\"?\"]\nedit = [\"q\"]\n").unwrap();
        let (map, errors) = Keymap::load(None, Some(&p));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, 3);
        assert!(errors[0].message.contains("bound to both"));
        // Fell back to the defaults: q still quits, e still edits.
        assert!(matches!(
            map.lookup(&[Key::parse("q").unwrap()]),
            Lookup::Action(Action::Quit)
        ));
        assert!(matches!(
            map.lookup(&[Key::parse("e").unwrap()]),
            Lookup::Action(Action::Edit)
        ));
    }

    #[test]
    fn user_file_overrides_and_unbinds() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("keymap.toml");
        std::fs::write(&p, "edit = [\"E\"]\nyaml = \"none\"\n").unwrap();
        let (map, errors) = Keymap::load(None, Some(&p));
        assert!(errors.is_empty(), "{errors:?}");
        assert!(matches!(
            map.lookup(&[Key::parse("E").unwrap()]),
            Lookup::Action(Action::Edit)
        ));
        assert!(matches!(
            map.lookup(&[Key::parse("e").unwrap()]),
            Lookup::None
        ));
        assert!(map.keys_for(Action::Yaml).is_empty());
    }

    #[test]
    fn broken_toml_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("keymap.toml");
        std::fs::write(&p, "help = [\"?\"]\nedit = [\"e\"\n").unwrap();
        let (_, errors) = Keymap::load(None, Some(&p));
        assert_eq!(errors.len(), 1);
        assert!(errors[0].line >= 2, "{errors:?}");
        assert!(errors[0].file.ends_with("keymap.toml"));
    }

    #[test]
    fn sequences_wait_for_the_next_key() {
        let (map, _) = Keymap::load(None, None);
        let g = Key::parse("g").unwrap();
        assert!(matches!(map.lookup(&[g]), Lookup::Prefix));
        assert!(matches!(map.lookup(&[g, g]), Lookup::Action(Action::Top)));
    }
}
