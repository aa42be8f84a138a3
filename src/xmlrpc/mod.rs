//! XML-RPC codec shared by the server (rpc) and the client (ctl): the `Value` model, decoding with
//! depth/size caps and the reference's server-side quirks (plus a one-pass fast path for the
//! plain replies encoders write, `decode/fast.rs`), and encoding byte-identical to Python's
//! `xmlrpc.client.dumps`.

mod decode;
mod encode;
mod value;

// Re-exports: the API of rpc (server side) and ctl (client side).
pub use decode::{DecodeError, DecodeOptions, Response, decode_call, decode_response};
pub use encode::{encode_call, encode_fault, encode_response};
pub use value::Value;

/// For the fuzz targets' differential check of the two response decoders.
pub(crate) use decode::response_both_ways;
