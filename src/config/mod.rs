//! Configuration: reading supervisord.conf files (with includes), expanding values, and resolving
//! them into the typed model of `model.rs`.

pub mod dump;
pub mod error;
pub mod expand;
pub mod known;
pub mod load;
pub mod locate;
pub mod model;
pub mod programs;
pub mod servers;
pub mod source;
pub mod users;
pub mod values;

#[allow(unused_imports)]
pub use error::ConfigError;
#[allow(unused_imports)]
pub use load::{Report, check, load, load_ctl};
#[allow(unused_imports)]
pub use locate::{find_config_file, search_paths};
