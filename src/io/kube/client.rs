//! Building a client the way kubectl reads its config: KUBECONFIG (several files merged),
//! ~/.kube/config, in-cluster; `--kubeconfig` and `--context` override.

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use std::path::PathBuf;

#[derive(Debug, Clone, Default)]
pub struct Target {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
}

/// Whether any cluster configuration is there to use.
pub fn configured(t: &Target) -> bool {
    t.kubeconfig.is_some()
        || std::env::var_os("KUBECONFIG").is_some_and(|v| !v.is_empty())
        || dirs::home_dir().is_some_and(|h| h.join(".kube/config").exists())
        || std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
}

/// The context kubectl would use: `--context`, else the kubeconfig's current-context.
pub fn current_context(t: &Target) -> Option<String> {
    if let Some(c) = &t.context {
        return Some(c.clone());
    }
    let kc = match &t.kubeconfig {
        Some(path) => Kubeconfig::read_from(path).ok()?,
        None => Kubeconfig::read().ok()?,
    };
    kc.current_context.filter(|c| !c.is_empty())
}

pub struct Connected {
    pub client: Client,
    pub context: String,
    /// The API server's URL, for messages.
    pub server: String,
    pub default_namespace: String,
}

pub async fn connect(t: &Target) -> anyhow::Result<Connected> {
    let options = KubeConfigOptions {
        context: t.context.clone(),
        ..Default::default()
    };
    let kubeconfig = match &t.kubeconfig {
        Some(path) => Some(
            Kubeconfig::read_from(path)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?,
        ),
        None => Kubeconfig::read().ok(),
    };
    let (config, context) = match kubeconfig {
        Some(kc) => {
            let ctx = t
                .context
                .clone()
                .or(kc.current_context.clone())
                .unwrap_or_default();
            (Config::from_custom_kubeconfig(kc, &options).await?, ctx)
        }
        None => (Config::incluster()?, "in-cluster".to_string()),
    };
    let default_namespace = config.default_namespace.clone();
    let server = config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_string();
    Ok(Connected {
        server,
        client: kube::client::ClientBuilder::try_from(config)?
            .with_layer(&tower::util::MapResponseLayer::new(super::warnings::record))
            .build(),
        context,
        default_namespace,
    })
}
