#!/bin/sh
# 3 invocations, round-robin over the binaries; each prints best of 5 (run() only)
cd "$(dirname "$0")"
B="real_111 reallog_111 reallog_011 reallog_101 reallog_110 reallog_111_df reallog_111_nospf reallog_111_spf2 reallog_111_page reallog_111_page_nospf reallog_111_noslot real_111_noslot real_000 reallog_000"
for inv in 1 2 3; do for b in $B; do timeout 120 ./$b | head -1; done; done
