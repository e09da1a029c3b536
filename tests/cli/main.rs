//! Integration tests for the `draft` CLI: the real binary, driven on real git
//! repos built in temp dirs, one module per command or concern. Each test's
//! name says the behaviour it pins down; SPEC.md §1–4 is the contract.

mod support;

mod apply;
mod browser;
mod caching;
mod concurrency;
mod crashes;
mod create;
mod demo;
mod discard;
mod errors;
mod evidence;
mod forgeries;
mod gate;
mod gc;
mod hostile;
mod http_api;
mod init;
mod layouts;
mod list;
mod mcp;
mod mcp_clients;
mod outside;
mod properties;
mod proposal_files;
mod provenance;
mod reading;
mod readme;
mod secrets;
mod shell;
mod show;
mod spec_fields;
mod sync;
mod target_urls;
mod trust;
mod upkeep;
mod validate;
mod work_tree;
