# knock-rotator tasks. `just --list` shows them.

musl := "x86_64-unknown-linux-musl"

# Build the static release binary and print a sequence (needs KNOCKD_ROTATOR_SECRET).
run SERVICE="ssh":
    cargo run --release -- generate {{SERVICE}}

# Everything CI runs: installs missing components, lint, all tests.
test:
    bash tests/run

# Unit and integration tests only (no installs, no lint).
check:
    cargo test

lint:
    cargo fmt --check
    cargo clippy --all-targets -- -D warnings

# Benchmarks of the static musl build and the host build.
bench *GROUPS:
    cargo build --release --target {{musl}}
    KNOCK_ROTATOR_BIN={{justfile_directory()}}/target/{{musl}}/release/knock-rotator cargo bench --bench bench -- {{GROUPS}}
