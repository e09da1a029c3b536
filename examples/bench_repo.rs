//! Writes a `git fast-import` stream for a benchmark repo with N drafts, each
//! created by its own commit and carrying a signed `draft_created` note, as
//! `draft create` would leave them; so the benchmarks measure zen-draft on the
//! data it really reads, built in seconds rather than N CLI calls.
//!
//! Usage: `cargo run --release --example bench_repo -- N KEY_DIR [SPAN] > stream`,
//! then `git init -q -b main repo && git -C repo fast-import < stream`.
//! KEY_DIR receives the signing key of the agent `bench-bot`. SPAN is how
//! long the drafts took to arrive, in seconds (default 300 days, the spread
//! case; 3600 is a burst: every draft within the last hour).

use chrono::{Duration, SubsecRound, Utc};
use serde_json::json;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use zen_draft::domain::digest::value_digest;
use zen_draft::domain::draft::{DRAFT_VERSION, Draft, DraftType, Status};
use zen_draft::domain::draft_id::DraftId;
use zen_draft::evidence::index_path;
use zen_draft::evidence::record::{Record, SignedRecord};
use zen_draft::evidence::signing::{KeyFileSigner, Signer};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().and_then(|n| n.parse().ok()).expect("usage: bench_repo N KEY_DIR");
    let key_dir = PathBuf::from(args.next().expect("usage: bench_repo N KEY_DIR [SPAN]"));
    let span_seconds: i64 = args.next().map_or(300 * 86_400, |s| s.parse().expect("SPAN is seconds"));
    std::fs::create_dir_all(&key_dir)?;
    let key = ssh_key::PrivateKey::random(&mut ssh_key::rand_core::OsRng, ssh_key::Algorithm::Ed25519).unwrap();
    let key_path = key_dir.join("bench-bot");
    key.write_openssh_file(&key_path, ssh_key::LineEnding::LF).unwrap();
    let public = key.public_key().to_openssh().unwrap();
    let signer = KeyFileSigner::load(&key_path).unwrap();

    let out = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, out.lock());
    let now = Utc::now().trunc_subsecs(0);
    let stamp = now.timestamp();
    let who = format!("Bench <bench@example.com> {stamp} +0000");

    // main: the config, the signers, and a few live endpoints.
    let config = "tenant: acme\nmain_branch: main\ndrafts_branch: drafts\nttl: 7d\ngc_max_per_run: 100\n";
    let signers = format!("bench-bot,alice namespaces=\"zen-draft-evidence,zen-draft-apply\" {public}\n");
    writeln!(out, "commit refs/heads/main\nmark :1\ncommitter {who}")?;
    data(&mut out, "Benchmark infrastructure\n")?;
    inline(&mut out, ".zen/config.yaml", config)?;
    inline(&mut out, ".zen/allowed_signers", &signers)?;
    for i in 0..20 {
        let endpoint = format!("name: live-{i}\nprovider: github\ntarget_url: https://hooks.example.com/live-{i}\n");
        inline(&mut out, &format!("endpoints/live-{i}.yaml"), &endpoint)?;
    }
    writeln!(out, "commit refs/heads/drafts\nmark :2\ncommitter {who}")?;
    data(&mut out, "Start the drafts branch\n")?;

    // One commit per draft, spread evenly over the span, all still pending.
    let span = Duration::seconds(span_seconds);
    let mut notes = Vec::with_capacity(count);
    for i in 0..count {
        let created = now - span + Duration::milliseconds(span.num_milliseconds() * i as i64 / count.max(1) as i64);
        let created = created.trunc_subsecs(0);
        let id = DraftId::generate(created);
        let name = format!("bench-{i}");
        let spec = json!({
            "name": name,
            "provider": "stripe",
            "target_url": format!("https://hooks.example.com/{name}"),
            "secret_ref": format!("vault://kv/webhooks/{name}"),
            "events": ["payment_intent.succeeded", "charge.refunded"],
        });
        let draft = Draft {
            version: DRAFT_VERSION,
            id: id.to_string(),
            draft_type: DraftType::Endpoint,
            status: Status::Pending,
            tenant: "acme".into(),
            created_by: "agent:bench-bot".into(),
            created_at: created,
            expires_at: now + Duration::days(400),
            proposed_spec: Some(spec.clone()),
            base: None,
            applied_by: None,
            applied_at: None,
            applied_commit: None,
            resource_created: None,
            discarded_by: None,
            discarded_at: None,
            reason: None,
            rationale: None,
            links: Vec::new(),
            agent: None,
        };
        let mark = i + 3;
        writeln!(out, "commit refs/heads/drafts\nmark :{mark}\ncommitter {who}")?;
        data(
            &mut out,
            &format!("Create draft {id}: endpoint {name}\n\nDraft-Id: {id}\nCreated-By: agent:bench-bot\n"),
        )?;
        inline(&mut out, &id.path(), &zen_draft::yaml::render(&draft))?;
        let record = Record::DraftCreated {
            draft_id: id.to_string(),
            draft_type: "endpoint".into(),
            created_by: "agent:bench-bot".into(),
            created_at: created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            proposed_spec_digest: value_digest(&spec),
            merkle_position: i as u64,
            signer: "bench-bot".into(),
            provenance_digest: None,
        };
        let signature = signer.sign(record.namespace(), record.signed_message().as_bytes()).unwrap();
        notes.push((mark, id, SignedRecord::new(record, signature).to_note()));
    }

    // The notes: every record on its commit, in git's fan-out, plus our index.
    writeln!(out, "commit refs/notes/zen-evidence\ncommitter {who}")?;
    data(&mut out, &format!("{count} records\n\nEvidence-Size: {count}\n"))?;
    for (mark, id, note) in &notes {
        writeln!(out, "N inline :{mark}")?;
        data(&mut out, note)?;
        inline(&mut out, &index_path(&id.path(), "draft_created"), note)?;
    }
    out.flush()
}

fn data(out: &mut impl Write, text: &str) -> std::io::Result<()> {
    writeln!(out, "data {}", text.len())?;
    out.write_all(text.as_bytes())?;
    writeln!(out)
}

fn inline(out: &mut impl Write, path: &str, text: &str) -> std::io::Result<()> {
    writeln!(out, "M 100644 inline {path}")?;
    data(out, text)
}
