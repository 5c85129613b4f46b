//! The schema: sea-orm entities and the migrations that create them.
pub mod entities;
pub mod migrations;
pub mod values;
