#!/usr/bin/env bash
# A proxy author's crate, as the README tells them to depend on sslrequire
# (issue 12): it must build with rustls on its own default provider and not
# panic at `ServerConfig::builder()` (two providers would), and bring
# nothing of the CLI. Run by .ci/run; needs the crates.io registry.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/src"
# The README's dependency line, with a path instead of the version.
line=$(grep -m1 '^sslrequire = { version' "$repo/README.md")
[ -n "$line" ] || { echo "README.md: no 'sslrequire = { version …' dependency line" >&2; exit 1; }
line=$(printf '%s' "$line" | sed -E "s#version = \"[^\"]*\"#path = \"$repo\"#")
cat > "$dir/Cargo.toml" <<TOML
[package]
name = "proxy-author"
version = "0.1.0"
edition = "2021"

[dependencies]
$line
rustls = "0.23"
TOML
cat > "$dir/src/main.rs" <<'RS'
fn main() {
    // Panics if two crypto providers are enabled and none is installed.
    let _ = rustls::ServerConfig::builder();
    let p = sslrequire::Program::new(r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS""#).unwrap();
    assert!(!p.is_empty());
    println!("proxy-author: builds and runs with rustls's default provider");
}
RS
cd "$dir"
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target/proxy-author}" cargo run --quiet
tree=$(cargo tree -e normal 2>/dev/null)
if grep -Eq '\b(clap|rayon|indicatif|tokio|hyper) v' <<<"$tree"; then
  echo "proxy-author: the dependency line brings CLI or server crates:" >&2
  grep -E '\b(clap|rayon|indicatif|tokio|hyper) v' <<<"$tree" >&2
  exit 1
fi
# The rustls features sslrequire itself turns on: "std" only.
ours=$(cargo tree -e features -i rustls 2>/dev/null | awk '/sslrequire v/ {print prev} {prev=$0}')
if grep -v 'feature "std"' <<<"$ours" | grep -q 'feature'; then
  echo "proxy-author: sslrequire chooses rustls features:" >&2
  echo "$ours" >&2
  exit 1
fi
echo "proxy-author: no CLI or server crates; rustls's provider is the application's"
