# knock-rotator tasks. `just --list` shows them.

musl := "x86_64-unknown-linux-musl"
# What `just dist` ships: 64-bit PCs, servers and phones; 32-bit ARM routers
# and phones; MediaTek (mipsel) and Atheros (mips, big-endian) routers.
dist_targets := "x86_64-unknown-linux-musl aarch64-unknown-linux-musl armv7-unknown-linux-musleabihf mipsel-unknown-linux-musl mips-unknown-linux-musl"

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

# Benchmarks of the shipped x86_64 executable (dist/build.sh) and the host build.
bench *GROUPS:
    dist/build.sh {{musl}}
    KNOCK_ROTATOR_BIN={{justfile_directory()}}/target/{{musl}}/dist/knock-rotator cargo bench --bench bench -- {{GROUPS}}

# Static, stripped release executables for every device, each at most 512 KiB, with SHA256SUMS, in target/dist/.
dist:
    #!/usr/bin/env bash
    set -euo pipefail
    targets=({{dist_targets}})
    dist/build.sh "${targets[@]}"
    rm -rf target/dist && mkdir -p target/dist
    for t in "${targets[@]}"; do
        cp "target/$t/dist/knock-rotator" "target/dist/knock-rotator-$t"
    done
    cd target/dist && sha256sum knock-rotator-* > SHA256SUMS
    ls -l
