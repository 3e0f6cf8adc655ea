/* Shared main() for real/: loads ../addr.bin + op.bin (DATA overrides the dir), N (default 10M)
 * and REPS (default 5) from the environment; best wall time of run() over REPS; prints faults, dirty victims,
 * and an FNV-1a hash of the final LRU order from LRU to MRU of (page*2 + dirty), as ../simplified/common.h.
 * Each variant defines reset(), run(n), lru_order(page, dirty) -> count, extra_report(). */
static long lru_order(int32_t *page, uint8_t *d);
static void extra_report(void);
int main(int argc, char **argv) {
    long n = 10000000; int reps = 5;
    if (getenv("N")) n = atol(getenv("N"));
    if (getenv("REPS")) reps = atoi(getenv("REPS"));
    const char *dir = getenv("DATA") ? getenv("DATA") : "..";
    char fn[512];
    addr = xalloc(n * 8); op = xalloc(n); tcol = xalloc(n * 8); pages = xalloc(n * 4);   /* tcol = 0 as real.c */
    snprintf(fn, sizeof fn, "%s/addr.bin", dir);
    FILE *f = fopen(fn, "rb"); if (!f || fread(addr, 8, n, f) != (size_t)n) return 1; fclose(f);
    snprintf(fn, sizeof fn, "%s/op.bin", dir);
    f = fopen(fn, "rb"); if (!f || fread(op, 1, n, f) != (size_t)n) return 1; fclose(f);
    for (long i = 0; i < n; i++) pages[i] = (int32_t)(addr[i] >> 12);
    double best = 1e9;
    for (int r = 0; r < reps; r++) { reset(); double t0 = now(); run(n); double t1 = now(); if (t1 - t0 < best) best = t1 - t0; }
    int32_t *opg = xalloc(NFRAMES * 4); uint8_t *od = xalloc(NFRAMES);
    long cnt = lru_order(opg, od);
    uint64_t h = 1469598103934665603ull;
    for (long k = 0; k < cnt; k++) { h ^= (uint64_t)opg[k] * 2 + od[k]; h *= 1099511628211ull; }
    printf("%-18s ADDR64=%d TCOL=%d PTDIR=%d n=%ld faults=%ld (%.2f%%) dirty=%ld resident=%ld hash=%016llx best=%.4fs %.2f M/s\n",
           argv[0], ADDR64, TCOL, PTDIR, n, g_faults, 100.0 * g_faults / n, g_dirty, cnt, (unsigned long long)h, best, n / best / 1e6);
    extra_report();
    return 0;
}
