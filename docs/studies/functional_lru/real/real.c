/* The simplified study's base.c (today's linked-list LRU) moved step by step towards func_loop_paged's loop:
 * ADDR64: int64 addresses decoded (+ vm base, >> 12) instead of an int32 page array
 * TCOL:   an int64 time column streamed and the closed-loop arrival computed (frame_ready = arr)
 * PTDIR:  a two-level page table (directory of 512-entry leaves)
 * Placement 'low' as the real system: pages 0..NFRAMES-1 local at boot, the rest in blade slot = page;
 * a fault takes the LRU frame, the victim goes to the slot the page leaves (slot_page written). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define NPAGES (1 << 20)
#define NFRAMES (1 << 18)
#define PF(p) __builtin_prefetch((const void *)(p), 1, 3)
#ifndef ADDR64
#define ADDR64 1
#endif
#ifndef TCOL
#define TCOL 1
#endif
#ifndef PTDIR
#define PTDIR 1
#endif
#define F_LOC 12
#define F_FRAME 6
#define F_NEAR 3
#define F_RING 16
static void *xalloc(size_t sz) { void *p = NULL; if (posix_memalign(&p, 4096, sz)) exit(1); memset(p, 0, sz); return p; }
static double now(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec + ts.tv_nsec * 1e-9; }
static uint64_t *addr; static uint8_t *op; static int64_t *tcol; static int32_t *pages;
static int32_t *pt_dir, *pt_leaf, *frame_page, *prev, *nxt, *slot_page;
static uint8_t *dirty; static int64_t *frame_ready;
static int32_t head, tail;
static long g_faults, g_dirty;
static inline long pti(int64_t g) {
#if PTDIR
    return ((long)pt_dir[g >> 9] << 9) | (g & 511);
#else
    return g;
#endif
}
static void reset(void) {
    if (!pt_leaf) {
        pt_dir = xalloc(NPAGES / 512 * 4); pt_leaf = xalloc(NPAGES * 4); frame_page = xalloc(NFRAMES * 4);
        prev = xalloc(NFRAMES * 4); nxt = xalloc(NFRAMES * 4); slot_page = xalloc(NPAGES * 4);
        dirty = xalloc(NFRAMES); frame_ready = xalloc(NFRAMES * 8);
    }
    for (int k = 0; k < NPAGES / 512; k++) pt_dir[k] = (k * 37) % (NPAGES / 512);  /* leaves scattered */
    for (int64_t g = 0; g < NPAGES; g++) { pt_leaf[pti(g)] = g < NFRAMES ? (int32_t)g : (int32_t)(-2 - g); slot_page[g] = g < NFRAMES ? -1 : (int32_t)g; }
    for (int f = 0; f < NFRAMES; f++) { frame_page[f] = f; prev[f] = f - 1; nxt[f] = f + 1 < NFRAMES ? f + 1 : -1; }
    head = 0; tail = NFRAMES - 1;
    memset(dirty, 0, NFRAMES); memset(frame_ready, 0, NFRAMES * 8);
}
static inline void lru_remove(int32_t f) { int32_t a = prev[f], b = nxt[f]; if (a >= 0) nxt[a] = b; else head = b; if (b >= 0) prev[b] = a; else tail = a; }
static inline void lru_push(int32_t f) { prev[f] = -1; nxt[f] = head; if (head >= 0) prev[head] = f; else tail = f; head = f; }
static inline int64_t page_of(long i) {
#if ADDR64
    return (int64_t)(addr[i]) >> 12;
#else
    return pages[i];
#endif
}
__attribute__((noinline)) static void run(long n) {
    long faults = 0, ndirty = 0; int64_t last = 0, stall = 1000;
    long pfg[F_RING]; int32_t pfl[F_RING];
    for (int k = 0; k < F_RING; k++) { pfl[k] = -1; pfg[k] = 0; }
    for (long i = 0; i < F_LOC && i < n; i++) pfg[i] = pti(page_of(i));
    for (long i = 0; i < F_FRAME && i < n; i++) pfl[i] = pt_leaf[pfg[i]];
    for (long i = 0; i < n; i++) {
        if (i + F_LOC < n) { long g = pti(page_of(i + F_LOC)); pfg[(i + F_LOC) & (F_RING - 1)] = g; PF(pt_leaf + g); }
        int32_t l = pt_leaf[pfg[(i + F_FRAME) & (F_RING - 1)]];
        pfl[(i + F_FRAME) & (F_RING - 1)] = l;
        if (l >= 0) { PF(prev + l); PF(nxt + l); PF(dirty + l); }
        else PF(slot_page + (-2 - (long)l));
        l = pfl[(i + F_NEAR) & (F_RING - 1)];
        if (l >= 0) { int32_t a = prev[l], b = nxt[l]; if (a >= 0) PF(nxt + a); if (b >= 0) PF(prev + b); }
#if TCOL
        int64_t arr = last + tcol[i] + stall; last = arr;
#else
        int64_t arr = i;
#endif
        int w = op[i];
        long gi = pfg[i & (F_RING - 1)];
        l = pt_leaf[gi];
        if (l >= 0) {
            if (head != l) { lru_remove(l); lru_push(l); }
            dirty[l] |= (uint8_t)w;
        } else {
            faults++;
            long slot = -2 - (long)l;
            int32_t f = tail;
            lru_remove(f); lru_push(f);
            int32_t k = tail;
            for (int hop = 0; hop < 2 && k >= 0; hop++) k = prev[k];
            if (k >= 0) { int32_t u = frame_page[k]; if (u >= 0) PF(pt_leaf + pti(u)); k = prev[k];
                if (k >= 0) { PF(prev + k); PF(nxt + k); PF(dirty + k); PF(frame_page + k); PF(frame_ready + k); } }
            int32_t u = frame_page[f];
            pt_leaf[pti(u)] = (int32_t)(-2 - slot);
#if !NOSLOT   /* bridge2 addition for a bound; default unchanged */
            slot_page[slot] = u;
#endif
            ndirty += dirty[f];
            frame_ready[f] = arr;
            frame_page[f] = (int32_t)page_of(i);
            pt_leaf[gi] = f;
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
#include "harness.h"
