//! Generates Tauri's context (config, capabilities, embedded ../ui) at build time, with
//! permissions for the app's own commands so a capability must grant each one.

fn main() {
    // The UI is embedded by `generate_context!`: a change there must rebuild the app.
    println!("cargo:rerun-if-changed=../ui");
    let manifest = tauri_build::AppManifest::new().commands(&[
        "list_accounts",
        "copy_code",
        "next_hotp",
        "search_accounts",
        "add_account",
        "edit_account",
        "set_favourite",
        "reorder_accounts",
        "set_icon",
        "account_icon",
        "delete_account",
        "restore_account",
        "host_name",
        "trashed_accounts",
        "purge_account",
        "account_qr",
        "get_settings",
        "set_settings",
        "scan_image",
        "scan_screen",
        "scan_clipboard",
        "scan_text",
        "add_scanned",
        "discard_scan",
        "lock_status",
        "unlock",
        "retry_keyring",
        "use_secrets_file",
        "move_keystore",
        "cost_levels",
        "lock_now",
        "set_passphrase",
        "touch",
        "set_desktop_settings",
        "autostart_enabled",
        "set_autostart",
        "tray_available",
        "close_window",
        "quit",
        "open_import",
        "unlock_import",
        "default_export_path",
        "choose_export_path",
        "export_file",
        "export_migration",
        "backup_status",
        "set_backups",
        "backup_now",
        "restore_backup",
        "pairing_preview",
        "pair",
        "paired_servers",
        "unpair",
        "pending_requests",
        "waiting_requests",
        "decide",
        "approval_history",
        "offline_code",
    ]);
    if let Err(err) = tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
    {
        // A build script reports failure by panicking; the message is what the developer sees.
        panic!("tauri-build failed: {err:#}");
    }
}
