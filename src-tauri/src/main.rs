//! The `twofold-app` binary: everything lives in the library so it can be tested.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // Answered before GTK starts, so it works without a display (a package's smoke test, a person
    // checking what is installed).
    if std::env::args_os().skip(1).any(|arg| arg == "--version") {
        #[expect(clippy::print_stdout, reason = "the version is the command's output")]
        {
            println!("twofold-app {}", env!("CARGO_PKG_VERSION"));
        }
        return;
    }
    twofold_app::run();
}
