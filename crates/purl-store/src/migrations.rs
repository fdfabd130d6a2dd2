//! SQL migrations compiled into the binary (`include_str!`), applied by sqlx's migrator.
//!
//! Each backend lists its files in order; a file `0004_append_function.sql` is version 4,
//! described as "append function", exactly as sqlx names a migration read from a folder, with the
//! same checksum (SHA-384 of the text), so a database migrated by any build of the project
//! agrees with this one.

use std::future::Future;
use std::pin::Pin;

use sqlx::error::BoxDynError;
use sqlx::migrate::{MigrateError, Migration, MigrationSource, MigrationType, Migrator};

/// A backend's migration files: `(file name, SQL text)`, in version order.
pub type Files = &'static [(&'static str, &'static str)];

/// The versions of the files, in their order.
pub fn versions(files: Files) -> impl Iterator<Item = i64> {
    files
        .iter()
        .map(|(name, _)| version_and_description(name).0)
}

/// A migrator that applies the files (`Migrator::run`) with sqlx's defaults: each file in its
/// own transaction, under the database's migration lock, refusing a database that applied a
/// migration this build does not know or whose checksum differs.
pub async fn migrator(files: Files) -> Result<Migrator, MigrateError> {
    Migrator::new(Embedded(files)).await
}

/// For a backend's tests: panics unless `files` are exactly the migrations sqlx reads from the
/// folder `migrations/` of `crate_dir` (the same versions, descriptions and checksums), so a file
/// added to the folder and not to the list, or listed under another name, fails the tests.
pub async fn assert_same_as_folder(files: Files, crate_dir: &str) {
    let folder = std::path::Path::new(crate_dir).join("migrations");
    let summary = |migrator: Migrator| -> Vec<(i64, String, Vec<u8>)> {
        migrator
            .iter()
            .map(|m| (m.version, m.description.to_string(), m.checksum.to_vec()))
            .collect()
    };
    let embedded = migrator(files).await.expect("embedded migrations resolve");
    let read = Migrator::new(folder.as_path())
        .await
        .expect("the migrations folder reads");
    assert_eq!(
        summary(embedded),
        summary(read),
        "the embedded migrations are not those of {}",
        folder.display()
    );
}

#[derive(Debug)]
struct Embedded(Files);

impl MigrationSource<'static> for Embedded {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 'static>> {
        let migrations = self
            .0
            .iter()
            .map(|(name, sql)| {
                let (version, description) = version_and_description(name);
                Migration::new(
                    version,
                    description.into(),
                    MigrationType::Simple,
                    (*sql).into(),
                    false,
                )
            })
            .collect();
        Box::pin(async move { Ok(migrations) })
    }
}

/// `0004_append_function.sql` → (4, "append function").
fn version_and_description(name: &str) -> (i64, String) {
    let stem = name
        .strip_suffix(".sql")
        .expect("migration files end in .sql");
    let (version, description) = stem
        .split_once('_')
        .expect("migration files are named VERSION_DESCRIPTION.sql");
    let version = version
        .parse()
        .expect("migration files start with their version number");
    (version, description.replace('_', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_give_sqlxs_version_and_description() {
        assert_eq!(
            version_and_description("0004_append_function.sql"),
            (4, "append function".to_owned())
        );
        assert_eq!(version_and_description("12_x.sql"), (12, "x".to_owned()));
    }
}
