//! `twofold`: the command-line face of the Twofold vault. Every rule lives in twofold-core; this file
//! parses arguments, calls the library and prints.

use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use twofold_core::account::find;
use twofold_core::backup::{self, BackupError, KdfCost, Sealing, auto};
use twofold_core::export::{self, AegisKeys, EnteKeys, TwoFasKeys};
use twofold_core::import::{self, Format, ImportError, Imported, Password, Place};
use twofold_core::keystore::VaultKeystore;
use twofold_core::qr::{self, Found, PayloadKind};
use twofold_core::vault::{self as vault_dir, Vault as VaultOver, VaultError};
use twofold_core::{Account, Algorithm, Credential, Kind, OtpParams, Secret, migration, otp, uri};

mod device;
mod keystore;
mod passphrase;
mod trash;
mod vault_file;

/// The vault over the keystore it chose (the system keyring or the secrets file).
type Vault = VaultOver<VaultKeystore>;

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  the request failed: nothing or more than one account matched, invalid input, a duplicate,
     an unreadable image, no QR code found (scan without --json), a code that is not an account
     (scan --add)
  2  the command line was wrong
  3  the vault could not be used: keyring unavailable or locked, data file unreadable or damaged,
     the secrets file's passphrase missing or wrong (for twofold device: the device's files or keys)

After each change to the vault (add, remove, rename, import, restore, an HOTP code), an encrypted
backup is written when automatic backups are on (twofold backup --auto on).

Environment:
  TWOFOLD_DATA_DIR         where the account list lives (default: $XDG_DATA_HOME/twofold)
  TWOFOLD_PASSPHRASE_FILE  a file whose first line is the passphrase of the vault's secrets file
                           (or of --vault-file); the passphrase itself never goes in a variable
  TWOFOLD_VAULT_FILE       a Twofold backup used as a read-only vault by code and list
  TWOFOLD_LOG              log filter for stderr, e.g. debug (default: warn)";

/// Two-factor codes from the terminal. Secrets stay in the system keyring or in an encrypted file.
#[derive(Parser)]
#[command(name = "twofold", version, after_help = EXIT_CODES)]
struct Cli {
    /// A file whose first line is the passphrase of the vault's secrets file (or of --vault-file);
    /// default: $TWOFOLD_PASSPHRASE_FILE, else a hidden prompt.
    #[arg(long, global = true, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find the QR codes in image files, on the screen or on the clipboard; --add adds their accounts.
    Scan(ScanArgs),
    /// The trusted device in the terminal: pair with a Twofold server, list, answer sign-ins.
    Device {
        #[command(subcommand)]
        command: device::DeviceCommand,
    },
    /// Where the secrets are kept: show, choose for a new vault, or move them all.
    Keystore {
        #[command(subcommand)]
        command: keystore::KeystoreCommand,
    },
    #[command(flatten)]
    Vault(VaultCommand),
}

/// The commands that work on the vault (a scan opens it only to add).
#[derive(Subcommand)]
enum VaultCommand {
    /// Add an account from an otpauth:// (or otpauth-migration://) URI, or by issuer and account.
    ///
    /// The URI comes as the argument or on stdin (stdin keeps the secret out of the process list).
    /// With --issuer/--account the base32 secret is read from stdin or a hidden prompt.
    Add {
        /// otpauth:// or otpauth-migration:// URI; read from stdin when absent.
        uri: Option<String>,
        /// Issuer for a manual add (e.g. GitHub).
        #[arg(long, conflicts_with = "uri")]
        issuer: Option<String>,
        /// Account name for a manual add (e.g. alice@example.com).
        #[arg(long, conflicts_with = "uri")]
        account: Option<String>,
        /// Code kind for a manual add.
        #[arg(long, value_enum, default_value_t = KindArg::Totp, requires = "account")]
        kind: KindArg,
        /// Hash algorithm for a manual add.
        #[arg(long, value_enum, default_value_t = AlgorithmArg::Sha1, requires = "account")]
        algorithm: AlgorithmArg,
        /// Code length for a manual add.
        #[arg(long, default_value_t = 6, requires = "account")]
        digits: u8,
        /// TOTP period in seconds for a manual add.
        #[arg(long, default_value_t = 30, requires = "account")]
        period: u32,
        /// HOTP starting counter for a manual add.
        #[arg(long, default_value_t = 0, requires = "account")]
        counter: u64,
    },
    /// List accounts (never secrets).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Read the accounts from this Twofold backup instead (read-only; default
        /// $TWOFOLD_VAULT_FILE).
        #[arg(long, value_name = "FILE")]
        vault_file: Option<PathBuf>,
    },
    /// Print the current code of the one account matching QUERY (issuer, account name or id).
    ///
    /// For HOTP accounts this uses the counter and saves the next one.
    Code {
        /// Issuer, account name, "Issuer (name)" or id; a unique part of one is enough.
        query: String,
        /// Print the code of the next period instead.
        #[arg(long)]
        next: bool,
        /// Compute the code at this Unix time instead of now (TOTP and Steam).
        #[arg(long, value_name = "UNIX_SECONDS")]
        at: Option<u64>,
        /// Take the account from this Twofold backup instead, read-only (a CI runner's vault;
        /// default $TWOFOLD_VAULT_FILE).
        #[arg(long, value_name = "FILE")]
        vault_file: Option<PathBuf>,
    },
    /// Remove the one account matching QUERY (its keyring entry too).
    Remove {
        /// Issuer, account name, "Issuer (name)" or id.
        query: String,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
    },
    /// Accounts deleted in the app in the last 30 days: list them, or restore one.
    Trash {
        #[command(subcommand)]
        command: trash::TrashCommand,
    },
    /// Change the issuer and/or account name of the one account matching QUERY.
    Rename {
        /// Issuer, account name, "Issuer (name)" or id.
        query: String,
        /// New issuer.
        #[arg(long)]
        issuer: Option<String>,
        /// New account name.
        #[arg(long)]
        account: Option<String>,
    },
    /// Add every account of another app's export, or of a text file of otpauth:// URIs.
    ///
    /// Reads Twofold backups, exports of Aegis, 2FAS, andOTP, Bitwarden, Ente Auth, FreeOTP+ and
    /// Raivo OTP, and text or CSV holding otpauth:// and otpauth-migration:// URIs; the format is
    /// recognised from the content. An encrypted export asks for its password (hidden) on a
    /// terminal.
    Import {
        /// The export file ("-" = stdin).
        file: PathBuf,
        /// Read the file as this format: twofold, aegis, 2fas, andotp, bitwarden, ente,
        /// freeotp-plus, raivo or text.
        #[arg(long, value_name = "FORMAT")]
        format: Option<Format>,
        /// Read the export's password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Print every account with its secret: otpauth URIs, Google Authenticator migration URIs, or
    /// an Aegis, 2FAS or Ente Auth export (--encrypt protects those with a password).
    Export {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExportFormat::Uris)]
        format: ExportFormat,
        /// Encrypt the Aegis, 2FAS or Ente export with a password (asked on a terminal, or
        /// --password-stdin).
        #[arg(long)]
        encrypt: bool,
        /// Read the export's password from the first line of stdin.
        #[arg(long, requires = "encrypt")]
        password_stdin: bool,
    },
    /// Write an encrypted backup of every account (metadata and secrets), or turn automatic
    /// backups on or off.
    ///
    /// The passphrase is asked twice on a terminal, or read from stdin with --password-stdin.
    /// With --auto on, a backup is written after each change into a folder (default
    /// <data dir>/backups), keeping the newest --keep; its passphrase is kept in the system keyring.
    Backup {
        /// The file to write ("-" = stdout; default: twofold-DATE-TIME.backup here).
        #[arg(conflicts_with = "auto")]
        file: Option<PathBuf>,
        /// Read the passphrase from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
        /// Turn automatic backups on or off.
        #[arg(long, value_enum)]
        auto: Option<Switch>,
        /// How many automatic backups to keep (default 10).
        #[arg(long, value_name = "N", requires = "auto", value_parser = clap::value_parser!(u32).range(1..))]
        keep: Option<u32>,
        /// Folder for automatic backups.
        #[arg(long, value_name = "DIR", requires = "auto")]
        dir: Option<PathBuf>,
    },
    /// Add the accounts of a Twofold backup; accounts already here are reported and skipped.
    Restore {
        /// The backup file (an automatic one from `twofold backups`, or one you wrote).
        file: PathBuf,
        /// Read the passphrase from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the automatic backups, newest first, with their dates and account counts.
    Backups,
    /// Compare the account list with the keyring and report what is out of step (deletes nothing).
    Check,
}

#[derive(Args)]
struct ScanArgs {
    /// Image files: PNG, JPEG, WebP, BMP, GIF or TIFF.
    #[arg(value_name = "FILE", required_unless_present_any = ["screen", "clipboard"])]
    files: Vec<PathBuf>,
    /// Scan every screen (in a Wayland session the desktop may ask first).
    #[arg(long, conflicts_with_all = ["files", "clipboard"])]
    screen: bool,
    /// Scan the image on the clipboard.
    #[arg(long, conflicts_with = "files")]
    clipboard: bool,
    /// Print [{"text", "kind", "bbox": [x, y, w, h]}] on stdout and nothing else (texts hold secrets).
    #[arg(long, conflicts_with = "add")]
    json: bool,
    /// Add the accounts the codes hold (duplicates are skipped).
    #[arg(long)]
    add: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum KindArg {
    Totp,
    Hotp,
    Steam,
}

#[derive(Clone, Copy, ValueEnum)]
enum AlgorithmArg {
    Sha1,
    Sha256,
    Sha512,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    /// One otpauth:// URI per line.
    Uris,
    /// otpauth-migration:// URIs, each small enough for one QR code (Google Authenticator's import).
    Migration,
    /// Aegis's JSON export (plain, or with --encrypt as Aegis encrypts it).
    Aegis,
    /// 2FAS Authenticator's .2fas backup (plain, or with --encrypt as 2FAS encrypts it).
    #[value(name = "2fas")]
    TwoFas,
    /// Ente Auth's export (plain text, or with --encrypt Ente's encrypted JSON).
    Ente,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Switch {
    On,
    Off,
}

/// A failure that should exit with 1 (the request) rather than 3 (the vault).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct RequestFailed(String);

/// The vault's secrets cannot be opened (no passphrase, an unreadable vault file): exits with 3.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Locked(String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TWOFOLD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(io::stderr)
        .init();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("twofold: {err:#}");
            let vault_failed = err.chain().any(|e| {
                e.is::<Locked>()
                    || matches!(
                        e.downcast_ref::<twofold_device::DeviceError>(),
                        Some(
                            twofold_device::DeviceError::Keystore(_)
                                | twofold_device::DeviceError::Io { .. }
                                | twofold_device::DeviceError::Damaged { .. }
                                | twofold_device::DeviceError::NewerFormat { .. }
                        )
                    )
                    || matches!(
                        e.downcast_ref::<VaultError>(),
                        Some(
                            VaultError::Keystore(_)
                                | VaultError::Io { .. }
                                | VaultError::Damaged { .. }
                        ) | Some(VaultError::NewerFormat { .. } | VaultError::NoDataDir)
                    )
            });
            ExitCode::from(if vault_failed { 3 } else { 1 })
        }
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut out = io::stdout().lock();
    let source = passphrase::Source::new(cli.passphrase_file);
    let command = match cli.command {
        // A scan opens (and so creates) the vault only when it adds what it found.
        Command::Scan(args) => return scan(&args, &source, &mut out),
        Command::Device { command } => {
            return device::run(command, &vault_dir::default_dir()?, &source, &mut out);
        }
        Command::Keystore { command } => {
            return keystore::run(command, &vault_dir::default_dir()?, &source, &mut out);
        }
        Command::Vault(command) => command,
    };
    let command = match command {
        VaultCommand::Code { query, next, at, vault_file } => {
            if let Some(file) = vault_file::chosen(vault_file) {
                return code_from_file(&file, &source, &query, next, at, &mut out);
            }
            VaultCommand::Code { query, next, at, vault_file: None }
        }
        VaultCommand::List { json, vault_file } => {
            if let Some(file) = vault_file::chosen(vault_file) {
                return list_from_file(&file, &source, json, &mut out);
            }
            VaultCommand::List { json, vault_file: None }
        }
        other => other,
    };
    let vault = keystore::open(&vault_dir::default_dir()?, &source)?;
    let _backup = AutoBackup::new(&vault);
    match command {
        VaultCommand::Add { uri, issuer, account, kind, algorithm, digits, period, counter } => {
            let credentials = match (uri, account) {
                (_, Some(name)) => {
                    let otp = OtpParams {
                        kind: kind.into(),
                        algorithm: algorithm.into(),
                        digits,
                        period,
                        counter,
                    };
                    let secret = read_secret()?;
                    vec![Credential {
                        issuer: issuer.unwrap_or_default(),
                        name,
                        secret,
                        otp,
                        icon: None,
                    }]
                }
                (Some(text), None) => parse_uris(&text)?,
                (None, None) => {
                    if issuer.is_some() {
                        bail!(RequestFailed("--issuer needs --account too".into()));
                    }
                    let mut text = String::new();
                    io::stdin().read_to_string(&mut text).context("cannot read stdin")?;
                    parse_uris(&text)?
                }
            };
            add_all(&vault, credentials, &mut out)
        }
        VaultCommand::List { json, .. } => {
            let accounts = vault.accounts()?;
            let report = vault.reconcile()?;
            print_accounts(&accounts, &report.missing_secrets, json, &mut out)?;
            for id in &report.orphan_secrets {
                eprintln!(
                    "twofold: {} holds a secret ({id}) that no account names; it was kept",
                    secrets_place(&vault)
                );
            }
            for id in &report.missing_secrets {
                eprintln!("twofold: account {id} has no secret in {}", secrets_place(&vault));
            }
            Ok(ExitCode::SUCCESS)
        }
        VaultCommand::Code { query, next, at, .. } => {
            let account = one(&vault, &query)?;
            let secret = vault.secret(&account)?;
            let mut otp = account.otp;
            if otp.kind == Kind::Hotp {
                otp.counter = vault.consume_counter(account.id)?;
            }
            let code = otp::generate(&secret, &otp, at.unwrap_or_else(now)).map_err(|e| {
                RequestFailed(format!("cannot make a code for {}: {e}", account.label()))
            })?;
            writeln!(out, "{}", if next { &code.next } else { &code.current })?;
            Ok(ExitCode::SUCCESS)
        }
        VaultCommand::Remove { query, yes } => {
            let account = one(&vault, &query)?;
            if !yes
                && !confirm(&format!("Remove {}? Its codes will be gone. [y/N] ", account.label()))?
            {
                bail!(RequestFailed("nothing removed".into()));
            }
            vault.remove(account.id)?;
            writeln!(out, "Removed {}", account.label())?;
            Ok(ExitCode::SUCCESS)
        }
        VaultCommand::Trash { command } => trash::run(command, &vault, now(), &mut out),
        VaultCommand::Rename { query, issuer, account: name } => {
            if issuer.is_none() && name.is_none() {
                bail!(RequestFailed("give --issuer and/or --account".into()));
            }
            let account = one(&vault, &query)?;
            let renamed = vault.rename(
                account.id,
                issuer.unwrap_or(account.issuer.clone()),
                name.unwrap_or(account.name.clone()),
            )?;
            writeln!(out, "Renamed {} to {}", account.label(), renamed.label())?;
            Ok(ExitCode::SUCCESS)
        }
        VaultCommand::Import { file, format, password_stdin } => {
            import_file(&vault, &file, format, password_stdin, &mut out)
        }
        VaultCommand::Export { format, encrypt, password_stdin } => {
            if encrypt
                && !matches!(
                    format,
                    ExportFormat::Aegis | ExportFormat::TwoFas | ExportFormat::Ente
                )
            {
                bail!(RequestFailed("--encrypt works with --format aegis, 2fas or ente".into()));
            }
            let password = encrypt.then(|| new_passphrase(password_stdin, "export")).transpose()?;
            if password.is_none() {
                eprintln!(
                    "twofold: warning: this output holds your secrets; anyone who sees it can make your codes"
                );
            }
            let accounts = vault.accounts()?;
            let mut credentials = Vec::with_capacity(accounts.len());
            for (a, secret) in accounts.iter().zip(vault.secrets(&accounts)) {
                credentials.push(a.to_credential(secret?));
            }
            match format {
                ExportFormat::Uris => {
                    for c in &credentials {
                        writeln!(out, "{}", uri::format(c))?;
                    }
                }
                ExportFormat::Migration => {
                    let encoded = migration::encode(&credentials, rand_batch_id());
                    for line in &encoded.uris {
                        writeln!(out, "{}", line.as_str())?;
                    }
                    for skipped in &encoded.skipped {
                        eprintln!("twofold: not exported: {skipped}");
                    }
                }
                ExportFormat::Aegis => match &password {
                    Some(password) => {
                        let keys = AegisKeys::fresh().map_err(|e| RequestFailed(e.to_string()))?;
                        let text = export::aegis_encrypted(&credentials, password, &keys)
                            .map_err(|e| RequestFailed(e.to_string()))?;
                        writeln!(out, "{text}")?;
                    }
                    None => writeln!(out, "{}", export::aegis_plain(&credentials).as_str())?,
                },
                ExportFormat::TwoFas => {
                    let exported = match &password {
                        Some(password) => {
                            let keys =
                                TwoFasKeys::fresh().map_err(|e| RequestFailed(e.to_string()))?;
                            export::twofas_encrypted(&credentials, password, &keys, now_ms())
                                .map_err(|e| RequestFailed(e.to_string()))?
                        }
                        None => export::twofas_plain(&credentials, now_ms()),
                    };
                    writeln!(out, "{}", exported.text.as_str())?;
                    say_left_out(&exported.left_out);
                }
                ExportFormat::Ente => {
                    let exported = match &password {
                        Some(password) => {
                            let keys =
                                EnteKeys::fresh().map_err(|e| RequestFailed(e.to_string()))?;
                            let mut exported =
                                export::ente_encrypted(&credentials, password, &keys)
                                    .map_err(|e| RequestFailed(e.to_string()))?;
                            exported.text.push('\n');
                            exported
                        }
                        None => export::ente_plain(&credentials),
                    };
                    write!(out, "{}", exported.text.as_str())?;
                    say_left_out(&exported.left_out);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        VaultCommand::Backup { file, password_stdin, auto, keep, dir } => {
            backup_command(&vault, file, password_stdin, auto, keep, dir, &mut out)
        }
        VaultCommand::Restore { file, password_stdin } => {
            restore_file(&vault, &file, password_stdin, &mut out)
        }
        VaultCommand::Backups => {
            let listed = auto::list(&vault).map_err(backup_error)?;
            let settings = auto::settings(&vault).map_err(backup_error)?;
            if listed.is_empty() {
                let folder = auto::folder(&vault, &settings);
                writeln!(out, "No automatic backups in {}", folder.display())?;
            }
            for backup in &listed {
                match &backup.header {
                    Ok(header) => writeln!(
                        out,
                        "{}  {:>4} accounts  {}",
                        auto::utc_text(header.created),
                        header.accounts,
                        backup.path.display()
                    )?,
                    Err(err) => writeln!(out, "{}: {err}", backup.path.display())?,
                }
            }
            if !settings.enabled {
                eprintln!(
                    "twofold: automatic backups are off (turn them on: twofold backup --auto on)"
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        VaultCommand::Check => {
            let report = vault.reconcile()?;
            for id in &report.orphan_secrets {
                writeln!(
                    out,
                    "the entry {id} of {} belongs to no account (kept; an interrupted add leaves \
                     these)",
                    secrets_place(&vault)
                )?;
            }
            for id in &report.missing_secrets {
                let label =
                    vault.account(*id).map(|a| a.label()).unwrap_or_else(|_| id.to_string());
                writeln!(out, "{label} has no secret in {}: re-add it", secrets_place(&vault))?;
            }
            if report.is_clean() {
                writeln!(out, "{} accounts, all with their secret", vault.accounts()?.len())?;
                Ok(ExitCode::SUCCESS)
            } else {
                Ok(ExitCode::from(1))
            }
        }
    }
}

/// Scans the files, the screens or the clipboard, prints what was found and adds it with --add.
fn scan(
    args: &ScanArgs,
    source: &passphrase::Source,
    out: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let mut found: Vec<Found> = Vec::new();
    let mut keep = |codes: Vec<Found>| qr::add_distinct(&mut found, codes);
    if args.screen {
        let captures = twofold_capture::screens().map_err(|e| RequestFailed(e.to_string()))?;
        for c in &captures {
            keep(
                qr::scan_rgba(c.width, c.height, &c.rgba)
                    .map_err(|e| RequestFailed(format!("cannot scan the screen capture: {e}")))?,
            );
        }
    } else if args.clipboard {
        let capture = twofold_capture::clipboard_image()
            .map_err(|e| RequestFailed(e.to_string()))?
            .ok_or_else(|| RequestFailed(twofold_capture::NO_CLIPBOARD_IMAGE.into()))?;
        keep(
            qr::scan_rgba(capture.width, capture.height, &capture.rgba)
                .map_err(|e| RequestFailed(format!("cannot scan the clipboard's image: {e}")))?,
        );
    } else {
        for file in &args.files {
            let name = file.display();
            let bytes = std::fs::read(file)
                .map_err(|e| RequestFailed(format!("cannot read {name}: {e}")))?;
            keep(qr::scan_image_bytes(&bytes).map_err(|e| RequestFailed(format!("{name}: {e}")))?);
        }
    }

    if args.json {
        serde_json::to_writer(&mut *out, &found)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if found.is_empty() {
        bail!(RequestFailed(qr::NOTHING_FOUND.into()));
    }
    let mut credentials = Vec::new();
    let mut refused = false;
    for (index, code) in found.iter().enumerate() {
        // One code at a time, so each line names what that code holds.
        let Imported { credentials: read, errors } = import::scanned(std::slice::from_ref(code));
        let labels: Vec<String> =
            read.iter().map(|c| format!("{} [{}]", c.label(), kind_name(c.otp.kind))).collect();
        let what = match code.kind {
            PayloadKind::Account => "account",
            PayloadKind::Batch => "batch of accounts",
            PayloadKind::Pairing => "pairing link",
            _ => "not an account",
        };
        writeln!(
            out,
            "QR code {}: {what}{}{}",
            index + 1,
            if labels.is_empty() { "" } else { ": " },
            labels.join(", ")
        )?;
        for mut error in errors {
            error.place = Place::Code(index + 1);
            eprintln!("twofold: {}{error}", if args.add { "skipped " } else { "" });
            refused = true;
        }
        credentials.extend(read);
    }
    if !args.add {
        return Ok(ExitCode::SUCCESS);
    }
    let vault = keystore::open(&vault_dir::default_dir()?, source)?;
    let _backup = AutoBackup::new(&vault);
    let code = add_all(&vault, credentials, out)?;
    Ok(if refused { ExitCode::from(1) } else { code })
}

/// Most bytes an export file may have: far above any real export, short of exhausting memory.
const MAX_IMPORT_LEN: u64 = 64 << 20;

/// `twofold code --vault-file`: the code of one account of a backup read as a vault.
fn code_from_file(
    file: &std::path::Path,
    source: &passphrase::Source,
    query: &str,
    next: bool,
    at: Option<u64>,
    out: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let entries = vault_file::entries(file, source)?;
    let accounts: Vec<Account> = entries.iter().map(|e| e.account.clone()).collect();
    let account = one_of(&accounts, query)?;
    let Some(entry) = entries.iter().find(|e| e.account.id == account.id) else {
        bail!(RequestFailed(format!("no account matches \"{query}\"")));
    };
    if account.otp.kind == Kind::Hotp {
        bail!(RequestFailed(format!(
            "{} is an HOTP account: its next counter must be saved, which a read-only vault file \
             cannot do; use a data directory",
            account.label()
        )));
    }
    let code = otp::generate(&entry.secret, &account.otp, at.unwrap_or_else(now))
        .map_err(|e| RequestFailed(format!("cannot make a code for {}: {e}", account.label())))?;
    writeln!(out, "{}", if next { &code.next } else { &code.current })?;
    Ok(ExitCode::SUCCESS)
}

/// `twofold list --vault-file`: the accounts of a backup read as a vault (never secrets).
fn list_from_file(
    file: &std::path::Path,
    source: &passphrase::Source,
    json: bool,
    out: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let mut accounts: Vec<Account> =
        vault_file::entries(file, source)?.into_iter().map(|e| e.account).collect();
    accounts.sort_by_key(|a| a.order);
    print_accounts(&accounts, &[], json, out)?;
    Ok(ExitCode::SUCCESS)
}

/// The account list as `twofold list` prints it; `broken` are those without a secret.
fn print_accounts(
    accounts: &[Account],
    broken: &[uuid::Uuid],
    json: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    if json {
        serde_json::to_writer_pretty(&mut *out, accounts)?;
        writeln!(out)?;
        return Ok(());
    }
    for a in accounts {
        let mark = if broken.contains(&a.id) { "  (secret missing)" } else { "" };
        writeln!(
            out,
            "{:<24} {:<32} {:<5} {}{mark}",
            a.issuer,
            a.name,
            kind_name(a.otp.kind),
            a.id
        )?;
    }
    Ok(())
}

/// Reads an export (recognising its format unless given), asks for its password when it is
/// encrypted, adds its accounts and reports what was added, what was already there and what
/// could not be read.
fn import_file(
    vault: &Vault,
    file: &std::path::Path,
    format: Option<Format>,
    password_stdin: bool,
    out: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let from_stdin = file.as_os_str() == "-";
    if from_stdin && password_stdin {
        bail!(RequestFailed("--password-stdin needs a file: stdin cannot hold both".into()));
    }
    let name = if from_stdin { "stdin".to_owned() } else { file.display().to_string() };
    let mut bytes = Vec::new();
    let read = if from_stdin {
        io::stdin().take(MAX_IMPORT_LEN + 1).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(file).and_then(|f| f.take(MAX_IMPORT_LEN + 1).read_to_end(&mut bytes))
    };
    read.map_err(|e| RequestFailed(format!("cannot read {name}: {e}")))?;
    if bytes.len() as u64 > MAX_IMPORT_LEN {
        bail!(RequestFailed(format!(
            "{name} is larger than any export ({} MiB)",
            MAX_IMPORT_LEN >> 20
        )));
    }
    let format = match format {
        Some(format) => format,
        None => import::detect(&bytes).map_err(|e| RequestFailed(format!("{name}: {e}")))?.format,
    };
    let mut password = password_stdin.then(read_password_line).transpose()?;
    let imported = loop {
        match format.read(&bytes, password.as_ref()) {
            Ok(imported) => break imported,
            Err(ImportError::PasswordNeeded) if password.is_none() && io::stdin().is_terminal() => {
                let typed =
                    rpassword::prompt_password(format!("Password of the {format} export: "))
                        .context("cannot read the password")?;
                password = Some(Password::new(typed));
            }
            Err(ImportError::PasswordNeeded) => bail!(RequestFailed(format!(
                "{name}: this file is encrypted: give its password on a terminal or with \
                 --password-stdin"
            ))),
            Err(e) => bail!(RequestFailed(format!("{name}: {e}"))),
        }
    };
    let Imported { credentials, errors } = imported;
    writeln!(out, "{name}: {format} export, {} accounts read", credentials.len())?;
    let (mut added, mut already, mut refused) = (0, 0, 0);
    for credential in credentials {
        let label = credential.label();
        match vault.add(credential, now()) {
            Ok(account) => {
                writeln!(out, "Added {}", account.label())?;
                added += 1;
            }
            Err(VaultError::Duplicate { .. }) => {
                writeln!(out, "Skipped {label}: already in Twofold")?;
                already += 1;
            }
            Err(err @ VaultError::Invalid { .. }) => {
                eprintln!("twofold: skipped {label}: {err}");
                refused += 1;
            }
            Err(err) => return Err(err.into()),
        }
    }
    for e in &errors {
        eprintln!("twofold: skipped {e}");
    }
    let unread = errors.len() + refused;
    writeln!(out, "{added} added, {already} already in Twofold, {unread} could not be imported")?;
    Ok(if unread == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Writes an automatic backup when the vault changed during a command, whether the command then
/// succeeded or not (an import that failed half-way still changed the vault). A failed backup is a
/// warning: the change itself stands.
struct AutoBackup<'a> {
    vault: &'a Vault,
    before: Option<twofold_core::vault::Stamp>,
}

impl<'a> AutoBackup<'a> {
    fn new(vault: &'a Vault) -> Self {
        Self { vault, before: vault.stamp().ok().flatten() }
    }
}

impl Drop for AutoBackup<'_> {
    fn drop(&mut self) {
        if self.vault.stamp().ok().flatten() == self.before {
            return;
        }
        match auto::after_change(self.vault, now_ms()) {
            Ok(Some(written)) => {
                for label in &written.missing {
                    eprintln!(
                        "twofold: warning: the automatic backup leaves out {label}: its secret is \
                         missing from the keyring"
                    );
                }
            }
            Ok(None) => {}
            Err(err) => eprintln!("twofold: warning: the automatic backup failed: {err}"),
        }
    }
}

/// A backup failure as the exit codes see it: vault and keyring failures are the vault's (3).
fn backup_error(err: BackupError) -> anyhow::Error {
    match err {
        BackupError::Vault(err) => err.into(),
        BackupError::Io { .. } => anyhow::Error::new(err),
        other => RequestFailed(other.to_string()).into(),
    }
}

/// A passphrase for a new backup or export: the first line of stdin with --password-stdin, else
/// typed twice on a terminal; either way held to core's rule for new passwords.
fn new_passphrase(password_stdin: bool, what: &str) -> anyhow::Result<Password> {
    let (first, again) = if password_stdin {
        let line = read_password_line()?;
        (line.clone(), line)
    } else {
        if !io::stdin().is_terminal() {
            bail!(RequestFailed(format!(
                "not a terminal: give the {what}'s passphrase with --password-stdin"
            )));
        }
        let prompt = |text: String| {
            rpassword::prompt_password(text)
                .map(Password::new)
                .context("cannot read the passphrase")
        };
        (
            prompt(format!("Passphrase for the {what}: "))?,
            prompt("The same passphrase again: ".into())?,
        )
    };
    export::check_new_password(&first, &again)
        .map_err(|e| RequestFailed(format!("{e}; nothing was written")))?;
    Ok(first)
}

/// `twofold backup`: one backup file, or automatic backups on or off.
fn backup_command(
    vault: &Vault,
    file: Option<PathBuf>,
    password_stdin: bool,
    switch: Option<Switch>,
    keep: Option<u32>,
    dir: Option<PathBuf>,
    out: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    match switch {
        Some(Switch::Off) => {
            if keep.is_some() || dir.is_some() {
                bail!(RequestFailed("--keep and --dir go with --auto on".into()));
            }
            auto::turn_off(vault).map_err(backup_error)?;
            let settings = auto::settings(vault).map_err(backup_error)?;
            writeln!(
                out,
                "Automatic backups off; those already in {} stay",
                auto::folder(vault, &settings).display()
            )?;
        }
        Some(Switch::On) => {
            let passphrase = new_passphrase(password_stdin, "automatic backups")?;
            let dir = dir.map(|d| std::path::absolute(&d).unwrap_or(d));
            let keep = keep.unwrap_or(auto::DEFAULT_KEEP);
            let written =
                auto::turn_on(vault, &passphrase, keep, dir, now_ms()).map_err(backup_error)?;
            writeln!(
                out,
                "Automatic backups on: after each change, keeping the newest {keep} in {}",
                written.path.parent().unwrap_or(&written.path).display()
            )?;
            writeln!(out, "Wrote {} ({} accounts)", written.path.display(), written.accounts)?;
            warn_missing(&written.missing);
        }
        None => {
            let passphrase = new_passphrase(password_stdin, "backup")?;
            let (entries, missing) = backup::snapshot(vault).map_err(backup_error)?;
            let sealing = Sealing::fresh(KdfCost::default()).map_err(|e| backup_error(e.into()))?;
            let bytes =
                backup::write(&entries, &passphrase, now(), &sealing).map_err(backup_error)?;
            let file = file.unwrap_or_else(|| PathBuf::from(auto::file_name(now_ms())));
            if file.as_os_str() == "-" {
                if io::stdout().is_terminal() {
                    bail!(RequestFailed("stdout is a terminal: redirect it to a file".into()));
                }
                out.write_all(&bytes)?;
            } else {
                write_new_file(&file, &bytes)?;
                writeln!(out, "Wrote {} accounts to {}", entries.len(), file.display())?;
            }
            warn_missing(&missing);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn warn_missing(labels: &[String]) {
    for label in labels {
        eprintln!(
            "twofold: warning: {label} is not in the backup: its secret is missing from the keyring"
        );
    }
}

/// Creates `path` (never replacing a file), readable by the user only.
fn write_new_file(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    backup::write_new_file(path, bytes).map_err(|err| match err {
        BackupError::Exists { .. } | BackupError::Io { action: "create", .. } => {
            RequestFailed(err.to_string()).into()
        }
        other => backup_error(other),
    })
}

/// `twofold restore`: adds a backup's accounts, reporting those already here.
fn restore_file(
    vault: &Vault,
    file: &std::path::Path,
    password_stdin: bool,
    out: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let name = file.display();
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(MAX_IMPORT_LEN + 1).read_to_end(&mut bytes))
        .map_err(|e| RequestFailed(format!("cannot read {name}: {e}")))?;
    let header = backup::inspect(&bytes).map_err(|e| RequestFailed(format!("{name}: {e}")))?;
    writeln!(
        out,
        "{name}: backup of {}, {} accounts",
        auto::utc_text(header.created),
        header.accounts
    )?;
    let passphrase = if password_stdin {
        read_password_line()?
    } else if io::stdin().is_terminal() {
        Password::new(
            rpassword::prompt_password("Passphrase of the backup: ")
                .context("cannot read the passphrase")?,
        )
    } else {
        bail!(RequestFailed(format!(
            "{name}: give the backup's passphrase on a terminal or with --password-stdin"
        )));
    };
    let opened =
        backup::read(&bytes, &passphrase).map_err(|e| RequestFailed(format!("{name}: {e}")))?;
    let restored = backup::restore(vault, &opened.entries, now())?;
    for account in &restored.added {
        writeln!(out, "Added {}", account.label())?;
    }
    for (label, _) in &restored.duplicates {
        writeln!(out, "Skipped {label}: already in Twofold")?;
    }
    for (label, reason) in &restored.refused {
        eprintln!("twofold: skipped {label}: {reason}");
    }
    writeln!(
        out,
        "{} added, {} already in Twofold, {} could not be restored",
        restored.added.len(),
        restored.duplicates.len(),
        restored.refused.len()
    )?;
    Ok(if restored.refused.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The first line of stdin, without its line ending, as a password.
fn read_password_line() -> anyhow::Result<Password> {
    let mut line = zeroize::Zeroizing::new(String::new());
    io::stdin().lock().read_line(&mut line).context("cannot read the password from stdin")?;
    let end = line.trim_end_matches(['\n', '\r']).len();
    line.truncate(end);
    Ok(Password::new(std::mem::take(&mut *line)))
}

/// Parses pasted text holding one or more URIs; any bad line fails the whole add.
fn parse_uris(text: &str) -> anyhow::Result<Vec<Credential>> {
    let Imported { credentials, errors } = import::uri_list(text);
    if let Some(first) = errors.first() {
        bail!(RequestFailed(first.to_string()));
    }
    if credentials.is_empty() {
        bail!(RequestFailed("no otpauth:// URI given".into()));
    }
    Ok(credentials)
}

fn add_all(
    vault: &Vault,
    credentials: Vec<Credential>,
    out: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let mut failed = false;
    for credential in credentials {
        let label = credential.label();
        match vault.add(credential, now()) {
            Ok(account) => writeln!(out, "Added {}", account.label())?,
            Err(err @ (VaultError::Duplicate { .. } | VaultError::Invalid { .. })) => {
                eprintln!("twofold: skipped {label}: {err}");
                failed = true;
            }
            Err(err) => return Err(err.into()),
        }
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Where `vault`'s secrets are, as messages name it.
fn secrets_place(vault: &Vault) -> &'static str {
    match vault.keystore().kind() {
        twofold_core::keystore::KeystoreKind::Keyring => "the keyring",
        twofold_core::keystore::KeystoreKind::File => "the secrets file",
    }
}

fn one(vault: &Vault, query: &str) -> anyhow::Result<Account> {
    one_of(&vault.accounts()?, query)
}

fn one_of(accounts: &[Account], query: &str) -> anyhow::Result<Account> {
    match find(accounts, query).as_slice() {
        [] => bail!(RequestFailed(format!("no account matches \"{query}\" (see twofold list)"))),
        [one] => Ok((*one).clone()),
        many => {
            let names: Vec<String> =
                many.iter().map(|a| format!("  {} [{}]", a.label(), a.id)).collect();
            bail!(RequestFailed(format!(
                "\"{query}\" matches {} accounts; be more precise or use an id:\n{}",
                many.len(),
                names.join("\n")
            )))
        }
    }
}

fn read_secret() -> anyhow::Result<Secret> {
    let text = zeroize::Zeroizing::new(if io::stdin().is_terminal() {
        rpassword::prompt_password("Secret (base32, hidden): ").context("cannot read the secret")?
    } else {
        let mut line = String::new();
        io::stdin().lock().read_line(&mut line).context("cannot read the secret from stdin")?;
        line
    });
    Secret::from_base32(text.trim()).map_err(|e| RequestFailed(e.to_string()).into())
}

fn confirm(question: &str) -> anyhow::Result<bool> {
    if !io::stdin().is_terminal() {
        bail!(RequestFailed("not a terminal: pass --yes to remove without asking".into()));
    }
    eprint!("{question}");
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

fn rand_batch_id() -> i32 {
    // Only needs to differ between exports so a phone does not mix batches; no secrecy involved.
    (now() as i32) ^ (std::process::id() as i32)
}

/// Names on stderr the accounts an export's format could not hold.
fn say_left_out(left_out: &[export::LeftOut]) {
    for account in left_out {
        eprintln!("twofold: not exported: {account}");
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Totp => "totp",
        Kind::Hotp => "hotp",
        Kind::Steam => "steam",
        Kind::Motp => "motp",
        Kind::Yandex => "yandex",
    }
}

impl From<KindArg> for Kind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Totp => Kind::Totp,
            KindArg::Hotp => Kind::Hotp,
            KindArg::Steam => Kind::Steam,
        }
    }
}

impl From<AlgorithmArg> for Algorithm {
    fn from(a: AlgorithmArg) -> Self {
        match a {
            AlgorithmArg::Sha1 => Algorithm::Sha1,
            AlgorithmArg::Sha256 => Algorithm::Sha256,
            AlgorithmArg::Sha512 => Algorithm::Sha512,
        }
    }
}
