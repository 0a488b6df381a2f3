//! `twofold scan` on generated image files, the real X clipboard and the real X screen (Xvfb).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use image::{ImageFormat, Rgb, RgbImage};
use qrcode::{Color, EcLevel, QrCode};
use support::{Env, text};
use twofold_core::{migration, uri};

/// RFC 6238 appendix B's SHA1 key in base32.
const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const ACCOUNT: &str = "otpauth://totp/Example:alice@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Example";
const WIFI: &str = "WIFI:S:Home network;T:WPA;P:correct horse battery;;";

/// Where the code is drawn on the page, and its module size, so the bbox can be checked.
const AT: (u32, u32) = (140, 90);
const MODULE: u32 = 6;

/// A light page (a web page's screenshot) with `text` drawn as a QR code at `AT`.
fn page_with_code(text: &str) -> RgbImage {
    let mut page = RgbImage::from_pixel(640, 480, Rgb([246, 246, 246]));
    let code =
        QrCode::with_error_correction_level(text, EcLevel::M).expect("the text fits a QR code");
    let size = code.width() as u32;
    for y in 0..(size + 8) * MODULE {
        for x in 0..(size + 8) * MODULE {
            page.put_pixel(AT.0 - 4 * MODULE + x, AT.1 - 4 * MODULE + y, Rgb([255, 255, 255]));
        }
    }
    for (i, colour) in code.to_colors().into_iter().enumerate() {
        if colour == Color::Dark {
            let (mx, my) = (i as u32 % size, i as u32 / size);
            for y in 0..MODULE {
                for x in 0..MODULE {
                    page.put_pixel(
                        AT.0 + mx * MODULE + x,
                        AT.1 + my * MODULE + y,
                        Rgb([20, 20, 20]),
                    );
                }
            }
        }
    }
    page
}

/// The side in pixels of `text`'s code as `page_with_code` draws it.
fn code_side(text: &str) -> u32 {
    QrCode::with_error_correction_level(text, EcLevel::M).expect("fits").width() as u32 * MODULE
}

fn save(env: &Env, name: &str, image: &RgbImage, format: ImageFormat) -> PathBuf {
    let path = env.dir.path().join(name);
    image.save_with_format(&path, format).expect("the test image is written");
    path
}

/// `twofold scan ARGS --json`, asserting exit 0 and nothing on stdout but the JSON array.
fn scan_json(env: &Env, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["scan", "--json"];
    all.extend_from_slice(args);
    let out = env.run(&all, "");
    assert!(out.status.success(), "scan {args:?} failed: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is exactly one JSON array")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

#[test]
fn json_gives_the_payload_kind_and_where_the_code_is() {
    let env = Env::new();
    for (name, format) in [("code.png", ImageFormat::Png), ("code.jpg", ImageFormat::Jpeg)] {
        let file = save(&env, name, &page_with_code(ACCOUNT), format);
        let found = scan_json(&env, &[path(&file)]);
        assert_eq!(found.len(), 1, "{name}: {found:?}");
        assert_eq!(found[0]["text"], ACCOUNT);
        assert_eq!(found[0]["kind"], "account");
        let bbox: Vec<u64> =
            found[0]["bbox"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        let side = u64::from(code_side(ACCOUNT));
        let near = |got: u64, want: u64| got.abs_diff(want) <= u64::from(2 * MODULE);
        assert!(
            near(bbox[0], AT.0.into())
                && near(bbox[1], AT.1.into())
                && near(bbox[2], side)
                && near(bbox[3], side),
            "{name}: bbox {bbox:?}, code at {AT:?} with side {side}"
        );
    }
    assert!(!env.data_dir().exists(), "a scan without --add creates no vault");
}

#[test]
fn image_without_a_code_gives_an_empty_list_with_json_and_advice_without() {
    let env = Env::new();
    let file = save(
        &env,
        "blank.png",
        &RgbImage::from_pixel(300, 200, Rgb([250, 250, 250])),
        ImageFormat::Png,
    );
    assert!(scan_json(&env, &[path(&file)]).is_empty());

    let out = env.run(&["scan", path(&file)], "");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("no QR code found") && err.contains("larger capture"), "{err}");
    assert!(err.contains("not cropped"), "{err}");
}

#[test]
fn unreadable_file_fails_with_its_name_and_the_reason() {
    let env = Env::new();
    let garbage = env.dir.path().join("garbage.png");
    std::fs::write(&garbage, b"this is not an image at all").unwrap();
    for args in [vec!["scan", path(&garbage)], vec!["scan", "--json", path(&garbage)]] {
        let out = env.run(&args, "");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(out.stdout.is_empty(), "nothing on stdout: {}", text(&out.stdout));
        let err = text(&out.stderr);
        assert!(err.contains("garbage.png") && err.contains("not an image"), "{err}");
    }
    let missing = env.dir.path().join("missing.png");
    let out = env.run(&["scan", path(&missing)], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot read") && text(&out.stderr).contains("missing.png"));
}

#[test]
fn lines_name_each_code_and_never_print_the_secret() {
    let env = Env::new();
    let file = save(&env, "code.png", &page_with_code(ACCOUNT), ImageFormat::Png);
    let out = env.run(&["scan", path(&file)], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = text(&out.stdout);
    assert_eq!(lines.trim(), "QR code 1: account: Example (alice@example.com) [totp]");
    assert!(!lines.contains(SECRET) && !text(&out.stderr).contains(SECRET));
}

#[test]
#[ignore = "needs the services scripts/test starts"]
fn add_adds_the_account_and_its_codes_work() {
    let env = Env::new();
    let file = save(&env, "code.jpg", &page_with_code(ACCOUNT), ImageFormat::Jpeg);
    let out = env.run(&["scan", "--add", path(&file)], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Added Example (alice@example.com)"));
    // RFC 6238 appendix B: SHA1, T = 59 s, 6 digits → 287082.
    assert_eq!(env.ok(&["code", "example", "--at", "59"], "").trim(), "287082");

    let again = env.run(&["scan", "--add", path(&file)], "");
    assert_eq!(again.status.code(), Some(1), "a duplicate is skipped");
    assert!(text(&again.stderr).contains("skipped Example (alice@example.com)"));
    assert_eq!(env.accounts().len(), 1);
}

#[test]
#[ignore = "needs the services scripts/test starts"]
fn wifi_code_is_refused_and_nothing_is_added() {
    let env = Env::new();
    let file = save(&env, "wifi.png", &page_with_code(WIFI), ImageFormat::Png);
    let found = scan_json(&env, &[path(&file)]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["kind"], "other");

    let out = env.run(&["scan", "--add", path(&file)], "");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("QR code 1: this QR code holds Wi-Fi network settings, not an account"),
        "{err}"
    );
    assert!(!err.contains("correct horse"), "the Wi-Fi password is not echoed: {err}");
    assert!(env.accounts().is_empty());
}

#[test]
#[ignore = "needs the services scripts/test starts"]
fn migration_batch_adds_every_account() {
    let env = Env::new();
    let credentials: Vec<_> = ["GitHub:alice", "GitLab:bob", "Bank:carol"]
        .iter()
        .map(|label| {
            let issuer = label.split(':').next().unwrap();
            uri::parse(&format!("otpauth://totp/{label}?secret={SECRET}&issuer={issuer}")).unwrap()
        })
        .collect();
    let encoded = migration::encode(&credentials, 7);
    assert_eq!(encoded.uris.len(), 1);
    let file = save(&env, "batch.png", &page_with_code(encoded.uris[0].as_str()), ImageFormat::Png);

    let found = scan_json(&env, &[path(&file)]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["kind"], "batch");

    let out = env.run(&["scan", "--add", path(&file)], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut issuers: Vec<String> =
        env.accounts().iter().map(|a| a["issuer"].as_str().unwrap().to_owned()).collect();
    issuers.sort();
    assert_eq!(issuers, ["Bank", "GitHub", "GitLab"]);
}

/// A helper process (xclip, an image viewer) killed when the test ends, even on failure.
struct Helper(Child);

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `twofold scan --json ARGS` until it finds something or `seconds` pass (the X server
/// needs a moment to show a window or serve a selection).
fn scan_until_found(env: &Env, args: &[&str], seconds: u64) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        let mut all = vec!["scan", "--json"];
        all.extend_from_slice(args);
        let mut cmd = env.command(&all);
        // The tests' X server, whatever session the test runner sits in.
        cmd.env_remove("WAYLAND_DISPLAY").env_remove("XDG_SESSION_TYPE");
        let out = cmd.output().expect("twofold runs");
        if out.status.success() {
            let found: Vec<serde_json::Value> =
                serde_json::from_slice(&out.stdout).expect("stdout is one JSON array");
            if !found.is_empty() || Instant::now() > deadline {
                return found;
            }
        } else if Instant::now() > deadline {
            panic!("twofold scan {args:?} failed: {}", text(&out.stderr));
        }
        sleep(Duration::from_millis(300));
    }
}

#[test]
#[ignore = "needs the services scripts/test starts"]
fn clipboard_image_is_scanned() {
    let env = Env::new();
    let file = save(&env, "clip.png", &page_with_code(ACCOUNT), ImageFormat::Png);
    // xclip stays in the background to serve the selection until it is killed.
    let xclip = Helper(
        Command::new("xclip")
            .args(["-selection", "clipboard", "-t", "image/png", "-i", path(&file)])
            .stdin(Stdio::null())
            .spawn()
            .expect("xclip is installed by scripts/test"),
    );
    let found = scan_until_found(&env, &["--clipboard"], 10);
    drop(xclip);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["text"], ACCOUNT);
    assert_eq!(found[0]["kind"], "account");
}

#[test]
#[ignore = "needs the services scripts/test starts"]
fn screen_shows_a_window_with_a_code_and_scan_finds_it() {
    let env = Env::new();
    let file = save(&env, "screen.png", &page_with_code(ACCOUNT), ImageFormat::Png);
    // ImageMagick's viewer opens the image in a window at the top left of the Xvfb screen.
    let viewer = Helper(
        Command::new("display")
            .args(["-geometry", "+40+30", path(&file)])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ImageMagick's display is installed by scripts/test"),
    );
    let found = scan_until_found(&env, &["--screen"], 15);
    drop(viewer);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["text"], ACCOUNT);
    let x = found[0]["bbox"][0].as_u64().unwrap();
    assert!(x >= u64::from(AT.0), "the code is where the window shows it: {found:?}");
}
