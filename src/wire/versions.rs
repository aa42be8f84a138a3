//! The versions a client and the web page see: the XML-RPC API version and the supervisor
//! version this daemon is compatible with (supervisor/rpcinterface.py `API_VERSION`, `VERSION`).

/// `supervisor.getAPIVersion` / `getVersion`; supervisorctl refuses a server that answers otherwise.
pub const API_VERSION: &str = "3.0";

/// `supervisor.getSupervisorVersion`, `supervisord --version` and the web page footer.
pub const SUPERVISOR_VERSION: &str = "4.3.0";
