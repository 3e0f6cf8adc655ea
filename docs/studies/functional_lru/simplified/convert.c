/* Cost of converting between representations at a mode switch. The state: the stamp+log simulator
 * (stamplog.c, 8-byte pt records, KEEPF) after the whole 10M-access trace (a realistic log, ~3x stale).
 *  A  log -> list : scan the log oldest..newest, keep valid entries (pt checks prefetched), build
 *                   prev/nxt/dirty[frame] (+ head/tail) as today's detailed mode has them.
 *  B1 list -> log : walk the list from the tail (pointer chase), write the log (stamps 1..F) and
 *                   the pt stamps/dirty bits (what the functional mode needs after a detailed phase).
 *  B2 stamps -> ordered (sort): if every touch in the detailed mode also wrote the stamp into the pt
 *                   record, the order is recovered without a chase: scan frames, gather (stamp,page)
 *                   (pt reads prefetched), LSD radix sort, write the log / build the list.
 *                   (= what a calendar -> list conversion costs, too.) */
#define main sim_main
#include "stamplog.c"
#undef main

static int32_t *cprev, *cnxt, chead, ctail;
static uint8_t *cdirty;

static void log_to_list(void) {
    int32_t last = -1;
    chead = ctail = -1;
    for (uint64_t k = ltail; k < lhead; k++) {
        if (k + 32 < lhead) PF(pt + lg[(k + 32) & LMASK].page);
        lent_t e = lg[k & LMASK];
        pte_t *r = pt + e.page;
        if (RES(r) && r->stamp == e.stamp) {
            int32_t f = FRAME(r);
            cdirty[f] = DIRTY(r);
            cnxt[f] = last;             /* towards the LRU end */
            cprev[f] = -1;
            if (last >= 0) cprev[last] = f; else ctail = f;
            last = f;
        }
    }
    chead = last;
}

static void list_to_log(void) {
    uint32_t s = 0;
    ltail = lhead = 0;
    for (int32_t f = ctail; f >= 0; f = cprev[f]) {
        int32_t p = frame_page[f];
        pte_t *r = pt + p;
        r->stamp = ++s;
        SETPAGE(r, f, cdirty[f]);
        lg[lhead++ & LMASK] = (lent_t){p, s};
    }
    clk = s; pfpos = 0;
}

static uint64_t *ka, *kb;
static void sort_to_log(void) {
    long c = 0;
    for (int32_t f = 0; f < NFRAMES; f++) {
        if (f + 16 < NFRAMES) PF(pt + frame_page[f + 16]);
        int32_t p = frame_page[f];
        if (p >= 0 && RES(pt + p)) ka[c++] = (uint64_t)pt[p].stamp << 32 | (uint32_t)p;
    }
    static uint32_t cnt[1 << 16];
    for (int sh = 32; sh < 64; sh += 16) {      /* LSD radix on the stamp */
        memset(cnt, 0, sizeof cnt);
        for (long i = 0; i < c; i++) cnt[(ka[i] >> sh) & 0xffff]++;
        uint32_t acc = 0;
        for (int b = 0; b < 1 << 16; b++) { uint32_t t = cnt[b]; cnt[b] = acc; acc += t; }
        for (long i = 0; i < c; i++) kb[cnt[(ka[i] >> sh) & 0xffff]++] = ka[i];
        uint64_t *t = ka; ka = kb; kb = t;
    }
    ltail = lhead = 0;
    for (long i = 0; i < c; i++) lg[lhead++ & LMASK] = (lent_t){(int32_t)(uint32_t)ka[i], (uint32_t)(ka[i] >> 32)};
    clk = c ? (uint32_t)(ka[c - 1] >> 32) : 0; pfpos = 0;
}

static uint64_t hash_list(void) {
    uint64_t h = 1469598103934665603ull;
    for (int32_t f = ctail; f >= 0; f = cprev[f]) { h ^= (uint64_t)frame_page[f] * 2 + cdirty[f]; h *= 1099511628211ull; }
    return h;
}
static uint64_t hash_log(void) {
    int32_t *op = xalloc(NFRAMES * 4); uint8_t *od = xalloc(NFRAMES);
    long c = lru_order(op, od);
    uint64_t h = 1469598103934665603ull;
    for (long k = 0; k < c; k++) { h ^= (uint64_t)op[k] * 2 + od[k]; h *= 1099511628211ull; }
    free(op); free(od);
    return h;
}

int main(void) {
    long n = 10000000;
    pages = xalloc(n * 4 + 4096); writes = xalloc(n + 4096);
    load("../pages.bin", pages, 4, n); load("../writes.bin", writes, 1, n);
    cprev = xalloc(NFRAMES * 4); cnxt = xalloc(NFRAMES * 4); cdirty = xalloc(NFRAMES);
    ka = xalloc(NFRAMES * 8); kb = xalloc(NFRAMES * 8);
    reset(); run(n);
    printf("state after %ld accesses: faults=%ld dirty_victims=%ld log entries=%llu (valid %d) order_hash=%016llx\n",
           n, g_faults, g_dirty, (unsigned long long)(lhead - ltail), NFRAMES, (unsigned long long)hash_log());
    double best = 1e9, t0;
    for (int r = 0; r < 5; r++) { t0 = now(); log_to_list(); double d = now() - t0; if (d < best) best = d; }
    printf("A  log->list      : %.3f ms  (list hash %016llx)\n", best * 1e3, (unsigned long long)hash_list());
    best = 1e9;
    for (int r = 0; r < 5; r++) { t0 = now(); list_to_log(); double d = now() - t0; if (d < best) best = d; }
    printf("B1 list->log chase: %.3f ms  (log hash %016llx)\n", best * 1e3, (unsigned long long)hash_log());
    best = 1e9;
    for (int r = 0; r < 5; r++) { t0 = now(); sort_to_log(); double d = now() - t0; if (d < best) best = d; }
    printf("B2 stamps->log sort: %.3f ms  (log hash %016llx)\n", best * 1e3, (unsigned long long)hash_log());
    /* per switch pair at ~100 switches / 10M accesses */
    return 0;
}
