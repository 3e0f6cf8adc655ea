/* Alternative 1: interleaved frame records, one 16-byte struct per frame {prev, nxt, page, dirty};
 * pt[page] int32 as today; frame_ready int64 separate (written on faults). Same prefetch stages. */
#include "common.h"
#define F_LOC 12
#define F_FRAME 6
#define F_NEAR 3
#define F_RING 16
#define F_VICTIMS 4

typedef struct { int32_t prev, nxt, page; uint8_t dirty, pad[3]; } rec_t;
static int32_t *pt;
static rec_t *R;
static int64_t *frame_ready;
static int32_t head, tail, nfree;

static void reset(void) {
    if (!pt) { pt = xalloc(NPAGES * 4); R = xalloc(NFRAMES * sizeof(rec_t)); frame_ready = xalloc(NFRAMES * 8); }
    memset(pt, 0xff, NPAGES * 4);
    for (int f = 0; f < NFRAMES; f++) { R[f].prev = R[f].nxt = R[f].page = -1; R[f].dirty = 0; }
    memset(frame_ready, 0, NFRAMES * 8);
    head = tail = -1; nfree = 0;
}
static inline void lru_remove(int32_t f) {
    int32_t a = R[f].prev, b = R[f].nxt;
    if (a >= 0) R[a].nxt = b; else head = b;
    if (b >= 0) R[b].prev = a; else tail = a;
}
static inline void lru_push(int32_t f) {
    R[f].prev = -1; R[f].nxt = head;
    if (head >= 0) R[head].prev = f; else tail = f;
    head = f;
}

__attribute__((noinline)) static void run(long n) {
    long faults = 0, ndirty = 0;
    int32_t pfl[F_RING];
    for (int k = 0; k < F_RING; k++) pfl[k] = -1;
    for (long i = 0; i < F_LOC && i < n; i++) PF(pt + pages[i]);
    for (long i = 0; i < F_FRAME && i < n; i++) pfl[i] = pt[pages[i]];
    for (long i = 0; i < n; i++) {
        if (i + F_LOC < n) PF(pt + pages[i + F_LOC]);
        int32_t l;
        if (i + F_FRAME < n) {
            l = pt[pages[i + F_FRAME]];
            pfl[(i + F_FRAME) & (F_RING - 1)] = l;
            if (l >= 0) PF(R + l);
        }
        l = pfl[(i + F_NEAR) & (F_RING - 1)];
        if (l >= 0) {
            int32_t a = R[l].prev, b = R[l].nxt;
            if (a >= 0) PF(R + a);
            if (b >= 0) PF(R + b);
        } else if (tail >= 0 && i + F_NEAR < n) {
            PF(R + tail); PF(frame_ready + tail);
            int32_t u = R[tail].page;
            if (u >= 0) PF(pt + u);
        }
        int32_t g = pages[i];
        int w = writes[i];
        l = pt[g];
        if (LIKELY(l >= 0)) {
            if (head != l) { lru_remove(l); lru_push(l); }
            R[l].dirty |= (uint8_t)w;
        } else {
            faults++;
            int32_t f;
            if (nfree < NFRAMES) {
                f = nfree++;
                lru_push(f);
            } else {
                f = tail;
                lru_remove(f); lru_push(f);
                int32_t k = tail;
                for (int hop = 0; hop < F_VICTIMS - 2 && k >= 0; hop++) k = R[k].prev;
                if (k >= 0) {
                    int32_t u = R[k].page;
                    if (u >= 0) PF(pt + u);
                    k = R[k].prev;
                    if (k >= 0) { PF(R + k); PF(frame_ready + k); }
                }
                pt[R[f].page] = -1;
                ndirty += R[f].dirty;
            }
            frame_ready[f] = i;
            R[f].page = g;
            pt[g] = f;
            R[f].dirty = (uint8_t)w;
        }
    }
    g_faults = faults; g_dirty = ndirty;
}

static long lru_order(int32_t *page, uint8_t *d) {
    long c = 0;
    for (int32_t f = tail; f >= 0; f = R[f].prev) { page[c] = R[f].page; d[c] = R[f].dirty; c++; }
    return c;
}
static void extra_report(void) {}
