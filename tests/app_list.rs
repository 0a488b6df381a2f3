//! The account list end to end: letter avatars and custom icons, issuer and account name, the
//! grouped code with the next one beside it, the countdown ring's warning colour in the last five
//! seconds, the HOTP "next code" button, and a narrow window breaking none of it over two lines.
//! Real app under Xvfb over WebDriver, real keyring.

mod support;

use std::io::Cursor;
use std::time::Duration;

use fantoccini::{Client, Locator};
use support::{
    APPEAR, TestResult, TestVault, content_of, ensure, eventually, row_button, row_item, script,
    start_app, unix_now,
};
use twofold_core::otp::{self, Kind};
use twofold_core::{Account, OtpParams};

/// The RFC 4226 key, "12345678901234567890".
const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

/// A small opaque PNG, as a person's icon file would be.
fn icon_png() -> TestResult<Vec<u8>> {
    let image = image::RgbaImage::from_pixel(8, 8, image::Rgba([200, 40, 40, 255]));
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png)?;
    Ok(bytes.into_inner())
}

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn rows_show_avatar_or_icon_code_next_code_warning_ring_and_hotp_next() -> TestResult {
    let test = TestVault::new()?;
    let plain =
        test.add("Example", "alice@example.com", "JBSWY3DPEHPK3PXP", OtpParams::default())?;
    let iconic = test.add("Iconic", "bob", "MFRGGZDFMZTWQ2LK", OtpParams::default())?;
    test.vault.set_icon(iconic.id, Some(&icon_png()?))?;
    let seven = OtpParams { period: 7, ..OtpParams::default() };
    let short = test.add("Short", "carol", "NBSWY3DPO5XXE3DE", seven)?;
    let counter = OtpParams { kind: Kind::Hotp, ..OtpParams::default() };
    let hotp = test.add("Counter", "dave", RFC_SECRET, counter)?;

    let client = start_app(test.dir.path()).await?;
    let outcome = check_rows(&client, &test, [plain, iconic, short, hotp]).await;
    client.close().await?;
    outcome
}

async fn check_rows(
    client: &Client,
    test: &TestVault,
    [plain, iconic, short, hotp]: [Account; 4],
) -> TestResult {
    client.wait().at_most(APPEAR).for_element(Locator::Css(&row_button(plain.id))).await?;

    // A letter avatar by default, the issuer's first letter.
    let avatar = format!("{} .avatar", row_button(plain.id));
    let letter = content_of(client, &avatar).await?;
    ensure!(letter == "E", "the avatar shows {letter:?}, not E");
    let images = client.find_all(Locator::Css(&format!("{avatar} img"))).await?;
    ensure!(images.is_empty(), "an account without an icon shows an image");

    // A custom icon is read from the data directory and drawn (it loads under the CSP).
    let icon_css = format!("{} .avatar img.icon", row_button(iconic.id));
    let probe = format!(
        "const i = document.querySelector('{}'); return i ? i.complete && i.naturalWidth : -1;",
        icon_css.replace('\'', "\\'")
    );
    let width = eventually(Duration::from_secs(5), "the custom icon never loaded", || async {
        let width = script(client, &probe).await?.as_i64().unwrap_or(-1);
        Ok((width > 0).then_some(width))
    })
    .await?;
    ensure!(width == 8, "the icon is {width} px wide, not the 8 px of its file");

    // Issuer and account name.
    let issuer = content_of(client, &format!("{} .issuer", row_button(plain.id))).await?;
    let name = content_of(client, &format!("{} .name", row_button(plain.id))).await?;
    ensure!(issuer == "Example" && name == "alice@example.com", "row shows {issuer:?} {name:?}");

    // The code of now, grouped, and the next period's code beside it.
    let code = content_of(client, &format!("{} .code", row_button(plain.id))).await?;
    let next = content_of(client, &format!("{} .next", row_button(plain.id))).await?;
    ensure!(
        code.len() == 7 && code.as_bytes().get(3) == Some(&b' '),
        "code {code:?} is not grouped"
    );
    ensure!(
        next.len() == 7 && next.as_bytes().get(3) == Some(&b' '),
        "next {next:?} is not grouped"
    );
    let secret = test.vault.secret(&plain)?;
    let now = unix_now();
    let pairs: Vec<(String, String)> = [now - 30, now, now + 30]
        .into_iter()
        .map(|t| {
            let made = otp::generate(&secret, &plain.otp, t)?;
            Ok((made.current, made.next))
        })
        .collect::<TestResult<_>>()?;
    let shown = (code.replace(' ', ""), next.replace(' ', ""));
    ensure!(pairs.contains(&shown), "the row shows {shown:?}, not a code and its successor");

    // The ring turns to the warning colour for the last five seconds only.
    let ring = format!("{} .countdown", row_button(short.id));
    let state = format!(
        "const r = document.querySelector('{}'); return [Number(r.dataset.secondsLeft), \
         r.classList.contains('ending'), getComputedStyle(r.querySelector('.remaining')).stroke];",
        ring.replace('\'', "\\'")
    );
    let read = || async {
        let value = script(client, &state).await?;
        let left = value[0].as_u64().unwrap_or(0);
        let ending = value[1].as_bool().unwrap_or(false);
        let stroke = value[2].as_str().unwrap_or_default().to_owned();
        TestResult::Ok((left, ending, stroke))
    };
    let calm =
        eventually(Duration::from_secs(10), "the 7 s ring never showed 6 or 7 s", || async {
            let (left, ending, stroke) = read().await?;
            Ok((left > 5).then_some((ending, stroke)))
        })
        .await?;
    let warning = eventually(Duration::from_secs(10), "the ring never reached 5 s", || async {
        let (left, ending, stroke) = read().await?;
        Ok((left <= 5 && left > 0).then_some((ending, stroke)))
    })
    .await?;
    ensure!(
        !calm.0 && warning.0,
        "warning class: {} above 5 s, {} at 5 s or less",
        calm.0,
        warning.0
    );
    ensure!(calm.1 != warning.1, "the ring keeps its colour {:?} in the last seconds", calm.1);

    // HOTP: no ring, the code at the counter, and a button that moves to the next code.
    let hotp_next = format!("{} .hotp-next", row_item(hotp.id));
    let totp_next =
        client.find(Locator::Css(&format!("{} .hotp-next", row_item(plain.id)))).await?;
    ensure!(!totp_next.is_displayed().await?, "a time-based row offers a next-code button");
    let hotp_code = format!("{} .code", row_button(hotp.id));
    // RFC 4226 appendix D: counters 0, 1 and 2.
    let first = content_of(client, &hotp_code).await?;
    let second = content_of(client, &format!("{} .next", row_button(hotp.id))).await?;
    ensure!(first == "755 224" && second == "287 082", "the HOTP row shows {first:?} / {second:?}");
    client.find(Locator::Css(&hotp_next)).await?.click().await?;
    eventually(Duration::from_secs(5), "the HOTP code did not move on", || async {
        Ok((content_of(client, &hotp_code).await? == "287 082").then_some(()))
    })
    .await?;
    let stored = test.vault.account(hotp.id)?.otp.counter;
    ensure!(stored == 1, "the vault's counter is {stored} after one next, not 1");
    let next_now = content_of(client, &format!("{} .next", row_button(hotp.id))).await?;
    ensure!(next_now == "359 152", "after next the row shows next {next_now:?}");
    narrow_window_breaks_nothing(client).await
}

/// At the window's default width (420 px) no code, next code or header button breaks over two
/// lines, nothing scrolls sideways, and the issuer is not cut for the account name's sake.
async fn narrow_window_breaks_nothing(client: &Client) -> TestResult {
    let layout = script(
        client,
        "const lines = (el) => { const r = document.createRange(); r.selectNodeContents(el); \
           return new Set([...r.getClientRects()].map((b) => Math.round(b.top))).size; }; \
         const broken = [...document.querySelectorAll('#accounts .code, #accounts .next, .actions .action')] \
           .filter((el) => el.offsetParent && lines(el) > 1).map((el) => el.className + ': ' + el.textContent); \
         const cut = [...document.querySelectorAll('#accounts .issuer')] \
           .filter((el) => el.scrollWidth > el.clientWidth).map((el) => el.textContent); \
         return { width: innerWidth, broken, cut, \
           sideways: document.documentElement.scrollWidth > innerWidth };",
    )
    .await?;
    ensure!(
        layout["width"].as_u64().is_some_and(|w| w <= 420),
        "the window is not narrow: {layout}"
    );
    ensure!(layout["broken"] == serde_json::json!([]), "broken over two lines: {layout}");
    ensure!(layout["cut"] == serde_json::json!([]), "issuers cut short: {layout}");
    ensure!(layout["sideways"] == false, "the page scrolls sideways: {layout}");
    Ok(())
}
