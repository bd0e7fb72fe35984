//! Infinia Pay, black-box: the envelope against the independent Python implementation, account
//! binding, SFTP trade-detail uploads with OpenSSH's `sftp`, revenue sharing, the seller status
//! webhook with retries, and the seller-lifecycle scenario.

mod binding;
mod envelope;
mod measure;
mod refusals;
mod revenue;
mod scenario;
mod sftp;
mod sftp_limits;
pub mod support;
mod webhook;
