# kmsguard in a container, for Azure DevOps and GitLab container jobs:
#   docker build -t kmsguard .
#   docker run --rm -v "$PWD:/src" kmsguard check .
# The build stage compiles on Alpine, whose Rust targets musl, so the binary
# is static; the final image holds that binary and nothing else (no shell),
# and runs as an unprivileged user.
FROM rust:1-alpine AS build
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev
WORKDIR /build
COPY Cargo.toml Cargo.lock ./
COPY crates crates
COPY src src
COPY policies policies
COPY benches benches
COPY README.md LICENSE CHANGELOG.md ./
COPY examples examples
RUN cargo build --release --locked --bin kmsguard \
    && strip target/release/kmsguard

FROM scratch
COPY --from=build /build/target/release/kmsguard /usr/local/bin/kmsguard
COPY --from=build /build/LICENSE /usr/share/doc/kmsguard/LICENSE
# A numeric user: scratch has no /etc/passwd.
USER 65532:65532
WORKDIR /src
ENTRYPOINT ["kmsguard"]
CMD ["check", "."]
