//! Writing edits back to manifest files: only the scalar's bytes change, atomically, and
//! every refusal leaves the files as they were.

mod common;
use common::*;
use meshdeck::cli::set::{Field, resolve};
use meshdeck::io::manifests::load::{into_store, load_all};
use meshdeck::io::source::files::FileSource;
use meshdeck::io::source::{ApplyError, Source};

fn edit_for(
    root: &std::path::Path,
    target: &str,
    field: Field,
    value: &str,
) -> meshdeck::io::source::FieldEdit {
    let (files, _) = load_all(&[root.to_path_buf()]);
    resolve(&into_store(files), target, &field, value).expect("resolves")
}

#[tokio::test]
async fn a_weight_edit_changes_only_that_scalar_and_undo_restores_the_bytes() {
    let (_d, root) = example_copy();
    let path = root.join("payments.yaml");
    let before = read(&path);
    let edit = edit_for(&root, "shop/payments-vm-2", Field::Weight, "55");
    let mut src = FileSource::new(vec![root.clone()], false);
    let applied = src.apply(vec![edit]).await.expect("applied");
    let after = read(&path);
    assert_eq!(
        after,
        before.replacen("  weight: 20\n", "  weight: 55\n", 1)
    );
    let undo = applied[0].edit.inverse(applied[0].revision.clone());
    src.apply(vec![undo]).await.expect("undone");
    assert_eq!(read(&path), before);
    let leftovers: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("meshdeck"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

#[tokio::test]
async fn a_file_changed_underneath_is_refused() {
    let (_d, root) = example_copy();
    let path = root.join("payments.yaml");
    let edit = edit_for(&root, "shop/payments-vm-1", Field::Weight, "5");
    let changed = read(&path).replace("# Payments API", "# Someone else was here. Payments API");
    std::fs::write(&path, &changed).unwrap();
    let err = FileSource::new(vec![root.clone()], false)
        .apply(vec![edit])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ApplyError::Conflict { message, .. } if message.contains("changed on disk")),
        "{err}"
    );
    assert_eq!(read(&path), changed);
}

#[tokio::test]
async fn readonly_writes_nothing() {
    let (_d, root) = example_copy();
    let before = read(&root.join("payments.yaml"));
    let edit = edit_for(&root, "shop/payments-vm-1", Field::Weight, "5");
    let err = FileSource::new(vec![root.clone()], true)
        .apply(vec![edit])
        .await
        .unwrap_err();
    assert_eq!(err, ApplyError::ReadOnly);
    assert_eq!(read(&root.join("payments.yaml")), before);
}

#[tokio::test]
async fn an_invalid_locality_is_a_field_error() {
    let (_d, root) = example_copy();
    let mut edit = edit_for(&root, "shop/payments-vm-1", Field::Locality, "us-east1");
    if let meshdeck::io::source::Change::Locality { to, .. } = &mut edit.change {
        *to = "us east/@@".into();
    }
    let err = FileSource::new(vec![root.clone()], false)
        .apply(vec![edit])
        .await
        .unwrap_err();
    let ApplyError::Invalid(fields) = err else {
        panic!("{err:?}")
    };
    assert_eq!(fields[0].field, "spec.locality");
}

#[tokio::test]
async fn a_bulk_edit_across_files_is_all_or_nothing() {
    let (_d, root) = example_copy();
    let payments = read(&root.join("payments.yaml"));
    let a = edit_for(&root, "shop/payments-vm-1", Field::Weight, "1");
    let b = edit_for(&root, "legacy/inventory/0", Field::Weight, "9");
    let legacy = read(&root.join("legacy.yaml")).replace("# A legacy", "# Edited: a legacy");
    std::fs::write(root.join("legacy.yaml"), &legacy).unwrap();
    let err = FileSource::new(vec![root.clone()], false)
        .apply(vec![a, b])
        .await
        .unwrap_err();
    assert!(matches!(err, ApplyError::Conflict { .. }));
    assert_eq!(
        read(&root.join("payments.yaml")),
        payments,
        "the first file must not be written either"
    );
}

#[tokio::test]
async fn inline_endpoint_weight_and_locality_insertions() {
    let (_d, root) = example_copy();
    let path = root.join("ratings.yaml");
    // ratings WEs have no weight field: it is inserted at the spec's indentation.
    let edit = edit_for(&root, "shop/ratings-10.10.2.21", Field::Weight, "3");
    FileSource::new(vec![root.clone()], false)
        .apply(vec![edit])
        .await
        .expect("applied");
    let text = read(&path);
    assert!(
        text.contains("spec:\n  weight: 3\n  address: 10.10.2.21\n"),
        "{text}"
    );
    let (files, errors) = load_all(std::slice::from_ref(&root));
    assert!(errors.is_empty() && files.iter().all(|f| f.errors.is_empty()));
}

/// A weight set where there was none is undone by taking the field away again, byte for byte;
/// the take-away is refused if the file holds another value by then.
#[tokio::test]
async fn an_inserted_weight_is_undone_by_removing_it() {
    let (_d, root) = example_copy();
    let path = root.join("ratings.yaml");
    let before = read(&path);
    let edit = edit_for(&root, "shop/ratings-10.10.2.21", Field::Weight, "3");
    let mut src = FileSource::new(vec![root.clone()], false);
    let applied = src.apply(vec![edit]).await.expect("applied");
    let undo = applied[0].edit.inverse(applied[0].revision.clone());
    assert_eq!(undo.values(), ("weight", "3".into(), "unset".into()));
    // Someone changes it in between: the removal is refused, the file kept.
    let (files, _) = load_all(std::slice::from_ref(&root));
    let again = resolve(
        &into_store(files),
        "shop/ratings-10.10.2.21",
        &Field::Weight,
        "4",
    )
    .unwrap();
    src.apply(vec![again.clone()]).await.expect("applied");
    let stale = {
        let mut u = undo.clone();
        u.origin = again.origin.clone();
        u.revision = None;
        u
    };
    let err = src.apply(vec![stale]).await.unwrap_err();
    assert!(matches!(err, ApplyError::Conflict { .. }), "{err}");
    assert!(read(&path).contains("  weight: 4\n"));
    // Put back to 3, then undone for real.
    let (files, _) = load_all(std::slice::from_ref(&root));
    let three = resolve(
        &into_store(files),
        "shop/ratings-10.10.2.21",
        &Field::Weight,
        "3",
    )
    .unwrap();
    src.apply(vec![three]).await.expect("applied");
    let (files, _) = load_all(std::slice::from_ref(&root));
    let store = into_store(files);
    let mut undo = undo;
    let key = undo.object();
    undo.origin = store.get(&key).and_then(|e| e.origin.clone());
    undo.revision = undo.origin.as_ref().map(|o| o.revision.clone());
    src.apply(vec![undo]).await.expect("undone");
    assert_eq!(read(&path), before);
}
