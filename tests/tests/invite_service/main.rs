//! End-to-end tests of invite-service: the real server over real gRPC and HTTP, each test on a
//! database of its own, every test run against both SQLite and PostgreSQL.
mod api;
mod at_rest;
mod ats;
mod bad_input;
mod batches;
mod cohorts;
mod deliverability;
mod edge;
mod email;
mod enrollments;
mod external_ids;
mod lifecycle;
mod links;
mod metrics;
mod migrations;
mod postgres;
mod public;
mod races;
mod readiness;
mod renewals;
mod shutdown;
mod stored_data;
mod tenancy;
mod transport;
mod webhook_crash;
mod webhooks;
