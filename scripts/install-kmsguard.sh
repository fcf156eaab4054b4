#!/usr/bin/env bash
# Installs kmsguard into "$KMSGUARD_ROOT/bin": the release binary for this
# machine when the version is a release, checked against the release's
# SHA256SUMS; otherwise built with `cargo install`. The GitHub Action runs
# it; it works on any machine with bash, curl, tar (unzip on Windows) and
# sha256sum or shasum.
#
#   KMSGUARD_VERSION   v0.2.0, 0.2.0, or anything else (a branch, a commit):
#                      not a release, so built from KMSGUARD_SOURCE
#   KMSGUARD_ROOT      install root; the binary goes to $KMSGUARD_ROOT/bin
#   KMSGUARD_SOURCE    a kmsguard checkout to build when there is no release
#                      (the action's own directory); without it, the crate
#                      is built from crates.io
#   KMSGUARD_RELEASES  where releases are (default: the GitHub project's);
#                      $KMSGUARD_RELEASES/v0.2.0/SHA256SUMS must exist
#   KMSGUARD_OS, KMSGUARD_ARCH   override the detected Linux/macOS/Windows
#                      and X64/ARM64 (the runner's RUNNER_OS and RUNNER_ARCH)
#   CARGO              the cargo to run for a build (default: cargo)
#
# A checksum that does not match is a failure, never a reason to build
# instead: a tampered download must stop the job.
set -euo pipefail

version=${KMSGUARD_VERSION:?set KMSGUARD_VERSION}
root=${KMSGUARD_ROOT:?set KMSGUARD_ROOT}
releases=${KMSGUARD_RELEASES:-https://github.com/kmsguard/kmsguard/releases/download}
cargo=${CARGO:-cargo}

say() { printf 'install-kmsguard: %s\n' "$*" >&2; }

os=${KMSGUARD_OS:-${RUNNER_OS:-}}
arch=${KMSGUARD_ARCH:-${RUNNER_ARCH:-}}
if [ -z "$os" ]; then
  case "$(uname -s)" in
    Linux) os=Linux ;;
    Darwin) os=macOS ;;
    MINGW* | MSYS* | CYGWIN*) os=Windows ;;
    *) os=$(uname -s) ;;
  esac
fi
if [ -z "$arch" ]; then
  case "$(uname -m)" in
    x86_64 | amd64) arch=X64 ;;
    aarch64 | arm64) arch=ARM64 ;;
    *) arch=$(uname -m) ;;
  esac
fi

exe=""
case "$os/$arch" in
  Linux/X64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64) target=aarch64-unknown-linux-musl ;;
  macOS/X64) target=x86_64-apple-darwin ;;
  macOS/ARM64) target=aarch64-apple-darwin ;;
  Windows/X64) target=x86_64-pc-windows-msvc exe=.exe ;;
  *) target="" ;;
esac
bin="$root/bin/kmsguard$exe"
mkdir -p "$root/bin"

build() {
  say "$1; building kmsguard with cargo instead"
  if [ -n "${KMSGUARD_SOURCE:-}" ]; then
    "$cargo" install --locked --root "$root" --path "$KMSGUARD_SOURCE"
  elif [ -n "${number:-}" ]; then
    "$cargo" install --locked --root "$root" "kmsguard@$number"
  else
    say "no source to build $version from (set KMSGUARD_SOURCE)"
    exit 1
  fi
  say "built $bin"
  exit 0
}

# A release is a version number; a branch or commit has none to download.
number=${version#v}
if ! printf '%s' "$number" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$'; then
  number=""
  build "\"$version\" is not a release version"
fi
[ -n "$target" ] || build "no release binary for $os/$arch"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ "$os" = Windows ]; then ext=zip; else ext=tar.gz; fi
name="kmsguard-$number-$target"
asset="$name.$ext"
base="$releases/v$number"
if ! curl -fsSL --retry 3 -o "$work/SHA256SUMS" "$base/SHA256SUMS" 2>/dev/null; then
  build "no release v$number (no $base/SHA256SUMS)"
fi
expected=$(awk -v a="$asset" '$2 == a || $2 == "*" a { print $1 }' "$work/SHA256SUMS")
if [ -z "$expected" ]; then
  build "release v$number has no $asset"
fi
if ! curl -fsSL --retry 3 -o "$work/$asset" "$base/$asset"; then
  say "release v$number lists $asset but it cannot be downloaded"
  exit 1
fi
if command -v sha256sum >/dev/null 2>&1; then
  actual=$(sha256sum "$work/$asset" | cut -d' ' -f1)
else
  actual=$(shasum -a 256 "$work/$asset" | cut -d' ' -f1)
fi
if [ "$actual" != "$expected" ]; then
  say "checksum mismatch for $asset: SHA256SUMS says $expected, the download is $actual"
  exit 1
fi
if [ "$ext" = zip ]; then
  unzip -q "$work/$asset" -d "$work/x"
else
  mkdir "$work/x"
  tar -xzf "$work/$asset" -C "$work/x"
fi
if [ ! -f "$work/x/$name/kmsguard$exe" ]; then
  say "$asset does not hold $name/kmsguard$exe"
  exit 1
fi
cp "$work/x/$name/kmsguard$exe" "$bin"
chmod +x "$bin"
say "installed $bin from $asset (sha256 $actual)"
