//! In-process benchmarks of the functions every command leans on: reading a
//! draft's YAML, scanning for secrets, the spec digest, and the Merkle log at
//! the sizes a long-lived repo reaches. Run with `cargo bench --bench hot_paths`.

use divan::{Bencher, black_box};
use zen_draft::domain::digest::value_digest;
use zen_draft::domain::draft::Draft;
use zen_draft::domain::secrets::find_raw_secret;
use zen_draft::evidence::merkle::{self, Hash};

fn main() {
    divan::main();
}

const DRAFT: &str = r#"version: 1
id: 01a20a80-8f55-7638-a60b-7fe8f28edead
type: endpoint
status: pending
tenant: acme
created_by: agent:ops-bot
created_at: "2026-11-23T22:22:07Z"
expires_at: "2026-11-30T22:22:07Z"
proposed_spec:
  name: stripe-payments
  provider: stripe
  target_url: https://hooks.example.com/stripe/payments
  secret_ref: vault://kv/webhooks/stripe
  description: Stripe payment events for the billing service
  events:
  - payment_intent.succeeded
  - payment_intent.payment_failed
  - charge.refunded
base: null
"#;

#[divan::bench]
fn parse_draft_yaml() -> Draft {
    zen_draft::yaml::parse(black_box(DRAFT.as_bytes())).expect("the sample parses")
}

#[divan::bench]
fn render_draft_yaml(bencher: Bencher) {
    let draft: Draft = zen_draft::yaml::parse(DRAFT.as_bytes()).unwrap();
    bencher.bench(|| zen_draft::yaml::render(black_box(&draft)));
}

#[divan::bench(args = [
    "https://hooks.example.com/stripe/payments",
    "Stripe payment events for the billing service",
    "payment_intent.succeeded",
    "vault://kv/webhooks/stripe",
])]
fn secret_scan_clean(value: &str) -> bool {
    find_raw_secret(black_box(value)).is_some()
}

#[divan::bench]
fn secret_scan_whole_draft() -> bool {
    find_raw_secret(black_box(DRAFT)).is_some()
}

#[divan::bench]
fn spec_digest(bencher: Bencher) {
    let draft: Draft = zen_draft::yaml::parse(DRAFT.as_bytes()).unwrap();
    let spec = draft.proposed_spec.unwrap();
    bencher.bench(|| value_digest(black_box(&spec)));
}

fn leaves(n: usize) -> Vec<Hash> {
    (0..n).map(|i| merkle::leaf_hash(format!("record {i}").as_bytes())).collect()
}

#[divan::bench(args = [1_000, 10_000, 100_000])]
fn merkle_root(bencher: Bencher, n: usize) {
    let leaves = leaves(n);
    bencher.bench(|| merkle::root(black_box(&leaves)));
}

#[divan::bench(args = [1_000, 10_000, 100_000])]
fn merkle_inclusion_proof(bencher: Bencher, n: usize) {
    let leaves = leaves(n);
    bencher.bench(|| merkle::inclusion_proof(black_box(&leaves), n / 3));
}

#[divan::bench(args = [1_000, 10_000, 100_000])]
fn merkle_consistency_proof(bencher: Bencher, n: usize) {
    let leaves = leaves(n);
    bencher.bench(|| merkle::consistency_proof(black_box(&leaves), n / 2));
}

#[divan::bench]
fn merkle_verify_inclusion_100k(bencher: Bencher) {
    let leaves = leaves(100_000);
    let root = merkle::root(&leaves);
    let proof = merkle::inclusion_proof(&leaves, 31_337).unwrap();
    bencher.bench(|| merkle::verify_inclusion(&leaves[31_337], 31_337, 100_000, black_box(&proof), &root));
}
