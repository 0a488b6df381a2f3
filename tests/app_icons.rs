//! Service icons end to end: rows of well-known services show their brand icon (matched by issuer
//! and by the domain of the account name) with no network request from the page, a custom icon
//! still wins, an unknown service keeps its letter; an Aegis icon pack imported in Settings is kept
//! in the data directory, its icons win over the built-in ones (also after a restart), and its SVG
//! is shown as an image whose script never runs. Real app under Xvfb over WebDriver, real keyring.

mod support;

use std::io::{Cursor, Write};
use std::time::Duration;

use fantoccini::{Client, Locator};
use support::{
    APPEAR, ONE_APP, TestResult, TestVault, click, content_of, ensure, eventually, invoke,
    open_settings, row_button, script, start_app,
};
use twofold_core::{Account, OtpParams};

/// The pack's id, as its pack.json says.
const PACK_UUID: &str = "3f1c9a52-7d4e-4b6a-9e0f-5a2b8c7d6e41";

/// An SVG that would mark the page if its script or handler ran.
const HOSTILE_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8" width="8" height="8" onload="top.pwned=1"><script>top.pwned=2</script><rect width="8" height="8" fill="#0a0"/></svg>"##;

/// A PNG of `size`×`size` pixels.
fn png(size: u32) -> TestResult<Vec<u8>> {
    let image = image::RgbaImage::from_pixel(size, size, image::Rgba([200, 40, 40, 255]));
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png)?;
    Ok(bytes.into_inner())
}

/// An Aegis icon pack: GitHub's icon (the hostile SVG) and Northwind Bank's (a 12 px PNG).
fn aegis_pack() -> TestResult<Vec<u8>> {
    let manifest = format!(
        r#"{{"uuid":"{PACK_UUID}","name":"Test Icons","version":7,"icons":[
            {{"filename":"icons/Code/GitHub.svg","category":"Code","issuer":["GitHub"]}},
            {{"filename":"icons/Banks/Northwind.png","category":null,"issuer":["Northwind Bank"]}}]}}"#
    );
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let files: [(&str, Vec<u8>); 3] = [
        ("pack.json", manifest.into_bytes()),
        ("icons/Code/GitHub.svg", HOSTILE_SVG.as_bytes().to_vec()),
        ("icons/Banks/Northwind.png", png(12)?),
    ];
    for (name, bytes) in files {
        zip.start_file(name, zip::write::SimpleFileOptions::default())?;
        zip.write_all(&bytes)?;
    }
    Ok(zip.finish()?.into_inner())
}

/// The accounts: GitHub by issuer, GitLab by the account name's domain, an unknown bank, and
/// Google with a custom icon of its own.
struct Accounts {
    github: Account,
    gitlab: Account,
    bank: Account,
    google: Account,
}

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn brand_icons_offline_and_an_imported_icon_pack() -> TestResult {
    let _one = ONE_APP.lock().await;
    let test = TestVault::new()?;
    let otp = OtpParams::default();
    let accounts = Accounts {
        github: test.add("GitHub", "alice", "JBSWY3DPEHPK3PXP", otp)?,
        gitlab: test.add("", "alice@gitlab.com", "MFRGGZDFMZTWQ2LK", otp)?,
        bank: test.add("Northwind Bank", "alice", "NBSWY3DPO5XXE3DE", otp)?,
        google: test.add("Google", "alice@gmail.com", "GEZDGNBVGY3TQOJQ", otp)?,
    };
    test.vault.set_icon(accounts.google.id, Some(&png(8)?))?;

    let client = start_app(test.dir.path()).await?;
    let outcome = async {
        built_in_icons(&client, &accounts).await?;
        import_pack(&client, &test, &accounts).await
    }
    .await;
    client.close().await?;
    outcome?;

    // The pack stays with the vault: a new start shows its icons again.
    let client = start_app(test.dir.path()).await?;
    let outcome = async {
        client
            .wait()
            .at_most(APPEAR)
            .for_element(Locator::Css(&row_button(accounts.bank.id)))
            .await?;
        let width = loaded_width(&client, &accounts.bank).await?;
        ensure!(width == 12, "after a restart the bank's icon is {width} px, not the pack's 12");
        Ok(())
    }
    .await;
    client.close().await?;
    outcome
}

/// The avatar image of `account` once it has loaded: its natural width.
async fn loaded_width(client: &Client, account: &Account) -> TestResult<i64> {
    let css = format!("{} .avatar img.icon", row_button(account.id));
    let probe = format!(
        "const i = document.querySelector('{}'); \
         return i && i.complete && i.src.startsWith('blob:') ? i.naturalWidth : -1;",
        css.replace('\'', "\\'")
    );
    let loaded = eventually(Duration::from_secs(10), "no icon loaded", || async {
        let width = script(client, &probe).await?.as_i64().unwrap_or(-1);
        Ok((width > 0).then_some(width))
    })
    .await;
    if loaded.is_err() {
        // What the avatar holds instead, for the failure message.
        let held = client
            .execute(
                "const a = document.querySelector(arguments[0]); const i = a && a.querySelector('img'); \
                 return [a ? a.outerHTML : null, i ? [i.complete, i.naturalWidth] : null];",
                vec![serde_json::json!(format!("{} .avatar", row_button(account.id)))],
            )
            .await?;
        return Err(format!("no icon loaded for {} (the avatar: {held})", account.label()).into());
    }
    loaded
}

/// What the listing says `account` shows: its `brand.key`, or `None`.
async fn brand_key(client: &Client, account: &Account) -> TestResult<Option<String>> {
    let listing = invoke(client, "list_accounts", serde_json::json!({})).await?;
    let rows = listing["accounts"].as_array().ok_or("the listing has no accounts")?;
    let row = rows
        .iter()
        .find(|row| row["id"] == account.id.to_string())
        .ok_or_else(|| format!("{} is not listed", account.label()))?;
    Ok(row["brand"]["key"].as_str().map(str::to_owned))
}

async fn built_in_icons(client: &Client, accounts: &Accounts) -> TestResult {
    client.wait().at_most(APPEAR).for_element(Locator::Css(&row_button(accounts.bank.id))).await?;
    for account in [&accounts.github, &accounts.gitlab] {
        loaded_width(client, account).await?;
    }
    ensure!(
        brand_key(client, &accounts.github).await?.as_deref() == Some("brand:github"),
        "GitHub is not matched by its issuer"
    );
    ensure!(
        brand_key(client, &accounts.gitlab).await?.as_deref() == Some("brand:gitlab"),
        "alice@gitlab.com is not matched by its domain"
    );
    // An unknown service keeps its letter; a custom icon wins over the brand.
    let letter = content_of(client, &format!("{} .avatar", row_button(accounts.bank.id))).await?;
    ensure!(letter == "N", "the bank's avatar shows {letter:?}, not its letter");
    ensure!(brand_key(client, &accounts.google).await?.is_none(), "a brand over a custom icon");
    let width = loaded_width(client, &accounts.google).await?;
    ensure!(width == 8, "Google shows a {width} px icon, not its own 8 px one");

    // Nothing left the page: every resource it loaded is its own or the app's IPC.
    let outside = script(
        client,
        "return performance.getEntriesByType('resource').map((e) => e.name) \
           .filter((n) => !/^(tauri|ipc|blob|data):|^https?:\\/\\/(tauri|ipc)\\.localhost\\//.test(n));",
    )
    .await?;
    ensure!(outside.as_array().is_some_and(Vec::is_empty), "the page fetched {outside}");
    Ok(())
}

async fn import_pack(client: &Client, test: &TestVault, accounts: &Accounts) -> TestResult {
    let file = test.dir.path().join("test-icons.zip");
    std::fs::write(&file, aegis_pack()?)?;
    open_settings(client).await?;
    let input = client.find(Locator::Css("#icon-pack-file")).await?;
    input.send_keys(&file.display().to_string()).await?;
    let listed = eventually(APPEAR, "the pack never showed in Settings", || async {
        let text = content_of(client, "#icon-packs").await?;
        Ok(text.contains("Test Icons").then_some(text))
    })
    .await?;
    ensure!(listed.contains("version 7") && listed.contains("2 icons"), "Settings say {listed:?}");
    let kept = test.dir.path().join("icon-packs").join(format!("{PACK_UUID}.zip"));
    ensure!(kept.is_file(), "the pack is not kept in the data directory");
    click(client, "#settings-cancel").await?;

    // The pack's icons win over the letter and over the built-in brand.
    let width = loaded_width(client, &accounts.bank).await?;
    ensure!(width == 12, "the bank's icon is {width} px, not the pack's 12");
    let key = format!("pack:{PACK_UUID}:0");
    eventually(Duration::from_secs(5), "GitHub never took the pack's icon", || async {
        Ok((brand_key(client, &accounts.github).await?.as_deref() == Some(key.as_str()))
            .then_some(()))
    })
    .await?;
    // The avatar shows the pack's icon (an SVG image has no natural size of its own to tell by).
    loaded_width(client, &accounts.github).await?;
    let avatar = format!("{} .avatar", row_button(accounts.github.id));
    let shown = client.find(Locator::Css(&avatar)).await?.attr("data-shown").await?;
    ensure!(shown == Some(format!("brand:{key}")), "GitHub's avatar shows {shown:?}");
    // Shown as an image: the SVG is not in the page, and neither its script nor its handler ran.
    let inline = client.find_all(Locator::Css(".avatar svg")).await?;
    ensure!(inline.is_empty(), "an icon's SVG was put into the page");
    let pwned = script(client, "return window.pwned ?? null;").await?;
    ensure!(pwned.is_null(), "the pack's SVG ran a script: {pwned}");
    Ok(())
}
