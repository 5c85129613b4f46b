//! notify-service's own tables: deliveries, suppressions and organization templates. They live
//! in notify-service's database (which may be the same database as invite-service's: the table
//! names and the migration table are notify-service's own).
pub mod entities;
pub mod migrations;
pub mod values;
