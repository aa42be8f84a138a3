//! rpc (being built).
