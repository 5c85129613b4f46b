//! Both services' settings as an operator gives them: the real binaries, started with a cleared
//! environment plus the variables (or the TOML file) under test. Each setting is shown to be
//! used where that can be seen from outside (where it listens, the links, the mail, the logs),
//! and otherwise in the effective configuration the service logs at start. Every configuration
//! error ends the start with exit status 2 and one line naming the setting.
mod invite;
mod notify;
mod traces;
