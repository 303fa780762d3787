//! The settings file applied to the command line: where a flag is not given, the file's value
//! for this console's kube context (or its top level) is used.

use super::args::ConsoleArgs;
use crate::config::file;

/// The kube context a console on `args` would use, when it is a cluster console.
fn context_of(args: &ConsoleArgs) -> Option<String> {
    let target = crate::io::kube::client::Target {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context(),
    };
    if !args.manifests.is_empty() || !crate::io::kube::client::configured(&target) {
        return None;
    }
    args.context()
        .or_else(|| crate::io::kube::client::current_context(&target))
}

/// Reads `$XDG_CONFIG_HOME/meshdeck/config.toml` and fills `args` from it.
pub fn apply(args: &mut ConsoleArgs) {
    let Some(path) = crate::config::config_dir().map(|d| d.join("config.toml")) else {
        return;
    };
    let (settings, error) = file::load(&path, context_of(args).as_deref());
    apply_settings(args, settings, error);
}

pub fn apply_settings(
    args: &mut ConsoleArgs,
    settings: file::Settings,
    error: Option<crate::config::ConfigError>,
) {
    if args.theme.is_none() {
        args.theme = settings.theme.clone();
    }
    if args.keymap.is_none() {
        args.keymap = settings.keymap.clone();
    }
    if args.scope.namespace.is_none() && !args.scope.all_namespaces {
        args.scope.namespace = settings.namespace.clone();
    }
    // A flag can only make a console more careful than the file, never less.
    args.readonly |= settings.readonly;
    args.ssh |= settings.ssh.enabled;
    args.settings = settings;
    args.settings.ssh.enabled = args.ssh;
    args.settings_error = error;
}

/// How the ssh client runs, from the settings.
pub fn ssh_pool_settings(s: &crate::config::ssh::SshConfig) -> crate::io::ssh::Settings {
    crate::io::ssh::Settings {
        config_file: s.config.clone(),
        connect_timeout: s.connect_timeout,
        persist: s.persist,
        max_connections: s.max_connections,
        options: s.options.clone(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_and_readonly_only_ever_tightens() {
        let text =
            "theme = \"light\"\nnamespace = \"payments\"\nreadonly = true\n[ssh]\nenabled = true\n";
        let settings = file::parse(text, "c.toml", None).unwrap();
        let mut args = ConsoleArgs {
            theme: Some("mono".into()),
            ..Default::default()
        };
        apply_settings(&mut args, settings.clone(), None);
        assert_eq!(args.theme.as_deref(), Some("mono"));
        assert_eq!(args.scope.namespace.as_deref(), Some("payments"));
        assert!(args.readonly && args.ssh && args.settings.ssh.enabled);
        let mut all = ConsoleArgs::default();
        all.scope.all_namespaces = true;
        apply_settings(&mut all, settings, None);
        assert_eq!(all.scope.namespace, None, "-A is not narrowed by the file");
    }
}
