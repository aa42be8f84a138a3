//! The XML-RPC codec as the method layer uses it (owned by src/xmlrpc).

pub use crate::xmlrpc::{
    DecodeError, DecodeOptions, Value, decode_call, encode_fault, encode_response,
};
