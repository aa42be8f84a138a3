//! XML-RPC codec shared by the server (rpc) and the client (ctl): the `Value` model, decoding with
//! depth/size caps and the reference's server-side quirks, and encoding byte-identical to Python's
//! `xmlrpc.client.dumps`.

mod decode;
mod encode;
mod value;

// Re-exports are the module's API; users (rpc, ctl) are landing in parallel.
#[allow(unused_imports)]
pub use decode::{
    DecodeError, DecodeOptions, Dialect, MethodCall, Response, decode_call, decode_response,
};
#[allow(unused_imports)]
pub use encode::{EncodeError, encode_call, encode_fault, encode_response};
#[allow(unused_imports)]
pub use value::Value;
