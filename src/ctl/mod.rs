//! ctl (being built).
