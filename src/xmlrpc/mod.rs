//! xmlrpc (being built).
