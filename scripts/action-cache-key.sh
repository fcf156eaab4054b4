#!/usr/bin/env bash
# The GitHub Action's version and cache key, as `version=…` and `key=…`
# lines for $GITHUB_OUTPUT. The version is the `version` input, else the
# action's own ref, else (a local `uses: ./`, which has no ref) "source". A
# release is cached by its number; anything else by a hash of the source it
# is built from, because hashFiles() cannot see the action's directory (the
# key used to collapse to "kmsguard-Linux-", and the first binary ever built
# was used for ever). OS and architecture are always part of the key.
#
#   INPUT_VERSION, ACTION_REF, GITHUB_ACTION_PATH, RUNNER_OS, RUNNER_ARCH
set -euo pipefail

version="${INPUT_VERSION:-${ACTION_REF:-source}}"
if printf '%s' "${version#v}" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$'; then
  key="release-${version#v}"
else
  cd "${GITHUB_ACTION_PATH:?}"
  roots=()
  for p in Cargo.toml Cargo.lock src crates policies; do
    if [ -e "$p" ]; then roots+=("$p"); fi
  done
  hash=$(find "${roots[@]}" -type f -not -path '*/target/*' | LC_ALL=C sort |
    while IFS= read -r f; do printf '%s\n' "$f"; cat "$f"; done |
    { sha256sum 2>/dev/null || shasum -a 256; } | cut -c1-16)
  key="source-$hash"
fi
echo "version=$version"
echo "key=kmsguard-$key-${RUNNER_OS:?}-${RUNNER_ARCH:?}"
