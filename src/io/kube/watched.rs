//! What the watcher decodes for an Istio kind: the object's JSON text, kept as it came, and the
//! few metadata fields the watcher itself needs. The model object is read from the text
//! afterwards, straight into its type (`Object::from_json`), in the task that converts events;
//! so a page costs one pass instead of a JSON tree and a second pass, and an object the model
//! cannot read is skipped with a warning instead of failing its whole page.

use crate::model::object::{Kind, Object, ObjectError, ObjectKey};
use crate::model::store::Entry;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::ApiResource;
use kube::core::DynamicResourceScope;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use std::borrow::Cow;

#[derive(Clone, Debug)]
pub struct Watched {
    text: Box<RawValue>,
    meta: ObjectMeta,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Head {
    metadata: HeadMeta,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct HeadMeta {
    name: Option<String>,
    namespace: Option<String>,
    resource_version: Option<String>,
}

impl<'de> Deserialize<'de> for Watched {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Box::<RawValue>::deserialize(d)?;
        let head: Head = serde_json::from_str(text.get()).map_err(serde::de::Error::custom)?;
        let HeadMeta {
            name,
            namespace,
            resource_version,
        } = head.metadata;
        Ok(Watched {
            text,
            meta: ObjectMeta {
                name,
                namespace,
                resource_version,
                ..ObjectMeta::default()
            },
        })
    }
}

impl kube::Resource for Watched {
    type DynamicType = ApiResource;
    type Scope = DynamicResourceScope;

    fn kind(dt: &ApiResource) -> Cow<'_, str> {
        dt.kind.as_str().into()
    }
    fn group(dt: &ApiResource) -> Cow<'_, str> {
        dt.group.as_str().into()
    }
    fn version(dt: &ApiResource) -> Cow<'_, str> {
        dt.version.as_str().into()
    }
    fn api_version(dt: &ApiResource) -> Cow<'_, str> {
        dt.api_version.as_str().into()
    }
    fn plural(dt: &ApiResource) -> Cow<'_, str> {
        dt.plural.as_str().into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.meta
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.meta
    }
}

impl Watched {
    pub fn key(&self, kind: Kind) -> Option<ObjectKey> {
        let name = self.meta.name.clone()?;
        Some(ObjectKey::new(
            kind,
            self.meta.namespace.clone().unwrap_or_default(),
            name,
        ))
    }

    pub fn read(&self, kind: Kind, ar: &ApiResource) -> Result<Object, ObjectError> {
        Object::from_json(self.text.get(), kind, &ar.api_version, "default")
    }

    /// The store entry, or None (with a warning naming the object and the field) when the
    /// model cannot read it.
    pub fn into_entry(self, kind: Kind, ar: &ApiResource) -> Option<Entry> {
        match self.read(kind, ar) {
            Ok(object) => Some(Entry {
                object,
                origin: None,
            }),
            Err(e) => {
                tracing::warn!(
                    "skipping {kind} {}/{}: {e}",
                    self.meta.namespace.as_deref().unwrap_or(""),
                    self.meta.name.as_deref().unwrap_or("")
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::kube::watch::api_resource;

    fn list(items: &str) -> kube::core::ObjectList<Watched> {
        serde_json::from_str(&format!(
            r#"{{"apiVersion":"networking.istio.io/v1","kind":"WorkloadEntryList","metadata":{{"resourceVersion":"9"}},"items":[{items}]}}"#
        ))
        .unwrap()
    }

    #[test]
    fn a_page_decodes_and_each_item_reads_into_its_type() {
        let page = list(
            r#"{"apiVersion":"networking.istio.io/v1","kind":"WorkloadEntry","metadata":{"name":"vm1","namespace":"ns1","resourceVersion":"7","managedFields":[{"manager":"x"}]},"spec":{"address":"10.0.0.1","weight":3}}"#,
        );
        let w = &page.items[0];
        assert_eq!(w.meta.resource_version.as_deref(), Some("7"));
        let ar = api_resource(Kind::WorkloadEntry, "v1");
        let e = w.clone().into_entry(Kind::WorkloadEntry, &ar).unwrap();
        let Object::WorkloadEntry(we) = &e.object else {
            panic!("not a WE")
        };
        assert_eq!(we.spec.weight, Some(3));
        assert_eq!(e.object.key().to_string(), "we ns1/vm1");
        // managedFields is kept small: who wrote, not the field tree.
        assert_eq!(we.metadata.managed_fields[0].manager, "x");
        assert!(!we.metadata.extra.contains_key("managedFields"));
    }

    #[test]
    fn a_bad_item_is_skipped_and_its_neighbours_survive() {
        let page = list(
            r#"{"apiVersion":"networking.istio.io/v1","kind":"WorkloadEntry","metadata":{"name":"bad","namespace":"ns1","resourceVersion":"7"},"spec":{"weight":"heavy"}},
               {"metadata":{"name":"good","namespace":"ns1","resourceVersion":"8"},"spec":{"address":"10.0.0.2"}}"#,
        );
        let ar = api_resource(Kind::WorkloadEntry, "v1");
        let err = page.items[0].read(Kind::WorkloadEntry, &ar).unwrap_err();
        assert!(err.to_string().starts_with("spec.weight:"), "{err}");
        // An item without apiVersion/kind (as lists of some servers have) takes the asked ones.
        let good = page.items[1]
            .clone()
            .into_entry(Kind::WorkloadEntry, &ar)
            .unwrap();
        assert_eq!(good.object.key().name, "good");
    }

    #[test]
    fn an_item_of_another_kind_is_not_read_as_the_asked_one() {
        let page = list(
            r#"{"apiVersion":"networking.istio.io/v1","kind":"ServiceEntry","metadata":{"name":"se","resourceVersion":"1"},"spec":{}}"#,
        );
        let ar = api_resource(Kind::WorkloadEntry, "v1");
        assert!(page.items[0].read(Kind::WorkloadEntry, &ar).is_err());
    }
}
