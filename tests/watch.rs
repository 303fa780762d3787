//! The file watcher: a change, a new file and a removal each reach `update` as a message.

mod common;
use common::*;
use meshdeck::io::manifests::watch;
use meshdeck::msg::Msg;
use std::time::Duration;
use tokio::sync::mpsc;

async fn next(rx: &mut mpsc::Receiver<Msg>) -> Msg {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a message within 10 s")
        .expect("channel open")
}

#[tokio::test]
async fn changes_new_files_and_removals_are_reported() {
    let (_dir, root) = example_copy();
    let (tx, mut rx) = mpsc::channel(16);
    let _w = watch::spawn(vec![root.clone()], tx).expect("watch");
    let path = root.join("payments.yaml");
    std::fs::write(&path, read(&path).replace("weight: 70", "weight: 71")).unwrap();
    match next(&mut rx).await {
        Msg::FilesLoaded(files) => {
            let f = files
                .iter()
                .find(|f| f.path == path)
                .expect("payments reloaded");
            assert!(
                f.entries
                    .iter()
                    .any(|e| e.object.to_value()["spec"]["weight"] == 71)
            );
        }
        other => panic!("{other:?}"),
    }
    let extra = root.join("extra.yml");
    std::fs::write(&extra, "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: new, namespace: shop}\nspec: {address: 10.0.0.99}\n").unwrap();
    match next(&mut rx).await {
        Msg::FilesLoaded(files) => assert!(
            files
                .iter()
                .any(|f| f.path == extra && f.entries.len() == 1)
        ),
        other => panic!("{other:?}"),
    }
    std::fs::remove_file(&extra).unwrap();
    loop {
        match next(&mut rx).await {
            Msg::FileRemoved(p) => {
                assert_eq!(p, extra);
                break;
            }
            Msg::FilesLoaded(_) => continue,
            other => panic!("{other:?}"),
        }
    }
}
