//! The `twofold-server` binary: init, service add / revoke, serve.

#![allow(clippy::unwrap_used)] // test support: a failed step should stop the test loudly

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use twofold_protocol::client::ServiceClient;

fn run(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_twofold-server"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn init_service_add_and_serve() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("twofold-server.toml");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let url = format!("http://{listen}/");
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();

    let init =
        run(&config, &["init", "--data-dir", data, "--listen", &listen, "--public-url", &url]);
    assert!(init.status.success(), "{}", text(&init.stderr));
    assert!(text(&init.stderr).contains("fingerprint"), "{}", text(&init.stderr));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let key = dir.path().join("data/server.key");
        assert_eq!(std::fs::metadata(key).unwrap().permissions().mode() & 0o777, 0o600);
    }
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

    let mut server = Command::new(env!("CARGO_BIN_EXE_twofold-server"))
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .spawn()
        .unwrap();
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
    assert!(created.link.starts_with("twofold+pair://"), "{}", created.link);

    let revoke = run(&config, &["service", "revoke", "Example"]);
    assert!(revoke.status.success(), "{}", text(&revoke.stderr));
    assert!(service.create_pairing("alice").await.is_err());
    server.kill().unwrap();
    server.wait().unwrap();
}
