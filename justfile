# knock-rotator tasks. `just --list` shows them.

musl := "x86_64-unknown-linux-musl"

# Build the static release binary and print a sequence (needs KNOCKD_ROTATOR_SECRET).
run SERVICE="ssh":
    cargo run --release -- generate {{SERVICE}}

# Everything CI runs: installs missing components, lint, all tests.
test:
    bash tests/run

# Unit and integration tests a non-root contributor can run (root-only ones are ignored; tests/run runs them).
check:
    cargo test

lint:
    cargo fmt --check
    cargo clippy --all-targets -- -D warnings

# Benchmarks of the static musl build and the host build.
bench *GROUPS:
    cargo build --release --target {{musl}}
    KNOCK_ROTATOR_BIN={{justfile_directory()}}/target/{{musl}}/release/knock-rotator cargo bench --bench bench -- {{GROUPS}}

# Static, stripped release executables for every device, with SHA256SUMS, in target/dist/.
dist:
    #!/usr/bin/env bash
    set -euo pipefail
    targets=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl)
    installed=$(rustup target list --installed)
    for t in "${targets[@]}"; do
        grep -qx "$t" <<<"$installed" || rustup target add "$t"
    done
    rm -rf target/dist && mkdir -p target/dist
    for t in "${targets[@]}"; do
        cargo build --release --locked --target "$t"
        cp "target/$t/release/knock-rotator" "target/dist/knock-rotator-$t"
    done
    cd target/dist && sha256sum knock-rotator-* > SHA256SUMS
    ls -l
