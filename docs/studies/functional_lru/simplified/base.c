/* Baseline: today's representation. int32 pt[page] (frame or -1), frame_page[frame], prev[], nxt[]
 * (doubly linked list head = MRU, tail = LRU), uint8 dirty[frame], int64 frame_ready[frame].
 * Prefetching as func_loop_paged: pt entry F_LOC ahead, frame records F_FRAME ahead, LRU neighbours
 * F_NEAR ahead (or, for a fault ahead, the tail's records and its page's pt entry), and on each fault
 * the next victims' pt entry / records up the list. -DNOPF: no software prefetch. */
#include "common.h"
#ifndef F_LOC
#define F_LOC 12
#endif
#define F_FRAME 6
#define F_NEAR 3
#define F_RING 16
#define F_VICTIMS 4

static int32_t *pt, *frame_page, *prev, *nxt;
static uint8_t *dirty;
static int64_t *frame_ready;
static int32_t head, tail, nfree;

static void reset(void) {
    if (!pt) {
        pt = xalloc(NPAGES * 4); frame_page = xalloc(NFRAMES * 4); prev = xalloc(NFRAMES * 4);
        nxt = xalloc(NFRAMES * 4); dirty = xalloc(NFRAMES); frame_ready = xalloc(NFRAMES * 8);
    }
    memset(pt, 0xff, NPAGES * 4);
    memset(frame_page, 0xff, NFRAMES * 4);
    memset(prev, 0xff, NFRAMES * 4); memset(nxt, 0xff, NFRAMES * 4);
    memset(dirty, 0, NFRAMES); memset(frame_ready, 0, NFRAMES * 8);
    head = tail = -1; nfree = 0;
}

static inline void lru_remove(int32_t f) {
    int32_t a = prev[f], b = nxt[f];
    if (a >= 0) nxt[a] = b; else head = b;
    if (b >= 0) prev[b] = a; else tail = a;
}
static inline void lru_push(int32_t f) {
    prev[f] = -1; nxt[f] = head;
    if (head >= 0) prev[head] = f; else tail = f;
    head = f;
}

#ifdef NOPF
#undef PF
#define PF(p) ((void)0)
#endif

__attribute__((noinline)) static void run(long n) {
    long faults = 0, ndirty = 0;
    int32_t pfl[F_RING];
    for (int k = 0; k < F_RING; k++) pfl[k] = -1;
    for (long i = 0; i < F_LOC && i < n; i++) PF(pt + pages[i]);
    for (long i = 0; i < F_FRAME && i < n; i++) pfl[i] = pt[pages[i]];
    for (long i = 0; i < n; i++) {
        /* hints only */
        if (i + F_LOC < n) PF(pt + pages[i + F_LOC]);
        int32_t l;
        if (i + F_FRAME < n) {
            l = pt[pages[i + F_FRAME]];
            pfl[(i + F_FRAME) & (F_RING - 1)] = l;
            if (l >= 0) { PF(prev + l); PF(nxt + l); PF(dirty + l); }
        }
        l = pfl[(i + F_NEAR) & (F_RING - 1)];
        if (l >= 0) {
            int32_t a = prev[l], b = nxt[l];
            if (a >= 0) PF(nxt + a);
            if (b >= 0) PF(prev + b);
        }
#ifndef NOVPF
        else if (tail >= 0 && i + F_NEAR < n) {
            int32_t k = tail;
            PF(prev + k); PF(nxt + k); PF(dirty + k); PF(frame_page + k); PF(frame_ready + k);
            int32_t u = frame_page[k];
            if (u >= 0) PF(pt + u);
        }
#endif
        /* the access */
        int32_t g = pages[i];
        int w = writes[i];
        l = pt[g];
        if (LIKELY(l >= 0)) {
            if (head != l) { lru_remove(l); lru_push(l); }
            dirty[l] |= (uint8_t)w;
        } else {
            faults++;
            int32_t f;
            if (nfree < NFRAMES) {
                f = nfree++;
                lru_push(f);
            } else {
                f = tail;
                lru_remove(f); lru_push(f);
#ifndef NOVPF
                /* the next victims up the list: pt entry of the (F_VICTIMS-1)th, records of the F_VICTIMSth */
                int32_t k = tail;
                for (int hop = 0; hop < F_VICTIMS - 2 && k >= 0; hop++) k = prev[k];
                if (k >= 0) {
                    int32_t u = frame_page[k];
                    if (u >= 0) PF(pt + u);
                    k = prev[k];
                    if (k >= 0) { PF(prev + k); PF(nxt + k); PF(dirty + k); PF(frame_page + k); PF(frame_ready + k); }
                }
#endif
                int32_t u = frame_page[f];
                pt[u] = -1;             /* the victim leaves */
                ndirty += dirty[f];
            }
#ifndef NOREADY
            frame_ready[f] = i;
#endif
            frame_page[f] = g;
            pt[g] = f;
            dirty[f] = (uint8_t)w;
        }
    }
    g_faults = faults; g_dirty = ndirty;
}

static long lru_order(int32_t *page, uint8_t *d) {
    long c = 0;
    for (int32_t f = tail; f >= 0; f = prev[f]) { page[c] = frame_page[f]; d[c] = dirty[f]; c++; }
    return c;
}
static void extra_report(void) {}
