/* Alternative 2: stamps + lazy log ("LRU via a FIFO of touch events").
 * pt record per page holds frame, dirty and the stamp of the page's last touch (PT16: 16 bytes
 * {frame, stamp, dirty, pad}; else 8 bytes {frame | dirty<<30, stamp}): a hit touches ONE random
 * line (plus a sequential append). Every touch appends (page, stamp) to a ring log; a fault with no
 * free frame pops the oldest entries until one is still valid (page resident and pt stamp == logged
 * stamp): that page is exactly the LRU page. The pt entries of log entries POPD pops ahead are
 * prefetched. Full ring: compaction in place (drop stale entries, renumber the stamps of the valid
 * ones 1..k so a uint32 stamp never wraps). A hit on the page touched last (stamp == clock) is a no-op
 * for the order (as the list skips a hit on the head).
 * KEEPF=1 (default): also maintains frame_page[frame] and frame_ready[frame] on faults as today. */
#include "common.h"
#ifndef F_LOC
#define F_LOC 12
#endif
#ifndef LOGBITS
#define LOGBITS 20          /* capacity 1M entries = 4x frames */
#endif
#ifndef POPD
#define POPD 32             /* pops ahead whose pt entries are prefetched */
#endif
#ifndef KEEPF
#define KEEPF 1
#endif
#define LOGCAP (1u << LOGBITS)
#define LMASK (LOGCAP - 1)

#ifdef PT16
typedef struct { int32_t frame; uint32_t stamp; uint8_t dirty, pad[7]; } pte_t;
#define RES(r) ((r)->frame >= 0)
#define FRAME(r) ((r)->frame)
#define DIRTY(r) ((r)->dirty)
#define SETDIRTY(r, w) ((r)->dirty |= (uint8_t)(w))
#define SETPAGE(r, f, w) ((r)->frame = (f), (r)->dirty = (uint8_t)(w))
#define EVICT(r) ((r)->frame = -1)
#else
typedef struct { int32_t fd; uint32_t stamp; } pte_t;   /* fd: -1 or frame | dirty << 30 */
#define RES(r) ((r)->fd >= 0)
#define FRAME(r) ((r)->fd & ((1 << 30) - 1))
#define DIRTY(r) (((r)->fd >> 30) & 1)
#define SETDIRTY(r, w) ((r)->fd |= (int32_t)(w) << 30)
#define SETPAGE(r, f, w) ((r)->fd = (f) | (int32_t)(w) << 30)
#define EVICT(r) ((r)->fd = -1)
#endif
typedef struct { int32_t page; uint32_t stamp; } lent_t;

static pte_t *pt;
static lent_t *lg;
static int32_t *frame_page;
static int64_t *frame_ready;
static uint64_t lhead, ltail, pfpos;
static uint32_t clk;
static int32_t nfree;
static long n_compact, n_pops, n_compact_scanned;

static void reset(void) {
    if (!pt) { pt = xalloc(NPAGES * sizeof(pte_t)); lg = xalloc(LOGCAP * sizeof(lent_t));
               frame_page = xalloc(NFRAMES * 4); frame_ready = xalloc(NFRAMES * 8); }
    for (long p = 0; p < NPAGES; p++) { memset(pt + p, 0, sizeof(pte_t)); EVICT(pt + p); }
    memset(lg, 0, LOGCAP * sizeof(lent_t));
    memset(frame_page, 0xff, NFRAMES * 4); memset(frame_ready, 0, NFRAMES * 8);
    lhead = ltail = pfpos = 0; clk = 0; nfree = 0;
    n_compact = n_pops = n_compact_scanned = 0;
}

static inline int valid(const lent_t *e) {
    const pte_t *r = pt + e->page;
    return RES(r) && r->stamp == e->stamp;
}

/* the ring is full: keep the valid entries in order, renumber their stamps 1..k */
__attribute__((noinline)) static void compact(void) {
    uint64_t j = ltail;
    uint32_t s = 0;
    n_compact++;
    n_compact_scanned += lhead - ltail;
    for (uint64_t k = ltail; k < lhead; k++) {
        if (k + 32 < lhead) PF(pt + lg[(k + 32) & LMASK].page);
        lent_t e = lg[k & LMASK];
        pte_t *r = pt + e.page;
        if (RES(r) && r->stamp == e.stamp) {
            r->stamp = ++s;
            e.stamp = s;
            lg[j++ & LMASK] = e;
        }
    }
    lhead = j; clk = s; pfpos = ltail;
}

static inline void append(int32_t g, pte_t *r) {
    r->stamp = ++clk;
    lg[lhead & LMASK] = (lent_t){g, clk};
    lhead++;
    if (UNLIKELY(lhead - ltail == LOGCAP)) compact();
}

__attribute__((noinline)) static void run(long n) {
    long faults = 0, ndirty = 0, pops = 0;
    for (long i = 0; i < F_LOC && i < n; i++) PF(pt + pages[i]);
    for (long i = 0; i < n; i++) {
        if (i + F_LOC < n) PF(pt + pages[i + F_LOC]);
        int32_t g = pages[i];
        int w = writes[i];
        pte_t *r = pt + g;
        if (LIKELY(RES(r))) {
            if (r->stamp != clk) append(g, r);
            SETDIRTY(r, w);
        } else {
            faults++;
            int32_t f;
            if (nfree < NFRAMES) {
                f = nfree++;
            } else {
                pte_t *v;
                for (;;) {          /* pop until a valid entry: the LRU page */
                    lent_t e = lg[ltail & LMASK];
                    ltail++; pops++;
                    v = pt + e.page;
                    if (RES(v) && v->stamp == e.stamp) break;
                }
                f = FRAME(v);
                ndirty += DIRTY(v);
                EVICT(v);
                /* hints: the pt entries of the entries POPD pops ahead; the frame records of the ones POPD/2 ahead */
                if (pfpos < ltail) pfpos = ltail;
                uint64_t lim = ltail + POPD < lhead ? ltail + POPD : lhead;
                for (; pfpos < lim; pfpos++) {
                    PF(pt + lg[pfpos & LMASK].page);
#if KEEPF && !NOFPF
                    uint64_t q = pfpos - POPD / 2;
                    if (q >= ltail) { const pte_t *x = pt + lg[q & LMASK].page; if (RES(x)) { PF(frame_page + FRAME(x)); PF(frame_ready + FRAME(x)); } }
#endif
                }
            }
#if KEEPF
#if !NOREADY
            frame_ready[f] = i;
#endif
            frame_page[f] = g;
#endif
            SETPAGE(r, f, w);
            append(g, r);
        }
    }
    g_faults = faults; g_dirty = ndirty; n_pops = pops;
}

static long lru_order(int32_t *page, uint8_t *d) {
    long c = 0;
    for (uint64_t k = ltail; k < lhead; k++) {
        const lent_t *e = lg + (k & LMASK);
        if (valid(e)) { page[c] = e->page; d[c] = DIRTY(pt + e->page); c++; }
    }
    return c;
}

static void extra_report(void) {
    printf("  log: cap=%u compactions=%ld scanned=%ld pops=%ld (%.2f/fault)\n", LOGCAP, n_compact, n_compact_scanned, n_pops, (double)n_pops / g_faults);
}
