//! End-to-end tests of notify-service against a real SMTP server on loopback, each run on the
//! in-process backend and on Redis.
mod crash;
mod delivery;
mod edge;
mod metrics;
mod requests;
mod sealing;
mod shutdown;
