//! Real reverse proxies (Debian's nginx and Caddy) running the README's configurations
//! (`docs/portal/`, with only ports and certificate paths substituted) in front of a small
//! upstream app, and a browser that keeps cookies by hand so tests can plant and steal them.
//! Shared by the portal's tests and its bench.

#![allow(dead_code, reason = "each user takes part of it")]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

/// The site the documented configurations protect.
pub const SITE: &str = "wiki.example.com";
/// Another protected site.
pub const OTHER_SITE: &str = "other.example.com";

/// A free loopback port (bound, then released for the program that will listen on it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The text between `start` and the next `end` in `text`.
pub fn between(text: &str, start: &str, end: &str) -> String {
    let from = text.find(start).unwrap_or_else(|| panic!("no {start:?} in {text}")) + start.len();
    let to = text[from..].find(end).unwrap() + from;
    text[from..to].to_owned()
}

/// A response as a test reads it.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    /// The CSRF token of the page's (first) form.
    pub fn csrf(&self) -> String {
        between(&self.body, "name=csrf value=\"", "\"")
    }

    /// The number shown for number matching.
    pub fn number(&self) -> Option<u32> {
        self.body
            .contains("id=number>")
            .then(|| between(&self.body, "id=number>", "<").parse().unwrap())
    }

    /// Where the page sends the browser: its `Location`, or the URL of its `Refresh` (a page
    /// that goes on by itself).
    pub fn forward(&self) -> String {
        let refresh = self.headers.get("refresh").and_then(|v| v.to_str().ok());
        match (&self.location, refresh.and_then(|r| r.strip_prefix("0;url="))) {
            (Some(location), _) => location.clone(),
            (None, Some(url)) => url.to_owned(),
            (None, None) => panic!("the page sends the browser nowhere: {self:?}"),
        }
    }

    /// The `Set-Cookie` of cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.set_cookies.iter().map(String::as_str).find(|c| c.starts_with(&format!("{name}=")))
    }
}

/// A browser: HTTPS to a proxy on loopback under the site's name, or plain HTTP to the server,
/// with its cookies kept here (so a test can read, plant or move them).
pub struct WebBrowser {
    http: reqwest::Client,
    base: String,
    pub jar: Mutex<HashMap<String, String>>,
}

impl WebBrowser {
    /// A browser reaching `https://{host}:{port}` on loopback (the proxy's self-signed
    /// certificate accepted).
    pub fn at(host: &str, port: u16) -> Self {
        let http = reqwest::Client::builder()
            .resolve(host, SocketAddr::from(([127, 0, 0, 1], port)))
            .danger_accept_invalid_certs(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .user_agent("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
            .build()
            .unwrap();
        Self { http, base: format!("https://{host}:{port}"), jar: Mutex::default() }
    }

    /// A browser talking to the server itself (`url`).
    pub fn direct(url: &str) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Self { http, base: url.trim_end_matches('/').to_owned(), jar: Mutex::default() }
    }

    /// The site's origin.
    pub fn origin(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") { path.to_owned() } else { format!("{}{path}", self.base) }
    }

    fn cookies(&self) -> String {
        let jar = self.jar.lock().unwrap();
        jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Page {
        let cookies = self.cookies();
        let request = if cookies.is_empty() { request } else { request.header("cookie", cookies) };
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        let set_cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        {
            let mut jar = self.jar.lock().unwrap();
            for cookie in &set_cookies {
                let pair = cookie.split(';').next().unwrap();
                let (name, value) = pair.split_once('=').unwrap();
                if value.is_empty() || cookie.contains("Max-Age=0") {
                    jar.remove(name);
                } else {
                    jar.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        Page { status, location, set_cookies, headers, body }
    }

    /// `GET` a path of the site (or a whole URL).
    pub async fn get(&self, path: &str) -> Page {
        self.send(self.http.get(self.url(path))).await
    }

    /// `GET` with extra headers.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Page {
        let mut request = self.http.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request).await
    }

    /// `POST` a form.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.post_with(path, form, &[]).await
    }

    /// `POST` a form with extra headers.
    pub async fn post_with(
        &self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let body: String =
            url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let mut request = self
            .http
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request).await
    }

    /// A cookie the browser holds.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.lock().unwrap().get(name).cloned()
    }

    /// Plants a cookie, as a script or a man in the middle could.
    pub fn plant(&self, name: &str, value: &str) {
        self.jar.lock().unwrap().insert(name.to_owned(), value.to_owned());
    }
}

/// The small app behind the proxy: answers `hello USER (NAME)` from the headers the proxy adds.
pub async fn upstream() -> u16 {
    use axum::http::HeaderMap;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new().fallback(|headers: HeaderMap| async move {
        let read = |name: &str| {
            headers
                .get(name)
                .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
                .unwrap_or("")
                .to_owned()
        };
        format!("hello {} ({})", read("remote-user"), read("remote-name"))
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

/// Which proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyKind {
    Nginx,
    Caddy,
}

/// A program started for a test, stopped when dropped.
struct Running(Child);

impl Running {
    /// Starts `command` (its standard error in `dir/stderr.log`) and waits until it listens on
    /// `port`; if it ends first, the test fails showing `dir/log`.
    async fn listening(command: Command, dir: &Path, log: &str, port: u16) -> Self {
        Self::try_listening(command, dir, log, port)
            .await
            .unwrap_or_else(|log| panic!("the program ended: {log}"))
    }

    /// As [`Running::listening`], but a program that ends first gives its log as the error.
    async fn try_listening(
        mut command: Command,
        dir: &Path,
        log: &str,
        port: u16,
    ) -> Result<Self, String> {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap())
            .spawn()
            .unwrap();
        listening(port, &mut child, &dir.join(log)).await?;
        Ok(Self(child))
    }
}

/// Starts a proxy on ports picked free, up to five times: another test's connection can take
/// a port between its pick and the proxy's bind ("address already in use").
async fn on_free_ports(mut start: impl AsyncFnMut() -> Result<Proxy, String>) -> Proxy {
    let mut log = String::new();
    for _ in 0..5 {
        match start().await {
            Ok(proxy) => return proxy,
            Err(ended) if ended.to_lowercase().contains("address already in use") => log = ended,
            Err(ended) => panic!("the proxy ended: {ended}"),
        }
    }
    panic!("the proxy found no free port in five tries: {log}")
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running proxy, stopped when dropped.
pub struct Proxy {
    _child: Running,
    /// Its HTTPS port.
    pub port: u16,
    _dir: tempfile::TempDir,
}

/// The repository's `docs/` file `path` (docs/ is above the server crate and the end-to-end
/// tests' package alike).
fn doc_file(path: &str) -> String {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("docs"))
        .find(|dir| dir.is_dir())
        .unwrap();
    std::fs::read_to_string(docs.join(path)).unwrap()
}

/// The repository's `docs/portal/` file `name`, with the documented addresses replaced.
fn documented(name: &str, server: SocketAddr, upstream: u16) -> String {
    doc_file(&format!("portal/{name}"))
        .replace("127.0.0.1:8470", &server.to_string())
        .replace("127.0.0.1:3000", &format!("127.0.0.1:{upstream}"))
}

/// Waits until something listens on `port`; the log at `log` when the program ends first.
async fn listening(port: u16, child: &mut Child, log: &Path) -> Result<(), String> {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("({status}) {}", std::fs::read_to_string(log).unwrap_or_default()));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the proxy did not listen within 10 s: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// Whether `program` is installed; when not, the test says so and is skipped.
pub fn installed(program: &str) -> bool {
    let found = ["/usr/sbin", "/usr/bin", "/usr/local/bin"]
        .iter()
        .any(|dir| Path::new(dir).join(program).exists());
    if !found {
        eprintln!("{program} is not installed (scripts/prepare.sh installs it): skipping");
    }
    found
}

/// A self-signed certificate for the sites (openssl); the certificate and key paths.
fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("site.pem"), dir.join("site.key"));
    let status = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj"])
        .arg(format!("/CN={SITE}"))
        .arg("-addext")
        .arg(format!("subjectAltName=DNS:{SITE},DNS:{OTHER_SITE}"))
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "openssl could not make a certificate");
    (cert, key)
}

impl Proxy {
    /// Starts `kind` in front of the upstream on `upstream`, asking the server at `server`.
    pub async fn start(kind: ProxyKind, server: SocketAddr, upstream: u16) -> Self {
        match kind {
            ProxyKind::Nginx => Self::nginx(server, upstream).await,
            ProxyKind::Caddy => Self::caddy(server, upstream).await,
        }
    }

    async fn nginx(server: SocketAddr, upstream: u16) -> Self {
        on_free_ports(async || Self::try_nginx(server, upstream).await).await
    }

    async fn try_nginx(server: SocketAddr, upstream: u16) -> Result<Self, String> {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let (cert, key) = certificate(dir.path());
        let site = documented("nginx.conf", server, upstream)
            .replace("listen 443 ssl;", &format!("listen 127.0.0.1:{port} ssl;"))
            .replace("/etc/ssl/certs/wiki.example.com.pem", cert.to_str().unwrap())
            .replace("/etc/ssl/private/wiki.example.com.key", key.to_str().unwrap());
        std::fs::write(dir.path().join("site.conf"), site).unwrap();
        let d = dir.path().display();
        // One process (no master to outlive a killed test), files in the temp directory.
        let main = format!(
            "daemon off; master_process off; pid {d}/nginx.pid; error_log {d}/error.log warn;\n\
             events {{ worker_connections 256; }}\n\
             http {{ access_log off; client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
             include {d}/site.conf; }}\n"
        );
        let conf = dir.path().join("nginx.conf");
        std::fs::write(&conf, main).unwrap();
        let mut nginx = Command::new("nginx");
        nginx.arg("-p").arg(dir.path()).arg("-c").arg(&conf);
        let child = Running::try_listening(nginx, dir.path(), "error.log", port).await?;
        Ok(Self { _child: child, port, _dir: dir })
    }

    async fn caddy(server: SocketAddr, upstream: u16) -> Self {
        on_free_ports(async || Self::try_caddy(server, upstream).await).await
    }

    async fn try_caddy(server: SocketAddr, upstream: u16) -> Result<Self, String> {
        let dir = tempfile::tempdir().unwrap();
        let (port, http_port) = (free_port(), free_port());
        // Global options of the test: its own ports, certificates from Caddy's local CA (no
        // ACME), no admin endpoint. The site block is the documented one.
        let file = format!(
            "{{\n\tadmin off\n\tlocal_certs\n\tskip_install_trust\n\thttp_port {http_port}\n\
             \thttps_port {port}\n}}\n\n{}",
            documented("Caddyfile", server, upstream)
        );
        let conf = dir.path().join("Caddyfile");
        std::fs::write(&conf, file).unwrap();
        let mut caddy = Command::new("caddy");
        caddy
            .args(["run", "--adapter", "caddyfile", "--config"])
            .arg(&conf)
            .env("HOME", dir.path())
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_CONFIG_HOME", dir.path().join("config"));
        let child = Running::try_listening(caddy, dir.path(), "stderr.log", port).await?;
        // Caddy listens before its local CA has issued the site's certificate.
        let browser = WebBrowser::at(SITE, port);
        for _ in 0..100 {
            let url = format!("https://{SITE}:{port}/twofold/portal.css");
            if browser.http.get(&url).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(Self { _child: child, port, _dir: dir })
    }
}

/// Apache with mod_auth_openidc (Debian's), running `docs/oidc/mod_auth_openidc.conf` on
/// loopback over plain HTTP: a relying party nobody here wrote. `/protected/` answers with the
/// user Apache signed in, in `X-Remote-User`. Stopped when dropped.
pub struct Apache {
    _child: Running,
    /// Its port.
    pub port: u16,
    dir: tempfile::TempDir,
}

/// The module directory of Debian's Apache.
const APACHE_MODULES: &str = "/usr/lib/apache2/modules";

impl Apache {
    /// Whether Apache and mod_auth_openidc are installed; when not, the test says so.
    pub fn installed() -> bool {
        installed("apache2")
            && (Path::new(APACHE_MODULES).join("mod_auth_openidc.so").exists() || {
                eprintln!(
                    "mod_auth_openidc is not installed (scripts/prepare.sh installs it): skipping"
                );
                false
            })
    }

    /// Starts Apache as the client `client_id` of the provider at `issuer`, on `port` (its
    /// redirect URI is `http://127.0.0.1:{port}/protected/redirect_uri`).
    pub async fn start(issuer: &str, port: u16, client_id: &str, secret: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let site = doc_file("oidc/mod_auth_openidc.conf")
            .replace("https://id.example.com/twofold", issuer)
            .replace("https://intranet.example.com", &format!("http://127.0.0.1:{port}"))
            .replace("CLIENT_ID", client_id)
            .replace("CLIENT_SECRET", secret)
            .replace("CHANGE-ME-TO-A-LONG-RANDOM-VALUE", "a-test-passphrase-only-for-this-run");
        std::fs::write(dir.path().join("site.conf"), site).unwrap();
        std::fs::create_dir_all(dir.path().join("www/protected")).unwrap();
        std::fs::write(dir.path().join("www/protected/index.html"), "the protected page").unwrap();
        let modules = [
            "mpm_prefork",
            "authn_core",
            "authz_core",
            "authz_user",
            "dir",
            "headers",
            "auth_openidc",
        ]
        .map(|m| format!("LoadModule {m}_module {APACHE_MODULES}/mod_{m}.so\n"))
        .concat();
        // Apache drops root for nobody: the files must be readable by others.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let main = format!(
            "ServerRoot {d}\nListen 127.0.0.1:{port}\nServerName 127.0.0.1\nPidFile {d}/apache.pid\n\
             ErrorLog {d}/error.log\nLogLevel warn\n{modules}User nobody\nGroup nogroup\n\
             DocumentRoot {d}/www\n<Directory {d}/www>\n  Require all granted\n</Directory>\n\
             Include {d}/site.conf\n\
             <Location /protected>\n  Header always set X-Remote-User \"expr=%{{REMOTE_USER}}\"\n</Location>\n"
        );
        let conf = dir.path().join("apache2.conf");
        std::fs::write(&conf, main).unwrap();
        let mut apache = Command::new("apache2");
        apache.arg("-X").arg("-f").arg(&conf);
        let child = Running::listening(apache, dir.path(), "error.log", port).await;
        Self { _child: child, port, dir }
    }

    /// Apache's error log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}
