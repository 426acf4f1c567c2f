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

# Fuzz every parser for SECONDS each (fuzz/run.sh; findings land in fuzz/artifacts/).
fuzz SECONDS="60":
    fuzz/run.sh {{SECONDS}}

lint:
    cargo fmt --check
    rustfmt --edition 2024 --check tests/clock/stepper.rs
    cargo clippy --all-targets -- -D warnings
    cargo clippy --all-targets --features fuzzing -- -D warnings

# Benchmarks of the shipped x86_64 executable (dist/build.sh) and the host build; the nftables group needs root.
bench *GROUPS:
    dist/build.sh {{musl}}
    KNOCK_ROTATOR_BIN={{justfile_directory()}}/target/{{musl}}/dist/knock-rotator cargo bench --bench bench -- {{GROUPS}}

# Static, stripped release executables for every device (each at most 512 KiB), the Debian and OpenWrt packages made from them, and SHA256SUMS, in target/dist/.
dist:
    #!/usr/bin/env bash
    set -euo pipefail
    targets=({{dist_targets}})
    dist/build.sh "${targets[@]}"
    rm -rf target/dist && mkdir -p target/dist
    for t in "${targets[@]}"; do
        cp "target/$t/dist/knock-rotator" "target/dist/knock-rotator-$t"
    done
    # Debian packages, for the architectures Debian has.
    version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
    for t in x86_64-unknown-linux-musl:amd64 aarch64-unknown-linux-musl:arm64 armv7-unknown-linux-musleabihf:armhf; do
        dist/debian/build.sh "target/dist/knock-rotator-${t%%:*}" "${t#*:}" "$version-1" target/dist >/dev/null
    done
    # OpenWrt packages, one per OpenWrt architecture name that opkg and apk
    # check, each with the executable of its CPU family: an .ipk (opkg,
    # OpenWrt 24.10 and older) and an .apk (OpenWrt 25.12 and later).
    for t in x86_64:x86_64 aarch64:aarch64_generic aarch64:aarch64_cortex-a53 aarch64:aarch64_cortex-a72 \
             armv7:arm_cortex-a7_neon-vfpv4 armv7:arm_cortex-a9_vfpv3-d16 armv7:arm_cortex-a15_neon-vfpv4 \
             mipsel:mipsel_24kc mips:mips_24kc; do
        exe=$(ls target/dist/knock-rotator-${t%%:*}-unknown-linux-musl*)
        dist/openwrt/build.sh "$exe" "${t#*:}" "$version-1" target/dist >/dev/null
        dist/openwrt/build-apk.sh "$exe" "${t#*:}" "$version-r1" target/dist >/dev/null
    done
    cd target/dist && sha256sum knock-rotator* > SHA256SUMS
    ls -l
