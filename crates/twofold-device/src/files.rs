//! The small JSON files of the device (paired servers, history): read whole, replaced atomically
//! through the vault's helper, with a format version so a newer app's file is never overwritten.

use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::device::DeviceError;

/// The only file format version this crate reads and writes.
const FORMAT_VERSION: u32 = 1;

#[derive(serde::Deserialize)]
struct Version {
    version: u32,
}

#[derive(Serialize, serde::Deserialize)]
struct Versioned<T> {
    version: u32,
    #[serde(flatten)]
    body: T,
}

/// A JSON file in the device's directory.
#[derive(Debug)]
pub(crate) struct JsonFile {
    dir: PathBuf,
    path: PathBuf,
}

impl JsonFile {
    /// The file `name` in `dir`.
    pub(crate) fn new(dir: &Path, name: &str) -> Self {
        Self { dir: dir.to_owned(), path: dir.join(name) }
    }

    fn io(&self, action: &'static str, source: io::Error) -> DeviceError {
        DeviceError::Io { action, path: self.path.clone(), source }
    }

    /// The file's content, or the default when there is no file yet.
    pub(crate) fn read<T: DeserializeOwned + Default>(&self) -> Result<T, DeviceError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(T::default()),
            Err(e) => return Err(self.io("read", e)),
        };
        let damaged = |e: serde_json::Error| DeviceError::Damaged {
            path: self.path.clone(),
            reason: e.to_string(),
        };
        let version: Version = serde_json::from_slice(&bytes).map_err(damaged)?;
        if version.version > FORMAT_VERSION {
            return Err(DeviceError::NewerFormat { path: self.path.clone() });
        }
        let file: Versioned<T> = serde_json::from_slice(&bytes).map_err(damaged)?;
        Ok(file.body)
    }

    /// Replaces the file atomically with `body`.
    pub(crate) fn write<T: Serialize>(&self, body: &T) -> Result<(), DeviceError> {
        let file = Versioned { version: FORMAT_VERSION, body };
        let mut bytes =
            serde_json::to_vec_pretty(&file).map_err(|e| self.io("encode", io::Error::other(e)))?;
        bytes.push(b'\n');
        twofold_core::vault::replace_file(&self.dir, &self.path, &bytes)
            .map_err(|e| self.io("write", e))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[derive(Debug, Default, PartialEq, Serialize, serde::Deserialize)]
    struct Body {
        items: Vec<u32>,
    }

    #[test]
    fn a_missing_file_reads_as_empty_and_writes_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let file = JsonFile::new(dir.path(), "f.json");
        assert_eq!(file.read::<Body>().unwrap(), Body::default());
        file.write(&Body { items: vec![1, 2] }).unwrap();
        assert_eq!(file.read::<Body>().unwrap(), Body { items: vec![1, 2] });
        let text = std::fs::read_to_string(dir.path().join("f.json")).unwrap();
        assert!(text.contains("\"version\": 1"), "{text}");
    }

    #[test]
    fn writes_leave_no_temporary_file_and_replace_whole() {
        let dir = tempfile::tempdir().unwrap();
        let file = JsonFile::new(dir.path(), "f.json");
        for n in 0..20 {
            file.write(&Body { items: (0..n).collect() }).unwrap();
        }
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["f.json"]);
        assert_eq!(file.read::<Body>().unwrap().items.len(), 19);
    }

    #[test]
    fn damaged_and_newer_files_are_refused_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let file = JsonFile::new(dir.path(), "f.json");
        std::fs::write(dir.path().join("f.json"), b"{\"version\":1,\"items\":[").unwrap();
        let err = file.read::<Body>().unwrap_err();
        assert!(err.to_string().contains("is damaged"), "{err}");
        std::fs::write(dir.path().join("f.json"), b"{\"version\":2,\"items\":[]}").unwrap();
        let err = file.read::<Body>().unwrap_err();
        assert!(err.to_string().contains("newer"), "{err}");
    }
}
