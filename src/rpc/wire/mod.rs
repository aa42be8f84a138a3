//! Temporary stand-in for `crate::xmlrpc` (owned by the ctl area, not yet on main): a snapshot of
//! its Value and codec so the RPC layer builds and tests now. Replaced by a re-export once landed.

mod decode;
mod encode;
mod value;

pub use decode::{DecodeError, DecodeOptions, decode_call};
pub use encode::{encode_fault, encode_response};
pub use value::Value;
