//! The HTTP server sections (`[unix_http_server*]`, `[inet_http_server*]`), `[supervisorctl]`
//! and `[rpcinterface:x]`, resolved on the loader.

use super::expand::Expansions;
use super::loader::{Loader, normalize_path};
use super::model::*;
use super::users;
use super::values;

impl Loader {
    pub(super) fn credentials(&mut self, section: &str) -> Option<Credentials> {
        let none = Expansions::new();
        let username = self.get(section, "username", &none).ok().flatten();
        let password = self.get(section, "password", &none).ok().flatten();
        match (username, password) {
            (Some(username), Some(password)) => Some(Credentials { username, password }),
            (None, None) => None,
            _ => {
                self.error(
                    section,
                    None,
                    format!(
                        "Section [{section}] contains incomplete authentication: If a username or a password is specified, both the username and password must be specified"
                    ),
                    None,
                );
                None
            }
        }
    }

    pub(super) fn servers(&mut self) -> (Vec<UnixHttpServerConfig>, Vec<InetHttpServerConfig>) {
        let names: Vec<String> = self.doc.sections.iter().map(|s| s.name.clone()).collect();
        let none = Expansions::new();
        let mut inet = Vec::new();
        for section in names.iter().filter(|n| n.starts_with("inet_http_server")) {
            let credentials = self.credentials(section);
            let allowed_hosts = self.typed(section, "allowed_hosts", &none, Vec::new(), |v| {
                values::host_names(v)
            });
            let protected_mode = self.typed(section, "protected_mode", &none, true, |v| {
                values::boolean(v)
            });
            match self.get(section, "port", &none) {
                Ok(Some(port)) => match values::inet_address(&port) {
                    Ok((host, port)) => inet.push(InetHttpServerConfig {
                        section: section.clone(),
                        host,
                        port,
                        credentials,
                        allowed_hosts,
                        protected_mode,
                    }),
                    Err(problem) => self.error(section, Some("port"), problem, Some(&port)),
                },
                Ok(None) => self.error(
                    section,
                    None,
                    format!("section [{section}] has no port value"),
                    None,
                ),
                Err(()) => {}
            }
        }
        let mut unix = Vec::new();
        for section in names.iter().filter(|n| n.starts_with("unix_http_server")) {
            let file = match self.get(section, "file", &self.here_exps()) {
                Ok(Some(f)) => Some(normalize_path(f.trim())),
                Ok(None) => {
                    self.error(
                        section,
                        None,
                        format!("section [{section}] has no file value"),
                        None,
                    );
                    None
                }
                Err(()) => None,
            };
            let credentials = self.credentials(section);
            let chown = self.typed_opt(section, "chown", &none, |v| {
                users::user_group(v).map_err(|_| format!("Invalid sockchown value {v}"))
            });
            let chmod = self.typed(section, "chmod", &none, 0o700, |v| {
                values::octal(v).map_err(|_| format!("Invalid chmod value {v}"))
            });
            if let Some(file) = file {
                unix.push(UnixHttpServerConfig {
                    section: section.clone(),
                    file,
                    chmod,
                    chown,
                    credentials,
                });
            }
        }
        (unix, inet)
    }

    /// `[supervisorctl]` with the reference's defaults and `unix://` normalisation.
    pub fn supervisorctl(&mut self) -> CtlConfig {
        let s = "supervisorctl";
        let none = Expansions::new();
        let here = self.here_exps();
        let mut serverurl = self
            .get(s, "serverurl", &here)
            .ok()
            .flatten()
            .unwrap_or_else(|| "http://localhost:9001".to_string());
        if let Some(path) = serverurl.strip_prefix("unix://") {
            serverurl = format!("unix://{}", normalize_path(path).display());
        }
        let prompt = self
            .get(s, "prompt", &none)
            .ok()
            .flatten()
            .unwrap_or_else(|| "supervisor".to_string());
        let username = self.get(s, "username", &none).ok().flatten();
        let password = self.get(s, "password", &none).ok().flatten();
        let history_file = self
            .get(s, "history_file", &here)
            .ok()
            .flatten()
            .filter(|h| !h.is_empty())
            .map(|h| normalize_path(&h));
        CtlConfig {
            serverurl,
            username,
            password,
            prompt,
            history_file,
        }
    }

    pub(super) fn rpcinterfaces(&mut self) -> Vec<RpcInterfaceConfig> {
        let names: Vec<String> = self.doc.sections.iter().map(|s| s.name.clone()).collect();
        let none = Expansions::new();
        let mut out = Vec::new();
        for section in names.iter().filter(|n| n.starts_with("rpcinterface:")) {
            let key = "supervisor.rpcinterface_factory";
            match self.get(section, key, &none) {
                Ok(Some(factory)) => {
                    if factory.trim() != "supervisor.rpcinterface:make_main_rpcinterface" {
                        let loc = self.location(section, key);
                        self.warn(format!(
                            "{loc}[{section}] {key}: {factory} is a Python plug-in and cannot be loaded; the namespace will be missing"
                        ));
                    }
                    out.push(RpcInterfaceConfig {
                        name: section["rpcinterface:".len()..].to_string(),
                        factory: factory.trim().to_string(),
                    });
                }
                Ok(None) => self.error(
                    section,
                    None,
                    format!("section [{section}] does not specify a {key}"),
                    None,
                ),
                Err(()) => {}
            }
        }
        for section in names.iter().filter(|n| n.starts_with("ctlplugin:")) {
            if self.entry(section, "supervisor.ctl_factory").is_none() {
                // Only supervisorctl reads these; the daemon ignores them.
                continue;
            }
        }
        out
    }
}

/// check-config's warnings about `[inet_http_server]` sections without credentials that listen
/// beyond loopback (all interfaces, or an address or name that is not loopback): every host
/// that reaches the port may drive the daemon unless protected mode refuses it.
pub fn exposure_warnings(config: &Config) -> Vec<String> {
    use std::net::{IpAddr, ToSocketAddrs};
    let loopback_only = |host: &str, port: u16| -> bool {
        if host == "localhost" {
            return true;
        }
        if let Ok(ip) = host.parse::<IpAddr>() {
            return ip.to_canonical().is_loopback();
        }
        match (host, port).to_socket_addrs() {
            Ok(addrs) => {
                let addrs: Vec<_> = addrs.collect();
                !addrs.is_empty() && addrs.iter().all(|a| a.ip().to_canonical().is_loopback())
            }
            Err(_) => false,
        }
    };
    config
        .inet_http_servers
        .iter()
        .filter(|s| s.credentials.is_none() && !loopback_only(&s.host, s.port))
        .map(|s| {
            let host = if s.host.is_empty() { "*" } else { &s.host };
            if s.protected_mode {
                format!(
                    "[{}] listens on {host}:{} without a username and password: only loopback clients will be served (protected mode); set username and password, or protected_mode = false to serve every host that reaches the port",
                    s.section, s.port
                )
            } else {
                format!(
                    "[{}] listens on {host}:{} without a username and password and protected_mode = false: every host that reaches the port can control supervisord",
                    s.section, s.port
                )
            }
        })
        .collect()
}
