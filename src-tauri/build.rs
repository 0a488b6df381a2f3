//! Generates Tauri's context (config, capabilities, embedded ../ui) at build time, with
//! permissions for the app's own commands so a capability must grant each one.

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(&[
        "list_accounts",
        "copy_code",
        "scan_image",
        "scan_screen",
        "scan_clipboard",
        "add_scanned",
        "discard_scan",
    ]);
    if let Err(err) = tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
    {
        // A build script reports failure by panicking; the message is what the developer sees.
        panic!("tauri-build failed: {err:#}");
    }
}
