//! The embedded PostgreSQL cluster under `var/pg`: initialised, started and stopped by
//! `marelle db`, listening on 127.0.0.1 and on a unix socket inside its data directory.
//!
//! PostgreSQL refuses to run as root: when we are root, the server runs as the `postgres`
//! system user (created by Debian's package). The application connects over TCP with a
//! password generated at initialisation and kept in `<data_dir>.url` (mode 600).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::config::PgConfig;

pub const APP_ROLE: &str = "marelle";
pub const APP_DATABASE: &str = "marelle";

pub struct Cluster {
    data_dir: PathBuf,
    port: u16,
    unsafe_fast: bool,
    bin_dir: PathBuf,
    /// System user running the server when we are root.
    run_as: Option<String>,
}

impl Cluster {
    pub fn new(config: &PgConfig) -> Result<Cluster> {
        let data_dir = absolute(&config.data_dir)?;
        let run_as = is_root().then(|| "postgres".to_string());
        Ok(Cluster {
            data_dir,
            port: config.port,
            unsafe_fast: config.unsafe_fast,
            bin_dir: find_bin_dir()?,
            run_as,
        })
    }

    pub fn url_file(&self) -> PathBuf {
        self.data_dir.with_extension("url")
    }

    fn socket_dir(&self) -> PathBuf {
        self.data_dir.join("run")
    }

    fn log_file(&self) -> PathBuf {
        self.data_dir.join("server.log")
    }

    /// The application URL, once the cluster has been initialised.
    pub fn url(&self) -> Result<String> {
        let file = self.url_file();
        let url = fs::read_to_string(&file).with_context(|| {
            format!(
                "la base embarquée n'est pas initialisée ({} absent) : lancez `marelle db start`",
                file.display()
            )
        })?;
        Ok(url.trim().to_string())
    }

    pub fn is_initialised(&self) -> bool {
        self.data_dir.join("PG_VERSION").exists()
    }

    pub fn is_running(&self) -> bool {
        self.is_initialised()
            && self
                .pg_command("pg_ctl")
                .args(["status", "-D"])
                .arg(&self.data_dir)
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
    }

    /// Initialises the cluster if needed, starts it if stopped and makes sure the
    /// application role and database exist. Idempotent.
    pub fn start(&self) -> Result<()> {
        if !self.is_initialised() {
            self.init()?;
        }
        if !self.is_running() {
            let options = format!(
                "-c listen_addresses=127.0.0.1 -c port={} -c unix_socket_directories={}",
                self.port,
                self.socket_dir().display()
            );
            let status = self
                .pg_command("pg_ctl")
                .args(["start", "-w", "-t", "60", "-D"])
                .arg(&self.data_dir)
                .arg("-l")
                .arg(self.log_file())
                .args(["-o", &options])
                .status()
                .context("lancement de pg_ctl")?;
            if !status.success() {
                bail!(
                    "PostgreSQL n'a pas démarré ; voir {}",
                    self.log_file().display()
                );
            }
        }
        self.ensure_role_and_database()
    }

    pub fn stop(&self) -> Result<()> {
        if !self.is_running() {
            return Ok(());
        }
        let status = self
            .pg_command("pg_ctl")
            .args(["stop", "-m", "fast", "-w", "-D"])
            .arg(&self.data_dir)
            .status()
            .context("lancement de pg_ctl")?;
        if !status.success() {
            bail!("PostgreSQL ne s'est pas arrêté proprement");
        }
        Ok(())
    }

    pub fn status(&self) -> String {
        if !self.is_initialised() {
            format!("non initialisée ({})", self.data_dir.display())
        } else if self.is_running() {
            format!(
                "démarrée : 127.0.0.1:{} et {} ({})",
                self.port,
                self.socket_dir().display(),
                self.data_dir.display()
            )
        } else {
            format!("arrêtée ({})", self.data_dir.display())
        }
    }

    fn init(&self) -> Result<()> {
        if self.data_dir.exists() && fs::read_dir(&self.data_dir)?.next().is_some() {
            bail!(
                "{} existe et n'est pas un cluster PostgreSQL : déplacez-le ou videz-le",
                self.data_dir.display()
            );
        }
        self.prepare_data_dir()?;
        let password = random_password();
        // Outside var/: the server user must be able to read it even when var/ is private.
        let pwfile = std::env::temp_dir().join(format!("marelle-initdb-{}", std::process::id()));
        write_private(&pwfile, &password)?;
        self.give_to_server_user(&pwfile)?;
        let mut initdb = self.pg_command("initdb");
        initdb
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8"])
            .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
            .arg(format!("--pwfile={}", pwfile.display()));
        if self.unsafe_fast {
            initdb.arg("--no-sync");
        }
        let output = initdb.output().context("lancement d'initdb")?;
        let _ = fs::remove_file(&pwfile);
        if !output.status.success() {
            bail!(
                "initdb a échoué : {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let mut conf = String::from(
            "\n# Marelle embedded cluster\nmax_connections = 200\nshared_buffers = 256MB\n",
        );
        if self.unsafe_fast {
            conf.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        append(&self.data_dir.join("postgresql.conf"), &conf)?;
        fs::create_dir_all(self.socket_dir())?;
        self.give_to_server_user(&self.socket_dir())?;
        let url = format!(
            "postgres://{APP_ROLE}:{}@127.0.0.1:{}/{APP_DATABASE}",
            random_password(),
            self.port
        );
        write_private(&self.url_file(), &url)?;
        Ok(())
    }

    /// Creates the data directory owned by the server user. When that user cannot reach
    /// the path (a clone under /root, say), the cluster lives under /var/lib/marelle and
    /// `data_dir` becomes a symbolic link to it.
    fn prepare_data_dir(&self) -> Result<()> {
        if let Some(parent) = self.data_dir.parent() {
            fs::create_dir_all(parent)?;
        }
        let Some(user) = &self.run_as else {
            fs::create_dir_all(&self.data_dir)?;
            return Ok(());
        };
        let parent = self.data_dir.parent().unwrap_or(Path::new("/"));
        let reachable = Command::new("runuser")
            .args(["-u", user, "--", "test", "-x"])
            .arg(parent)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if reachable {
            fs::create_dir_all(&self.data_dir)?;
        } else {
            let name: String = self
                .data_dir
                .to_string_lossy()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let real = PathBuf::from("/var/lib/marelle").join(name.trim_matches('_'));
            fs::create_dir_all(&real)?;
            if self.data_dir.exists() {
                fs::remove_dir(&self.data_dir)?;
            }
            std::os::unix::fs::symlink(&real, &self.data_dir)?;
        }
        self.give_to_server_user(&self.data_dir)?;
        let mode = std::os::unix::fs::PermissionsExt::from_mode(0o700);
        fs::set_permissions(&self.data_dir, mode)?;
        Ok(())
    }

    fn give_to_server_user(&self, path: &Path) -> Result<()> {
        if let Some(user) = &self.run_as {
            let status = Command::new("chown")
                .arg("-R")
                .arg(format!("{user}:{user}"))
                .arg(path)
                .status()?;
            if !status.success() {
                bail!(
                    "impossible de donner {} à l'utilisateur {user}",
                    path.display()
                );
            }
        }
        Ok(())
    }

    /// Creates the application role (password from the URL file) and database. The pool
    /// opens its connections with an empty search_path (see `Db::connect_with`).
    fn ensure_role_and_database(&self) -> Result<()> {
        let url = self.url()?;
        let password = url
            .split_once("://")
            .and_then(|(_, rest)| rest.split_once('@'))
            .and_then(|(creds, _)| creds.split_once(':'))
            .map(|(_, pw)| pw.to_string())
            .context("URL de la base embarquée illisible")?;
        let script = format!(
            "SELECT 'CREATE ROLE {APP_ROLE} LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') \\gexec\n\
             ALTER ROLE {APP_ROLE} WITH LOGIN PASSWORD '{password}';\n\
             SELECT 'CREATE DATABASE {APP_DATABASE} OWNER {APP_ROLE}' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '{APP_DATABASE}') \\gexec\n"
        );
        self.psql("postgres", &script)
    }

    /// Runs a script as the cluster superuser over the unix socket.
    pub fn psql(&self, database: &str, script: &str) -> Result<()> {
        use std::io::Write;
        let mut child = self
            .pg_command("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-U", "postgres", "-h"])
            .arg(self.socket_dir())
            .args(["-p", &self.port.to_string(), "-d", database])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .context("lancement de psql")?;
        child
            .stdin
            .take()
            .context("stdin de psql")?
            .write_all(script.as_bytes())?;
        let status = child.wait()?;
        if !status.success() {
            bail!("la préparation de la base embarquée a échoué");
        }
        Ok(())
    }

    /// A PostgreSQL program, run as the server user when we are root.
    fn pg_command(&self, program: &str) -> Command {
        let path = self.bin_dir.join(program);
        match &self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(path);
                command
            }
            None => Command::new(path),
        }
    }
}

/// Directory of the PostgreSQL server programs: Debian's `/usr/lib/postgresql/<v>/bin`
/// (newest first), else whatever `initdb` is on the PATH.
pub fn find_bin_dir() -> Result<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .find(|dir| dir.join("initdb").exists())
        .context(
            "programmes serveur PostgreSQL introuvables : installez-les avec \
             `apt-get install -y postgresql postgresql-contrib`",
        )
}

/// The PostgreSQL client program `name` (pg_dump, pg_restore, psql) of the same version.
pub fn client_program(name: &str) -> PathBuf {
    find_bin_dir()
        .map(|dir| dir.join(name))
        .unwrap_or_else(|_| PathBuf::from(name))
}

fn absolute(path: &Path) -> Result<PathBuf> {
    Ok(if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    })
}

fn is_root() -> bool {
    // SAFETY-free check: the effective uid is readable from /proc without libc.
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|uid| uid == "0"))
        })
        .unwrap_or(false)
}

fn random_password() -> String {
    use rand::Rng;
    let bytes: [u8; 18] = rand::rng().random();
    hex::encode(bytes)
}

fn write_private(path: &Path, content: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("écriture de {}", path.display()))?;
    file.write_all(content.as_bytes())?;
    Ok(())
}

fn append(path: &Path, content: &str) -> Result<()> {
    use std::io::Write;
    let mut file = fs::OpenOptions::new().append(true).open(path)?;
    file.write_all(content.as_bytes())?;
    Ok(())
}
