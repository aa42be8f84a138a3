//! Configuration: reading supervisord.conf files (with includes), expanding values, and resolving
//! them into the typed model of `model.rs`.

pub mod model;
