/* Idealised bounds (NOT exact LRU):
 *  -DMODE=0 ptonly : page-table lookup only (int32 pt, prefetched F_LOC ahead), sums the entries.
 *  -DMODE=1 noupd  : today's arrays minus the LRU update: a hit only ORs dirty[frame]; a fault takes
 *                    frames round-robin (FIFO victim), writes pt (victim and new), frame_page,
 *                    frame_ready, dirty. Fault counts differ from LRU (FIFO). */
#include "common.h"
#define F_LOC 12
#define F_FRAME 6
#ifndef MODE
#define MODE 1
#endif
static int32_t *pt, *frame_page;
static uint8_t *dirty;
static int64_t *frame_ready;
static int32_t nfree, hand;
static long sink;

static void reset(void) {
    if (!pt) { pt = xalloc(NPAGES * 4); frame_page = xalloc(NFRAMES * 4); dirty = xalloc(NFRAMES); frame_ready = xalloc(NFRAMES * 8); }
    memset(pt, 0xff, NPAGES * 4); memset(frame_page, 0xff, NFRAMES * 4); memset(dirty, 0, NFRAMES);
    memset(frame_ready, 0, NFRAMES * 8);
    nfree = 0; hand = 0;
#if MODE == 0
    for (long p = 0; p < NPAGES; p++) pt[p] = (p * 2654435761u) & (NFRAMES - 1);
#endif
}

__attribute__((noinline)) static void run(long n) {
    long faults = 0, ndirty = 0;
#if MODE == 0
    long s = 0;
    for (long i = 0; i < n; i++) {
        if (i + F_LOC < n) PF(pt + pages[i + F_LOC]);
        s += pt[pages[i]];
    }
    sink = s;
#else
    for (long i = 0; i < n; i++) {
        if (i + F_LOC < n) PF(pt + pages[i + F_LOC]);
        if (i + F_FRAME < n) { int32_t l = pt[pages[i + F_FRAME]]; if (l >= 0) PF(dirty + l); }
        int32_t g = pages[i];
        int w = writes[i];
        int32_t l = pt[g];
        if (LIKELY(l >= 0)) {
            dirty[l] |= (uint8_t)w;
        } else {
            faults++;
            int32_t f;
            if (nfree < NFRAMES) f = nfree++;
            else {
                f = hand; hand = (hand + 1) & (NFRAMES - 1);
                pt[frame_page[f]] = -1;
                ndirty += dirty[f];
            }
            frame_ready[f] = i; frame_page[f] = g; pt[g] = f; dirty[f] = (uint8_t)w;
        }
        /* next FIFO victim's records and pt entry (hints) */
        if (nfree == NFRAMES) { int32_t k = (hand + 2) & (NFRAMES - 1); PF(pt + frame_page[k]); }
    }
#endif
    g_faults = faults; g_dirty = ndirty;
}
static long lru_order(int32_t *page, uint8_t *d) { (void)page; (void)d; return 0; }
static void extra_report(void) { printf("  sink=%ld (NOT exact LRU: a bound only)\n", sink); }
