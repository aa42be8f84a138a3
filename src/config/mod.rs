//! Configuration: reading supervisord.conf files (with includes), expanding values, and resolving
//! them into the typed model of `model.rs`.

pub mod dependencies;
pub mod dotenv;
pub mod dump;
pub mod error;
pub mod expand;
pub mod healthcheck;
pub mod known;
pub mod load;
mod loader;
pub mod locate;
pub mod model;
pub mod programs;
pub mod servers;
pub mod source;
pub mod users;
pub mod values;

pub use load::{check, load, load_ctl};
pub use locate::{find_config_file, search_paths};
