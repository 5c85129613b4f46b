//! How an invite row is written.
