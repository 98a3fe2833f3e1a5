//! The S3 a local sweep's state machine writes to and reads from: the distributed `Sweep`'s
//! `ResultWriter` puts each round's samples here, and the in-process analyzer reads them back
//! (`powersweep_analyzer::map_run::gather`), as the deployed ones do with the real S3.
//!
//! Objects live in memory for the length of one sweep (about 1 KB per invocation: 12,000
//! invocations hold ~10 MB), so a local sweep needs no S3 server; nothing here may reach the
//! network. Written here rather than using moto's S3 because the README's first command must
//! run with cargo alone.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context;

use powersweep_analyzer::map_run::ObjectRef;
use powersweep_asl::{TaskError, TaskRegistry, handler_fn};
use serde_json::{Value, json};

/// The results bucket's name locally (`${ResultsBucketName}` in the state machine).
pub const LOCAL_RESULTS_BUCKET: &str = "powersweep-results-local";

/// An object's text by its bucket and key.
type Objects = HashMap<(String, String), Arc<str>>;

/// Objects by bucket and key.
#[derive(Clone, Default)]
pub struct LocalS3 {
    objects: Arc<Mutex<Objects>>,
}

impl LocalS3 {
    /// An object's text, or S3's error name.
    pub fn get(&self, bucket: &str, key: &str) -> Result<Arc<str>, TaskError> {
        let objects = self
            .objects
            .lock()
            .map_err(|_| TaskError::new("S3.InternalError", "the local S3 failed earlier"))?;
        objects
            .get(&(bucket.to_owned(), key.to_owned()))
            .cloned()
            .ok_or_else(|| {
                TaskError::new(
                    "S3.NoSuchKey",
                    format!("The specified key does not exist: s3://{bucket}/{key}"),
                )
            })
    }

    fn put(&self, bucket: &str, key: &str, body: &str) -> Result<(), TaskError> {
        if bucket != LOCAL_RESULTS_BUCKET {
            return Err(TaskError::new(
                "S3.NoSuchBucket",
                format!(
                    "The specified bucket does not exist: {bucket} (locally only {LOCAL_RESULTS_BUCKET})"
                ),
            ));
        }
        if key.is_empty() {
            return Err(TaskError::new(
                "S3.InvalidArgument",
                "An object key may not be empty",
            ));
        }
        self.objects
            .lock()
            .map_err(|_| TaskError::new("S3.InternalError", "the local S3 failed earlier"))?
            .insert((bucket.to_owned(), key.to_owned()), body.into());
        Ok(())
    }

    /// How many objects and bytes it holds.
    pub fn size(&self) -> (usize, usize) {
        self.objects
            .lock()
            .map(|o| (o.len(), o.values().map(|v| v.len()).sum()))
            .unwrap_or_default()
    }

    /// Writes every object under `dir` at its key (`dir/<key>`), as the bucket holds it on
    /// AWS, so that a local sweep keeps its raw samples (each with its REPORT line) beside
    /// results.json. Returns the files written.
    ///
    /// # Errors
    /// A key that would leave `dir` (absolute, `..`), or a file that cannot be written.
    pub fn write_to(&self, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
        let objects: Vec<(String, Arc<str>)> = self
            .objects
            .lock()
            .map_err(|_| anyhow::anyhow!("the local S3 failed earlier"))?
            .iter()
            .map(|((_, key), body)| (key.clone(), body.clone()))
            .collect();
        let mut written = Vec::with_capacity(objects.len());
        for (key, body) in objects {
            let relative = Path::new(&key);
            if relative
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
            {
                anyhow::bail!("the object key {key:?} would leave {}", dir.display());
            }
            let path = dir.join(relative);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            let partial = path.with_extension("partial");
            std::fs::write(&partial, body.as_bytes())
                .and_then(|()| std::fs::rename(&partial, &path))
                .with_context(|| format!("cannot write {}", path.display()))?;
            written.push(path);
        }
        written.sort();
        Ok(written)
    }

    /// A reader for [`powersweep_analyzer::map_run::gather`].
    pub fn reader(&self) -> impl FnMut(&ObjectRef) -> Result<String, String> + '_ {
        |r| {
            self.get(&r.bucket, &r.key)
                .map(|text| text.to_string())
                .map_err(|e| e.to_string())
        }
    }

    /// Registers `s3:getObject` (answers `{"Body": text}`) and `s3:putObject` (takes
    /// `{"Bucket", "Key", "Body"}`), the resources a distributed Map's reader and writer call.
    pub fn register(&self, tasks: &mut TaskRegistry) {
        let (get, put) = (self.clone(), self.clone());
        tasks.register(
            "arn:aws:states:::s3:getObject",
            handler_fn(move |r| {
                let get = get.clone();
                async move {
                    let (bucket, key) = bucket_and_key(&r.parameters)?;
                    Ok(json!({"Body": &*get.get(bucket, key)?}))
                }
            }),
        );
        tasks.register(
            "arn:aws:states:::s3:putObject",
            handler_fn(move |r| {
                let put = put.clone();
                async move {
                    let (bucket, key) = bucket_and_key(&r.parameters)?;
                    let body = r.parameters["Body"]
                        .as_str()
                        .ok_or_else(|| TaskError::new("S3.InvalidArgument", "Body must be text"))?;
                    put.put(bucket, key, body)?;
                    Ok(json!({}))
                }
            }),
        );
    }
}

fn bucket_and_key(params: &Value) -> Result<(&str, &str), TaskError> {
    match (params["Bucket"].as_str(), params["Key"].as_str()) {
        (Some(b), Some(k)) => Ok((b, k)),
        _ => Err(TaskError::new(
            "S3.InvalidArgument",
            format!("Bucket and Key must be strings: {params}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_round_trip_and_bad_requests_get_s3s_errors() {
        let s3 = LocalS3::default();
        s3.put(LOCAL_RESULTS_BUCKET, "a/b.json", "[1]").unwrap();
        assert_eq!(&*s3.get(LOCAL_RESULTS_BUCKET, "a/b.json").unwrap(), "[1]");
        assert_eq!(
            s3.get(LOCAL_RESULTS_BUCKET, "nope").unwrap_err().error,
            "S3.NoSuchKey"
        );
        assert_eq!(
            s3.put("other", "k", "x").unwrap_err().error,
            "S3.NoSuchBucket"
        );
        assert_eq!(
            s3.put(LOCAL_RESULTS_BUCKET, "", "x").unwrap_err().error,
            "S3.InvalidArgument"
        );
        assert_eq!(s3.size(), (1, 3));
    }

    #[test]
    fn objects_are_written_at_their_keys_and_never_outside_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let s3 = LocalS3::default();
        s3.put(LOCAL_RESULTS_BUCKET, "powersweep/e/r/manifest.json", "{}")
            .unwrap();
        let written = s3.write_to(dir.path()).unwrap();
        assert_eq!(written, [dir.path().join("powersweep/e/r/manifest.json")]);
        assert_eq!(std::fs::read_to_string(&written[0]).unwrap(), "{}");
        s3.put(LOCAL_RESULTS_BUCKET, "../escape.json", "{}")
            .unwrap();
        let err = s3.write_to(dir.path()).unwrap_err().to_string();
        assert!(err.contains("would leave"), "{err}");
        assert!(!dir.path().parent().unwrap().join("escape.json").exists());
    }
}
