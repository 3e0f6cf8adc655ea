"""Shared by the benchmarks: rates from pytest-benchmark's timings.

CI runs the suite once with --benchmark-disable (each benchmark runs once, untimed) so that the
benchmarks cannot rot; then there are no statistics and no rates to report.
"""


def per_second(benchmark, count, stat="min"):
    """count / the fastest (or mean) round in seconds, or None when timing is disabled."""
    stats = getattr(benchmark, "stats", None)
    if stats is None:
        return None
    return count / getattr(stats.stats, stat)
