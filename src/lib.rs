//! zen-draft: a human gate between AI agents and production infrastructure.
//!
//! Agents propose changes as drafts on a `drafts` branch; people review them
//! and only a person can apply one to `main`. See the README for the tour and
//! docs/PERFORMANCE.md for what it costs.

pub mod cli;
pub mod demo;
pub mod domain;
pub mod error;
pub mod evidence;
pub mod http;
pub mod mcp;
pub mod service;
pub mod store;
pub mod yaml;

#[cfg(test)]
mod hostile_tests;
