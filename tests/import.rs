//! Adding accounts from a QR image in the real app: a screenshot-like PNG with an account code and
//! a Wi-Fi code is set on the "Add from image" file input over WebDriver; the preview offers the
//! account and refuses the Wi-Fi code with its message; the account lands in the vault (real
//! keyring) with its secret; scanning the same file again flags the duplicate. `scripts/test`
//! starts the services and exports `TWOFOLD_WEBDRIVER_URL` and `TWOFOLD_APP_BIN`.

mod support;

use support::{APPEAR, TestResult, content_of, ensure, start_app, unix_now};

use std::path::Path;
use std::time::Duration;

use fantoccini::{Client, Locator};
use image::{GrayImage, Luma};
use qrcode::{Color, QrCode};
use twofold_core::keystore::OsKeystore;
use twofold_core::otp;
use twofold_core::vault::Vault;
use twofold_core::{OtpParams, Secret};

const SECRET: &str = "JBSWY3DPEHPK3PXP";
const ACCOUNT: &str =
    "otpauth://totp/Bitrise:ada@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Bitrise";
const WIFI: &str = "WIFI:T:WPA;S:home;P:x;;";

/// Pixels a module: what a page shows at 100 % zoom.
const MODULE: u32 = 6;

/// A light page with the given codes side by side, each with a 4-module quiet zone.
fn page_with_codes(payloads: &[&str]) -> TestResult<GrayImage> {
    let codes = payloads.iter().map(QrCode::new).collect::<Result<Vec<_>, _>>()?;
    let side = |code: &QrCode| (u32::try_from(code.width()).unwrap_or(u32::MAX) + 8) * MODULE;
    let width = codes.iter().map(side).sum::<u32>() + 40;
    let height = codes.iter().map(side).max().unwrap_or(0) + 40;
    let mut page = GrayImage::from_pixel(width, height, Luma([250]));
    let mut left = 20;
    for code in &codes {
        let modules = u32::try_from(code.width())?;
        for (i, color) in code.to_colors().into_iter().enumerate() {
            if color != Color::Dark {
                continue;
            }
            let i = u32::try_from(i)?;
            let (x, y) = (left + (4 + i % modules) * MODULE, 20 + (4 + i / modules) * MODULE);
            for dy in 0..MODULE {
                for dx in 0..MODULE {
                    page.put_pixel(x + dx, y + dy, Luma([20]));
                }
            }
        }
        left += side(code);
    }
    Ok(page)
}

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn an_image_file_adds_its_account_refuses_wifi_and_flags_a_second_scan() -> TestResult {
    let dir = tempfile::tempdir()?;
    let image = dir.path().join("screenshot.png");
    page_with_codes(&[ACCOUNT, WIFI])?.save(&image)?;
    let data = dir.path().join("data");
    let vault = Vault::open(&data, OsKeystore::default())?;

    let client = start_app(&data).await?;
    let outcome = check_import(&client, &vault, &image).await;
    client.close().await?;
    // The keyring outlives the vault directory: take the test's entries back out.
    for account in vault.accounts()? {
        vault.remove(account.id)?;
    }
    outcome
}

async fn check_import(client: &Client, vault: &Vault, image: &Path) -> TestResult {
    let path = image.to_str().ok_or("temporary path is not UTF-8")?;
    client.wait().at_most(APPEAR).for_element(Locator::Css("#empty:not([hidden])")).await?;

    // The file input is named by its label, as a screen reader announces it.
    let input = client.find(Locator::Css("#image-file")).await?;
    let label = content_of(client, r#"label[for="image-file"]"#).await?;
    ensure!(label == "Add from image", "the file input is labelled {label:?}");
    input.send_keys(path).await?;

    // The preview offers the account, checked, and names the Wi-Fi code as not an account.
    let box_css = r#"#scan[open] .scan-entry input[type="checkbox"]"#;
    let checkbox = client.wait().at_most(APPEAR).for_element(Locator::Css(box_css)).await?;
    let entries = client.find_all(Locator::Css("#scan .scan-entry")).await?;
    ensure!(entries.len() == 1, "the preview lists {} entries", entries.len());
    let shown = content_of(client, "#scan .scan-label").await?;
    ensure!(shown == "Bitrise (ada@example.com)", "the preview names {shown:?}");
    ensure!(checkbox.is_selected().await?, "the new account is not checked");
    ensure!(checkbox.is_enabled().await?, "the new account cannot be chosen");
    let refused = content_of(client, "#scan-problems").await?;
    ensure!(
        refused.contains("QR code 2: this QR code holds Wi-Fi network settings, not an account"),
        "the preview says {refused:?} about the Wi-Fi code"
    );
    // The secret stays in Rust: the page never sees it.
    let html = client.source().await?;
    ensure!(!html.contains(SECRET), "the secret is in the page");

    client.find(Locator::Css("#scan-add")).await?.click().await?;
    client
        .wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::Css("#scan:not([open])"))
        .await?;
    client
        .wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::Css("button.account"))
        .await?;

    // The vault holds the account with the secret the code carried.
    let accounts = vault.accounts()?;
    let [account] = accounts.as_slice() else {
        return Err(format!("the vault holds {} accounts", accounts.len()).into());
    };
    ensure!(
        account.issuer == "Bitrise" && account.name == "ada@example.com",
        "the vault holds {:?}",
        account.label()
    );
    let now = unix_now();
    let stored = otp::generate(&vault.secret(account)?, &account.otp, now)?;
    let expected = otp::generate(&Secret::from_base32(SECRET)?, &OtpParams::default(), now)?;
    ensure!(stored == expected, "the stored secret makes other codes");
    let row = format!(r#"button.account[data-account-id="{}"] .issuer"#, account.id);
    ensure!(content_of(client, &row).await? == "Bitrise", "the new row does not show Bitrise");

    // The same file again: the account is flagged and cannot be chosen.
    let input = client.find(Locator::Css("#image-file")).await?;
    input.send_keys(path).await?;
    let flagged = r#"#scan[open] .scan-entry.duplicate input[type="checkbox"]"#;
    let checkbox = client.wait().at_most(APPEAR).for_element(Locator::Css(flagged)).await?;
    ensure!(!checkbox.is_enabled().await?, "a duplicate can be chosen");
    let note = content_of(client, "#scan .scan-note").await?;
    ensure!(note == "already in Twofold", "the duplicate is flagged {note:?}");
    client.find(Locator::Css("#scan-cancel")).await?.click().await?;
    client
        .wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::Css("#scan:not([open])"))
        .await?;
    ensure!(vault.accounts()?.len() == 1, "the duplicate was added");
    Ok(())
}
