//! Locating the shared test data (for tests of this and other crates).
//!
//! The folder is `$CRYORBF_DATA`, defaulting to `shared/data` beside the workspace. When it is
//! missing, tests print `skipped: test data not found at ...` and return, unless
//! `CRYORBF_REQUIRE_DATA=1`, in which case they panic with that message.

use std::path::PathBuf;

/// The test-data folder, if it exists.
pub fn test_data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("CRYORBF_DATA").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")),
        PathBuf::from,
    );
    dir.is_dir().then_some(dir)
}

/// The file `relative` inside the test-data folder, or `None` (after printing why) when the folder
/// is missing and data are not required.
///
/// # Panics
/// When the folder or the file is missing and `CRYORBF_REQUIRE_DATA=1`; when the folder exists
/// but the file does not (a broken fixture set).
pub fn require(relative: &str) -> Option<PathBuf> {
    let Some(dir) = test_data_dir() else {
        let wanted = std::env::var("CRYORBF_DATA").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data").into()
        });
        let message = format!("skipped: test data not found at {wanted}");
        if std::env::var("CRYORBF_REQUIRE_DATA").is_ok_and(|v| v == "1") {
            panic!("{message}");
        }
        println!("{message}");
        return None;
    };
    let path = dir.join(relative);
    assert!(
        path.exists(),
        "test data folder {} has no {relative}",
        dir.display()
    );
    Some(path)
}
