//! Routing and responses of the fake API server.

use super::Shared;
use super::cluster::{api_version_of, kind_of};
use super::core;
use super::status;
use base64::Engine;
use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

pub(super) type Body = BoxBody<Bytes, Infallible>;

pub(super) fn empty() -> Body {
    Full::new(Bytes::new()).boxed()
}

const DISCOVERY_GROUP: &str = include_str!("recorded/discovery-apis-networking.istio.io.json");
const DISCOVERY_V1: &str = include_str!("recorded/discovery-apis-networking.istio.io-v1.json");
const VERSION: &str = include_str!("recorded/version.json");

pub async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    // The connections go with the server: a stopped server is one that answers nothing, not
    // one whose open keep-alive connections and watches go on (as a real one going down).
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        while connections.try_join_next().is_some() {}
        let shared = shared.clone();
        connections.spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(route(req, &shared).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .with_upgrades()
                .await;
        });
    }
}

fn full(code: u16, body: impl Into<Bytes>) -> Response<Body> {
    Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .header("cache-control", "no-cache, private")
        .body(Full::new(body.into()).boxed())
        .unwrap_or_default()
}

fn json_response(code: u16, v: &Value) -> Response<Body> {
    full(code, serde_json::to_vec(v).unwrap_or_default())
}

fn status_response(v: Value) -> Response<Body> {
    let code = v["code"].as_u64().unwrap_or(500) as u16;
    json_response(code, &v)
}

pub(super) fn query(req: &Request<Incoming>) -> HashMap<String, String> {
    req.uri()
        .query()
        .map(|q| {
            q.split('&')
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    (k.to_string(), percent_decode(v))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn user_of(req: &Request<Incoming>) -> String {
    req.headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("anonymous")
        .to_string()
}

async fn route(req: Request<Incoming>, shared: &Arc<Shared>) -> Response<Body> {
    let path = req.uri().path().to_string();
    if let Ok(mut r) = shared.requests.lock() {
        r.push(format!("{} {}", req.method(), req.uri()));
    }
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        ["version"] => full(200, VERSION),
        ["apis"] => {
            let group: Value = serde_json::from_str(DISCOVERY_GROUP).unwrap_or_default();
            json_response(
                200,
                &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": [group]}),
            )
        }
        ["api"] => json_response(
            200,
            &json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}),
        ),
        ["apis", "networking.istio.io"] => full(200, DISCOVERY_GROUP),
        ["apis", "networking.istio.io", "v1"] => full(200, DISCOVERY_V1),
        // The same resources are served in every version; only the groupVersion differs.
        ["apis", "networking.istio.io", v @ ("v1beta1" | "v1alpha3")] => {
            let mut doc: Value = serde_json::from_str(DISCOVERY_V1).unwrap_or_default();
            doc["groupVersion"] = json!(format!("networking.istio.io/{v}"));
            json_response(200, &doc)
        }
        ["apis", "networking.istio.io", "v1", rest @ ..] => resource(req, shared, rest).await,
        ["api", "v1", rest @ ("pods" | "namespaces")] => resource(req, shared, &[rest]).await,
        ["api", "v1", "namespaces", ns, "pods"] => {
            resource(req, shared, &["namespaces", ns, "pods"]).await
        }
        ["api", "v1", "namespaces", ns, "pods", pod, "portforward"] => {
            let (ns, pod) = (ns.to_string(), pod.to_string());
            core::portforward(shared, req, &ns, &pod).unwrap_or_else(status_response)
        }
        ["api", "v1", "namespaces", ns, "configmaps", name]
            if req.method() == hyper::Method::GET =>
        {
            let (code, body) = core::config_map(shared, ns, name);
            json_response(code, &body)
        }
        [
            "api",
            "v1",
            "namespaces",
            ns,
            "serviceaccounts",
            sa,
            "token",
        ] if req.method() == hyper::Method::POST => {
            let (ns, sa, user) = (ns.to_string(), sa.to_string(), user_of(&req));
            let Ok(bytes) = req.into_body().collect().await.map(|b| b.to_bytes()) else {
                return status_response(status::bad_request("unreadable body".into()));
            };
            let (code, body) = core::token(shared, &user, &ns, &sa, &bytes);
            json_response(code, &body)
        }
        ["apis", "authentication.k8s.io", "v1", "selfsubjectreviews"]
            if req.method() == hyper::Method::POST =>
        {
            let user = user_of(&req);
            let review = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview", "metadata": {},
                "status": {"userInfo": {"username": user, "groups": ["system:authenticated"]}}});
            json_response(201, &review)
        }
        [
            "apis",
            "authorization.k8s.io",
            "v1",
            "selfsubjectaccessreviews",
        ] if req.method() == hyper::Method::POST => {
            let user = user_of(&req);
            let Ok(bytes) = req.into_body().collect().await.map(|b| b.to_bytes()) else {
                return status_response(status::bad_request("unreadable body".into()));
            };
            let mut review: Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let attributes = &review["spec"]["resourceAttributes"];
            let mut resource = attributes["resource"].as_str().unwrap_or("").to_string();
            if let Some(sub) = attributes["subresource"].as_str().filter(|s| !s.is_empty()) {
                resource = format!("{resource}/{sub}");
            }
            let denied = shared
                .cluster
                .lock()
                .map(|c| c.forbidden.contains(&(user, resource)))
                .unwrap_or(false);
            review["status"] = if denied {
                json!({"allowed": false, "reason": "no RBAC policy matched"})
            } else {
                json!({"allowed": true, "reason": "RBAC: allowed"})
            };
            json_response(201, &review)
        }
        ["api", "v1", "events"] | ["api", "v1", "namespaces", _, "events"]
            if req.method() == hyper::Method::GET =>
        {
            let ns = match segs.as_slice() {
                [_, _, "namespaces", ns, _] => Some(ns.to_string()),
                _ => None,
            };
            let items: Vec<Value> = shared
                .events_created
                .lock()
                .map(|e| {
                    e.iter()
                        .filter(|ev| {
                            ns.as_deref()
                                .is_none_or(|n| ev["metadata"]["namespace"].as_str() == Some(n))
                        })
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            json_response(
                200,
                &json!({"kind": "EventList", "apiVersion": "v1",
                        "metadata": {"resourceVersion": "1"}, "items": items}),
            )
        }
        ["api", "v1", "namespaces", ns, "events"] if req.method() == hyper::Method::POST => {
            let ns = ns.to_string();
            let Ok(bytes) = req.into_body().collect().await.map(|b| b.to_bytes()) else {
                return status_response(status::bad_request("unreadable body".into()));
            };
            let mut ev: Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let name = format!(
                "{}{:x}",
                ev["metadata"]["generateName"].as_str().unwrap_or("event."),
                bytes.len()
            );
            ev["metadata"]["name"] = json!(name);
            ev["metadata"]["namespace"] = json!(ns);
            if let Ok(mut e) = shared.events_created.lock() {
                e.push(ev.clone());
            }
            json_response(201, &ev)
        }
        _ => status_response(status::bad_request(format!(
            "the fake API server does not serve {path}"
        ))),
    }
}

async fn resource(req: Request<Incoming>, shared: &Arc<Shared>, rest: &[&str]) -> Response<Body> {
    // Every Istio CRD has a status subresource: writes to it change only status, writes to the
    // object leave status alone.
    let (ns, plural, name, status_sub) = match rest {
        ["namespaces", ns, plural] => (Some(*ns), *plural, None, false),
        ["namespaces", ns, plural, name] => (Some(*ns), *plural, Some(*name), false),
        ["namespaces", ns, plural, name, "status"] => (Some(*ns), *plural, Some(*name), true),
        [plural] => (None, *plural, None, false),
        _ => {
            return status_response(status::bad_request(format!(
                "unsupported path {}",
                req.uri().path()
            )));
        }
    };
    if kind_of(plural).is_none() {
        return status_response(status::not_found(plural, name.unwrap_or("")));
    }
    let q = query(&req);
    let user = user_of(&req);
    let watching = q.get("watch").is_some_and(|w| w == "1" || w == "true");
    let verb = match (req.method().as_str(), name, watching) {
        ("GET", None, true) => "watch",
        ("GET", None, false) => "list",
        ("GET", Some(_), _) => "get",
        ("PATCH", Some(_), _) => "patch",
        (m, _, _) => {
            return status_response(status::bad_request(format!(
                "{m} is not served by this fake yet"
            )));
        }
    };
    let rbac_resource = if status_sub {
        format!("{plural}/status")
    } else {
        plural.to_string()
    };
    let denied = shared
        .cluster
        .lock()
        .map(|c| c.forbidden.contains(&(user.clone(), rbac_resource.clone())))
        .unwrap_or(false);
    if denied {
        let object = name.filter(|_| verb != "list" && verb != "watch");
        return status_response(status::forbidden(&user, verb, &rbac_resource, object, ns));
    }
    match verb {
        "get" => {
            let c = shared.cluster.lock().unwrap_or_else(|p| p.into_inner());
            let key = (
                plural.to_string(),
                ns.unwrap_or("").to_string(),
                name.unwrap_or("").to_string(),
            );
            match c.objects.get(&key) {
                Some(v) => json_response(200, v),
                None => status_response(status::not_found(plural, name.unwrap_or(""))),
            }
        }
        "list" => list(shared, plural, ns, &q),
        "patch" => {
            let content_type = req
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let bytes = match req.into_body().collect().await {
                Ok(b) => b.to_bytes(),
                Err(e) => return status_response(status::bad_request(e.to_string())),
            };
            let body: Value = match serde_json::from_slice(&bytes)
                .or_else(|_| serde_saphyr::from_slice(&bytes))
            {
                Ok(v) => v,
                Err(e) => {
                    return status_response(status::bad_request(format!(
                        "the patch does not parse: {e}"
                    )));
                }
            };
            let key = (
                plural.to_string(),
                ns.unwrap_or("").to_string(),
                name.unwrap_or("").to_string(),
            );
            let request = super::patch::PatchRequest {
                key,
                content_type: &content_type,
                body,
                manager: q
                    .get("fieldManager")
                    .cloned()
                    .unwrap_or_else(|| "unknown".into()),
                force: q.get("force").is_some_and(|f| f == "true"),
                dry_run: q.get("dryRun").is_some_and(|d| d == "All"),
                status: status_sub,
            };
            let mut c = shared.cluster.lock().unwrap_or_else(|p| p.into_inner());
            match super::patch::patch(&mut c, request) {
                Ok((v, warnings)) => {
                    if let Some(ev) = c.history.last().filter(|e| e.object == v) {
                        let _ = shared.events.send(ev.clone());
                    }
                    let mut response = json_response(200, &v);
                    for w in warnings {
                        let escaped = w.replace('\\', "\\\\").replace('"', "\\\"");
                        if let Ok(h) = format!("299 - \"{escaped}\"").parse() {
                            response.headers_mut().append("warning", h);
                        }
                    }
                    response
                }
                Err(s) => status_response(s),
            }
        }
        _ => watch(shared, plural, ns, &q),
    }
}

fn encode_token(rv: u64, start: &str) -> String {
    let raw = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": start}).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_token(token: &str) -> Option<(i64, String)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .ok()?;
    let v: Value = serde_json::from_slice(&raw).ok()?;
    Some((v["rv"].as_i64()?, v["start"].as_str()?.to_string()))
}

fn list(
    shared: &Shared,
    plural: &str,
    ns: Option<&str>,
    q: &HashMap<String, String>,
) -> Response<Body> {
    let c = shared.cluster.lock().unwrap_or_else(|p| p.into_inner());
    let limit: usize = q
        .get("limit")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    // Keys as etcd orders them; a continue token starts just after its key ("key\0").
    let key_of = |v: &Value| {
        let m = &v["metadata"];
        let name = m["name"].as_str().unwrap_or("");
        match ns {
            Some(_) => name.to_string(),
            None => format!("/{}/{name}", m["namespace"].as_str().unwrap_or("")),
        }
    };
    let (snapshot_rv, start) = match q.get("continue").filter(|t| !t.is_empty()) {
        Some(token) => match decode_token(token) {
            Some((rv, start)) if rv >= c.compacted as i64 => (rv as u64, Some(start)),
            Some((_, start)) => {
                return status_response(status::continue_expired(&encode_token_neg(&start)));
            }
            None => {
                return status_response(status::bad_request("continue key is not valid".into()));
            }
        },
        None => (c.rv, None),
    };
    // The token's start key is "name\0" (namespaced) or "/ns/name\0" (cluster-wide).
    let after: Option<(String, String)> = start.as_deref().map(|s| {
        let s = s.trim_end_matches('\u{0}');
        match ns {
            Some(n) => (n.to_string(), s.to_string()),
            None => {
                let rest = s.trim_start_matches('/');
                let (n, name) = rest.split_once('/').unwrap_or((rest, ""));
                (n.to_string(), name.to_string())
            }
        }
    });
    let (page, rest) = c.page(
        plural,
        ns,
        after.as_ref().map(|(n, m)| (n.as_str(), m.as_str())),
        limit,
    );
    let page: Vec<Value> = page.into_iter().cloned().collect();
    let mut meta = serde_json::Map::new();
    if rest > 0 {
        let last = page
            .last()
            .map(|v| format!("{}\u{0}", key_of(v)))
            .unwrap_or_default();
        meta.insert("continue".into(), json!(encode_token(snapshot_rv, &last)));
        meta.insert("remainingItemCount".into(), json!(rest));
    } else {
        meta.insert("continue".into(), json!(""));
    }
    meta.insert("resourceVersion".into(), json!(snapshot_rv.to_string()));
    let kind = kind_of(plural).unwrap_or("Unknown");
    json_response(
        200,
        &json!({"apiVersion": api_version_of(kind), "kind": format!("{kind}List"), "metadata": meta, "items": page}),
    )
}

fn encode_token_neg(start: &str) -> String {
    let raw = json!({"v": "meta.k8s.io/v1", "rv": -1, "start": start}).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn line(ev_type: &str, object: &Value) -> Bytes {
    let mut s =
        serde_json::to_string(&json!({"type": ev_type, "object": object})).unwrap_or_default();
    s.push('\n');
    Bytes::from(s)
}

fn watch(
    shared: &Arc<Shared>,
    plural: &str,
    ns: Option<&str>,
    q: &HashMap<String, String>,
) -> Response<Body> {
    let kind = kind_of(plural).unwrap_or("Unknown");
    let bookmarks = q.get("allowWatchBookmarks").is_some_and(|v| v == "true");
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(1800));
    let initial = q.get("sendInitialEvents").is_some_and(|v| v == "true");
    let from: Option<u64> = q
        .get("resourceVersion")
        .and_then(|v| v.parse().ok())
        .filter(|v| *v > 0);
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(1024);
    let every = *shared
        .bookmark_every
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let mut paused = shared.paused.subscribe();
    // From the request on: a watch asked for before `drop_watches` is cut by it too.
    let mut epoch = shared.epoch.subscribe();
    let shared = shared.clone();
    let plural = plural.to_string();
    let ns = ns.map(String::from);
    let kind = kind.to_string();
    tokio::spawn(async move {
        let _ = paused.wait_for(|p| !*p).await;
        if epoch.has_changed().unwrap_or(true) {
            return;
        }
        let mut live = shared.events.subscribe();
        let (backlog, current_rv, too_old) = {
            let c = shared.cluster.lock().unwrap_or_else(|p| p.into_inner());
            let mut backlog: Vec<Bytes> = Vec::new();
            let too_old = from.is_some_and(|rv| rv < c.compacted);
            if too_old {
                let oldest = c.compacted.max(1);
                backlog.push(line(
                    "ERROR",
                    &status::watch_too_old(from.unwrap_or(0), oldest),
                ));
            } else if initial || from.is_none() {
                for v in c.list(&plural, ns.as_deref()) {
                    backlog.push(line("ADDED", v));
                }
                if initial {
                    let bm = json!({"apiVersion": api_version_of(&kind), "kind": kind, "metadata": {"annotations": {"k8s.io/initial-events-end": "true"}, "resourceVersion": c.rv.to_string()}});
                    backlog.push(line("BOOKMARK", &bm));
                }
            } else if let Some(rv) = from {
                for ev in c.history.iter().filter(|e| {
                    e.rv > rv
                        && e.plural == plural
                        && ns.as_deref().is_none_or(|n| n == e.namespace)
                }) {
                    backlog.push(line(ev.kind, &ev.object));
                }
            }
            (backlog, c.rv, too_old)
        };
        let matches = |p: &str, n: &str| p == plural && ns.as_deref().is_none_or(|want| want == n);
        for b in backlog {
            if tx.send(b).await.is_err() {
                return;
            }
        }
        if too_old {
            return;
        }
        let mut last_rv = current_rv;
        let deadline = tokio::time::Instant::now() + timeout;
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            // A cut watch sends nothing after the cut, even when an event is also ready: what
            // happens after `drop_watches` reaches the client only through its next watch.
            tokio::select! {
                biased;
                _ = epoch.changed() => return,
                ev = live.recv() => match ev {
                    Ok(ev) => {
                        last_rv = last_rv.max(ev.rv);
                        if ev.rv > current_rv && matches(&ev.plural, &ev.namespace) && tx.send(line(ev.kind, &ev.object)).await.is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                },
                _ = tick.tick(), if bookmarks => {
                    let bm = json!({"apiVersion": api_version_of(&kind), "kind": kind, "metadata": {"resourceVersion": last_rv.to_string()}});
                    if tx.send(line("BOOKMARK", &bm)).await.is_err() {
                        return;
                    }
                }
                _ = tokio::time::sleep_until(deadline) => return,
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx)
        .map(|b| Ok::<_, Infallible>(Frame::data(b)));
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("cache-control", "no-cache, private")
        .body(BodyExt::boxed(StreamBody::new(stream)))
        .unwrap_or_default()
}
