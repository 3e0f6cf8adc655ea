/* Shared harness for the exact-LRU micro-benchmarks (hwmodel functional-mode study).
 * Each variant defines: reset(), run(n) -> fills g_faults/g_dirty, lru_order(out) (pages from LRU to MRU).
 * main(): loads pages.bin/writes.bin, runs REPS times (best wall time of the run() call only),
 * prints faults, dirty victims, a hash of the final LRU order (page + dirty), M accesses/s. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NPAGES (1 << 20)     /* 4 GiB VM / 4 KiB */
#define NFRAMES (1 << 18)    /* 1 GiB local / 4 KiB */
#define PF(p) __builtin_prefetch((const void *)(p), 1, 3)
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

static int32_t *pages;
static uint8_t *writes;
static long g_faults, g_dirty;

static void reset(void);
static void run(long n);
/* final state: page[k], dirty[k] for k = 0 (LRU) .. count-1 (MRU); returns count */
static long lru_order(int32_t *page, uint8_t *dirty);

static void *xalloc(size_t sz) {
    void *p = NULL;
    if (posix_memalign(&p, 4096, sz)) { perror("alloc"); exit(1); }
    memset(p, 0, sz);
    return p;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static long load(const char *fn, void *dst, size_t esz, long n) {
    FILE *f = fopen(fn, "rb");
    if (!f) { perror(fn); exit(1); }
    long k = fread(dst, esz, n, f);
    fclose(f);
    return k;
}

static void extra_report(void);   /* variant-specific counters (may be empty) */

int main(int argc, char **argv) {
    long n = 10000000;
    int reps = 5;
    if (getenv("N")) n = atol(getenv("N"));
    if (getenv("REPS")) reps = atoi(getenv("REPS"));
    const char *dir = getenv("DATA") ? getenv("DATA") : "..";
    char fn[512];
    pages = xalloc(n * 4 + 4096);
    writes = xalloc(n + 4096);
    snprintf(fn, sizeof fn, "%s/pages.bin", dir);
    long k1 = load(fn, pages, 4, n);
    snprintf(fn, sizeof fn, "%s/writes.bin", dir);
    long k2 = load(fn, writes, 1, n);
    if (k1 != n || k2 != n) { fprintf(stderr, "short trace\n"); return 1; }
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        reset();
        double t0 = now();
        run(n);
        double t1 = now();
        if (t1 - t0 < best) best = t1 - t0;
    }
    int32_t *op = xalloc(NFRAMES * 4);
    uint8_t *od = xalloc(NFRAMES);
    long cnt = lru_order(op, od);
    uint64_t h = 1469598103934665603ull;
    for (long k = 0; k < cnt; k++) { h ^= (uint64_t)op[k] * 2 + od[k]; h *= 1099511628211ull; }
    printf("%-14s n=%ld faults=%ld (%.2f%%) dirty_victims=%ld resident=%ld order_hash=%016llx best=%.4fs  %.2f M acc/s\n",
           argv[0], n, g_faults, 100.0 * g_faults / n, g_dirty, cnt, (unsigned long long)h, best, n / best / 1e6);
    extra_report();
    return 0;
}
