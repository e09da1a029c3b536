# Shared by the benchmark scripts: builds the release binary and the repo
# generator, and gives every run the same hermetic git environment.
# Sourced with $root set to the repository root; sets $draft and $gen.
cargo build --release --quiet --bin draft --example bench_repo
draft=$root/target/release/draft
gen=$root/target/release/examples/bench_repo

export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 NO_COLOR=1
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
unset ZEN_MCP_TOKEN ZEN_USER_ID ZEN_SIGNING_KEY ZEN_TENANT
