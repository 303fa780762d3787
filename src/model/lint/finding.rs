use crate::model::object::{Kind, ObjectKey};
use crate::model::store::Store;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Stable codes: scripts match on them, so a code is never reused for another rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Code {
    #[serde(rename = "MD000")]
    Unparsable,
    #[serde(rename = "MD001")]
    BadAddress,
    #[serde(rename = "MD002")]
    BadLocality,
    #[serde(rename = "MD003")]
    AllWeightsZero,
    #[serde(rename = "MD004")]
    SelectorMatchesNothing,
    #[serde(rename = "MD005")]
    EntryNotSelected,
    #[serde(rename = "MD006")]
    UnknownPortName,
    #[serde(rename = "MD007")]
    DuplicateAddress,
    #[serde(rename = "MD008")]
    GroupTemplateAddressOrLabels,
    #[serde(rename = "MD009")]
    GroupWithoutProbe,
    #[serde(rename = "MD010")]
    BadFailoverRegion,
    #[serde(rename = "MD011")]
    RuleForUnknownHost,
    #[serde(rename = "MD012")]
    StaticWithoutEndpoints,
    #[serde(rename = "MD013")]
    HostInSeveralNamespaces,
    #[serde(rename = "MD014")]
    ExportedToNoProxies,
    #[serde(rename = "MD015")]
    NetworkWithoutGateway,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Unparsable => "MD000",
            Code::BadAddress => "MD001",
            Code::BadLocality => "MD002",
            Code::AllWeightsZero => "MD003",
            Code::SelectorMatchesNothing => "MD004",
            Code::EntryNotSelected => "MD005",
            Code::UnknownPortName => "MD006",
            Code::DuplicateAddress => "MD007",
            Code::GroupTemplateAddressOrLabels => "MD008",
            Code::GroupWithoutProbe => "MD009",
            Code::BadFailoverRegion => "MD010",
            Code::RuleForUnknownHost => "MD011",
            Code::StaticWithoutEndpoints => "MD012",
            Code::HostInSeveralNamespaces => "MD013",
            Code::ExportedToNoProxies => "MD014",
            Code::NetworkWithoutGateway => "MD015",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    pub kind: Option<Kind>,
    pub namespace: String,
    pub name: String,
    /// Path of the offending field, e.g. `spec.endpoints[0].address`.
    pub field: String,
    pub message: String,
    pub file: Option<String>,
    pub line: Option<usize>,
}

impl Finding {
    pub fn new(
        store: &Store,
        code: Code,
        severity: Severity,
        key: &ObjectKey,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Finding {
        let origin = store.get(key).and_then(|e| e.origin.as_ref());
        Finding {
            code,
            severity,
            kind: Some(key.kind),
            namespace: key.namespace.clone(),
            name: key.name.clone(),
            field: field.into(),
            message: message.into(),
            file: origin.map(|o| o.path.display().to_string()),
            line: origin.map(|o| o.line),
        }
    }

    pub fn object(&self) -> Option<ObjectKey> {
        self.kind
            .map(|k| ObjectKey::new(k, self.namespace.clone(), self.name.clone()))
    }

    pub fn location(&self) -> String {
        match (&self.file, self.line) {
            (Some(f), Some(l)) => format!("{f}:{l}"),
            (Some(f), None) => f.clone(),
            _ => String::new(),
        }
    }
}
