#!/usr/bin/env bash
# Fuzz the parsers jobctl writes itself for untrusted text (JSON, durations, --check rules, --thresholds, --serve
# answers, --since times, error normalization, Redis URLs) with libFuzzer for SECONDS (default 60), from the seeds
# in Fuzz/seeds. A crash leaves its input in .build-fuzz/ and fails the run: make it a regression test
# (Tests/RedisBackendTests/FuzzRegressionTests.swift) before fixing it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
out=.build-fuzz
mkdir -p "$out/obj" "$out/corpus"
flags=(-sanitize=fuzzer,address -parse-as-library -swift-version 6 -O
  -enable-upcoming-feature ExistentialAny -enable-upcoming-feature InternalImportsByDefault
  -enable-upcoming-feature MemberImportVisibility)
# JobCore and JobHandlers as modules of their own (testable: the --serve answer parser is internal), then the Redis
# URL parser, then the entry point.
swiftc "${flags[@]}" -enable-testing -module-name JobCore -emit-module -emit-module-path "$out/obj/JobCore.swiftmodule" \
  -emit-library -static -o "$out/obj/libJobCore.a" $(find Sources/JobCore -name '*.swift' | sort) 2>&1 | { grep -v "ld.gold: warning" || true; }
swiftc "${flags[@]}" -enable-testing -I "$out/obj" -module-name JobHandlers -emit-module \
  -emit-module-path "$out/obj/JobHandlers.swiftmodule" -emit-library -static -o "$out/obj/libJobHandlers.a" \
  $(find Sources/JobHandlers -name '*.swift' | sort) 2>&1 | { grep -v "ld.gold: warning" || true; }
swiftc "${flags[@]}" -I "$out/obj" -module-name RedisEndpointParsing -emit-module \
  -emit-module-path "$out/obj/RedisEndpointParsing.swiftmodule" -emit-library -static -o "$out/obj/libRedisEndpointParsing.a" \
  Sources/RedisBackend/RedisEndpoint.swift
# Static archives carry no autolink entries: the libraries JobCore uses are named here.
swiftc "${flags[@]}" -I "$out/obj" -module-name FuzzTargets Fuzz/FuzzTargets.swift \
  "$out/obj/libRedisEndpointParsing.a" "$out/obj/libJobHandlers.a" "$out/obj/libJobCore.a" \
  -lswiftSynchronization -lswiftDispatch -ldispatch -lBlocksRuntime -lswiftGlibc -lFoundationEssentials \
  -o "$out/jobctl-fuzz" 2>&1 | { grep -v "ld.gold: warning" || true; }
# -close_fd_mask=3: the targets print nothing; keep libFuzzer's own report on stderr.
# No Swift backtracer: it would outlive a crashing run and hold the output pipe open.
SWIFT_BACKTRACE=enable=no "$out/jobctl-fuzz" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$out/" -timeout=10 -rss_limit_mb=2048 \
  "$out/corpus" Fuzz/seeds 2>&1 | grep -E "^(#[0-9]+.*DONE|Done|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)" || true
test -z "$(ls "$out"/crash-* "$out"/leak-* "$out"/timeout-* 2>/dev/null)" || { echo "fuzz: a crash was found (see $out/)" >&2; exit 1; }
