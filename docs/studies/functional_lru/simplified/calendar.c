/* Alternative 3: stamps + a calendar of buckets (a sequence-number min structure), exact LRU.
 * pt record per page (8 bytes): {frame | dirty<<30 (or -1), stamp of the last touch}. A hit writes a
 * new stamp and the dirty bit into its pt record and does NOTHING else (one random line, no log append).
 * Each resident page has exactly one entry, in the bucket of the stamp it had when the entry was
 * made (B = 2^BSH stamps per bucket; buckets are chunked lists in a ring of NB). Eviction: the oldest
 * bucket is "sealed": every entry is checked against its pt stamp; a page touched since is moved to
 * the bucket of its current stamp, the others are placed in a direct-mapped array Q[stamp % B] (no
 * sort: stamps are unique). Victims are taken from Q in stamp order; a Q page touched since sealing is
 * moved on. New stamps always fall in a later bucket (B <= frames - 1), so the victim is always the
 * resident page with the smallest stamp: exact LRU. A page is re-checked about once per LRU cycle,
 * not once per touch as with the log.
 * Study limits: uint32 stamps (a real version: 64-bit, or renumbering); the ring must span the stamps
 * of all resident pages (checked: aborts otherwise; a real version needs a fallback). */
#include "common.h"
#ifndef F_LOC
#define F_LOC 12
#endif
#ifndef BSH
#define BSH 12
#endif
#ifndef NBSH
#define NBSH 10
#endif
#ifndef KEEPF
#define KEEPF 1
#endif
#define B (1u << BSH)
#define NB (1u << NBSH)
#define CH 62
#define NCHUNK (NFRAMES / CH * 2 + NB * 2 + 64)

typedef struct { int32_t fd; uint32_t stamp; } pte_t;
#define RES(r) ((r)->fd >= 0)
#define FRAME(r) ((r)->fd & ((1 << 30) - 1))
#define DIRTY(r) (((r)->fd >> 30) & 1)
typedef struct { int32_t next, n; int32_t pg[CH]; } chunk_t;

static pte_t *pt;
static int32_t *frame_page;
static int64_t *frame_ready;
static chunk_t *pool;
static int32_t freelist;
static int32_t bhead[NB], btail[NB];
static int32_t *Q;
static uint32_t qpos, bcur;         /* Q: sealed bucket bcur - 1 (absolute); qpos: next slot */
static uint32_t clk;
static int32_t nfree;
static long n_seals, n_sealed_entries, n_moves, n_qslots;

static void reset(void) {
    if (!pt) { pt = xalloc(NPAGES * sizeof(pte_t)); frame_page = xalloc(NFRAMES * 4); frame_ready = xalloc(NFRAMES * 8);
               pool = xalloc(NCHUNK * sizeof(chunk_t)); Q = xalloc(B * 4); }
    for (long p = 0; p < NPAGES; p++) { pt[p].fd = -1; pt[p].stamp = 0; }
    memset(frame_page, 0xff, NFRAMES * 4); memset(frame_ready, 0, NFRAMES * 8);
    for (int32_t c = 0; c < NCHUNK; c++) { pool[c].next = c + 1 < NCHUNK ? c + 1 : -1; pool[c].n = 0; }
    freelist = 0;
    for (uint32_t b = 0; b < NB; b++) bhead[b] = btail[b] = -1;
    memset(Q, 0xff, B * 4);
    qpos = B; bcur = 0; clk = 0; nfree = 0;
    n_seals = n_sealed_entries = n_moves = n_qslots = 0;
}

static inline void bucket_add(uint32_t stamp, int32_t p) {
    uint32_t b = stamp >> BSH;
    if (UNLIKELY(b - bcur >= NB - 1)) { fprintf(stderr, "calendar ring too short\n"); exit(2); }
    b &= NB - 1;
    int32_t t = btail[b];
    if (UNLIKELY(t < 0 || pool[t].n == CH)) {
        int32_t c = freelist;
        if (UNLIKELY(c < 0)) { fprintf(stderr, "chunk pool empty\n"); exit(2); }
        freelist = pool[c].next;
        pool[c].next = -1; pool[c].n = 0;
        if (t < 0) bhead[b] = c; else pool[t].next = c;
        btail[b] = t = c;
    }
    pool[t].pg[pool[t].n++] = p;
}

/* seal bucket bcur: its entries to Q (still in it) or to later buckets (touched since) */
__attribute__((noinline)) static void seal(void) {
    uint32_t b = bcur & (NB - 1);
    uint32_t lo = bcur << BSH;
    int32_t c = bhead[b];
    bhead[b] = btail[b] = -1;
    bcur++;
    n_seals++;
    while (c >= 0) {
        chunk_t *ch = pool + c;
        int32_t nx = ch->next;
        if (nx >= 0) PF(pool + nx);
        for (int k = 0; k < ch->n; k++) PF(pt + ch->pg[k]);
        for (int k = 0; k < ch->n; k++) {
            int32_t p = ch->pg[k];
            uint32_t s = pt[p].stamp;
            if (s - lo < B) Q[s - lo] = p;
            else { bucket_add(s, p); n_moves++; }
        }
        n_sealed_entries += ch->n;
        ch->next = freelist; freelist = c;
        c = nx;
    }
    qpos = 0;
}

static inline pte_t *victim(void) {
    for (;;) {
        while (qpos < B) {
            uint32_t k = qpos++;
            int32_t p = Q[k];
            n_qslots++;
            if (p < 0) continue;
            Q[k] = -1;
            pte_t *r = pt + p;
            if (r->stamp == ((bcur - 1) << BSH) + k) return r;
            bucket_add(r->stamp, p); n_moves++;       /* touched since sealing */
        }
        seal();
    }
}

__attribute__((noinline)) static void run(long n) {
    long faults = 0, ndirty = 0;
    for (long i = 0; i < F_LOC && i < n; i++) PF(pt + pages[i]);
    for (long i = 0; i < n; i++) {
        if (i + F_LOC < n) PF(pt + pages[i + F_LOC]);
        int32_t g = pages[i];
        int w = writes[i];
        pte_t *r = pt + g;
        if (LIKELY(RES(r))) {
            r->stamp = ++clk;
            r->fd |= w << 30;
        } else {
            faults++;
            int32_t f;
            if (nfree < NFRAMES) {
                f = nfree++;
            } else {
                pte_t *v = victim();
                f = FRAME(v);
                ndirty += DIRTY(v);
                v->fd = -1;
            }
#if KEEPF
            frame_ready[f] = i;
            frame_page[f] = g;
#endif
            r->fd = f | w << 30;
            r->stamp = ++clk;
            bucket_add(clk, g);
        }
    }
    g_faults = faults; g_dirty = ndirty;
}

/* final order from the pt: resident pages sorted by stamp */
static pte_t *sort_pt;
static int cmp_stamp(const void *a, const void *b) {
    uint32_t x = sort_pt[*(const int32_t *)a].stamp, y = sort_pt[*(const int32_t *)b].stamp;
    return x < y ? -1 : x > y;
}
static long lru_order(int32_t *page, uint8_t *d) {
    long c = 0;
    for (int32_t p = 0; p < NPAGES; p++) if (RES(pt + p)) page[c++] = p;
    sort_pt = pt;
    qsort(page, c, 4, cmp_stamp);
    for (long k = 0; k < c; k++) d[k] = DIRTY(pt + page[k]);
    return c;
}
static void extra_report(void) {
    printf("  calendar: B=%u NB=%u seals=%ld sealed_entries=%ld (%.2f/fault) moves=%ld (%.2f/fault) qslots=%.2f/fault\n",
           B, NB, n_seals, n_sealed_entries, (double)n_sealed_entries / g_faults, n_moves, (double)n_moves / g_faults,
           (double)n_qslots / g_faults);
}
