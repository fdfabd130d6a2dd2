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

/// Whether `files` are exactly the migrations sqlx reads from `folder` (the backend's
/// `migrations/`): the same versions, descriptions and checksums, so a file added to the folder
/// and not to the list, or listed under another name, is caught by the backend's tests.
pub async fn check_against_folder(files: Files, folder: &std::path::Path) -> Result<(), String> {
    let summary = |migrator: &Migrator| -> Vec<(i64, String, Vec<u8>)> {
        migrator
            .iter()
            .map(|m| (m.version, m.description.to_string(), m.checksum.to_vec()))
            .collect()
    };
    let embedded = migrator(files).await.map_err(|error| error.to_string())?;
    let read = Migrator::new(folder)
        .await
        .map_err(|error| error.to_string())?;
    if summary(&embedded) == summary(&read) {
        Ok(())
    } else {
        Err(format!(
            "the embedded migrations are not those of {}: {:?} against {:?}",
            folder.display(),
            summary(&embedded)
                .into_iter()
                .map(|(v, d, _)| (v, d))
                .collect::<Vec<_>>(),
            summary(&read)
                .into_iter()
                .map(|(v, d, _)| (v, d))
                .collect::<Vec<_>>(),
        ))
    }
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
