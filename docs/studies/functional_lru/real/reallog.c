/* Stamp + lazy-log exact LRU (as ../simplified/stamplog.c "log8_nofpf") in real.c's loop
 * (real.c: the linked list with the real loop's costs). Features by macro (1 = on), as real.c:
 *   ADDR64: int64 addresses decoded (>> 12) instead of an int32 page array
 *   TCOL:   an int64 time column streamed, closed-loop arrival computed, frame_ready[f] = arr on faults
 *   PTDIR:  two-level page table: directory of 512-entry leaves (leaves scattered), 8-byte records in the leaves
 *   DIRTYF: 0 (default) = dirty bit in the record (code bit 30); 1 = per frame in dirty[frame]
 *   LOGIDX: 1 (default) = the log holds the leaf index pti(page) instead of the page (pops need no directory
 *           lookup; the victim's page number comes from an inverse directory, once per fault); 0 = the page
 *   SPF:    prefetch slot_page[slot] F_FRAME ahead for a non-resident page: 1 = with a branch (as real.c),
 *           2 = branch-free (a resident page prefetches slot_page[0]), 0 = none
 * Page-table record {int32 code, uint32 stamp}: code >= 0: resident, frame (| dirty << 30 if !DIRTYF);
 * code < 0: in blade slot -2 - code. Placement 'low': pages 0..NFRAMES-1 in frames 0..NFRAMES-1 at boot,
 * LRU order frame 0 = MRU ... frame NFRAMES-1 = LRU (the boot log holds pages NFRAMES-1 .. 0, oldest first);
 * other pages in slot = page. A fault takes the LRU page's frame; the victim goes to the slot the faulting
 * page leaves (slot_page[slot] = victim, victim code = -2 - slot); frame_page/frame_ready written.
 * Ring log of (page, stamp), capacity 1M; every touch appends except a hit on the page touched last
 * (stamp == clk); a fault pops the oldest entries until one is valid (resident and stamp matches);
 * the pt records of the entries POPD pops ahead are prefetched. Full ring: compaction in place +
 * stamp renumbering 1..k. Build: gcc -O3 -DADDR64=1 -DTCOL=1 -DPTDIR=1 reallog.c */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define NPAGES (1 << 20)
#define NFRAMES (1 << 18)
#define PF(p) __builtin_prefetch((const void *)(p), 1, 3)
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#ifndef ADDR64
#define ADDR64 1
#endif
#ifndef TCOL
#define TCOL 1
#endif
#ifndef PTDIR
#define PTDIR 1
#endif
#ifndef DIRTYF
#define DIRTYF 0
#endif
#ifndef SPF
#define SPF 1
#endif
#ifndef LOGIDX
#define LOGIDX 1
#endif
#ifndef LOGBITS
#define LOGBITS 20
#endif
#ifndef POPD
#define POPD 32
#endif
#define LOGCAP (1u << LOGBITS)
#define LMASK (LOGCAP - 1)
#ifndef F_LOC
#define F_LOC 12
#endif
#ifndef F_FRAME
#define F_FRAME 6
#endif
#define F_RING 32
typedef struct { int32_t code; uint32_t stamp; } pte_t;
typedef struct { int32_t page; uint32_t stamp; } lent_t;   /* page: the page, or its leaf index if LOGIDX */
#if DIRTYF
#define FRAME(c) (c)
#define CODE(f, w) (f)
#else
#define FRAME(c) ((c) & ((1 << 30) - 1))
#define CODE(f, w) ((f) | (int32_t)(w) << 30)
#endif
static void *xalloc(size_t sz) { void *p = NULL; if (posix_memalign(&p, 4096, sz)) exit(1); memset(p, 0, sz); return p; }
static double now(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec + ts.tv_nsec * 1e-9; }
static uint64_t *addr; static uint8_t *op; static int64_t *tcol; static int32_t *pages;
static int32_t *pt_dir, *pt_inv, *frame_page, *slot_page;
static pte_t *pt_leaf;
static lent_t *lg;
static uint8_t *dirty; static int64_t *frame_ready;
static uint64_t lhead, ltail, pfpos;
static uint32_t clk;
static long g_faults, g_dirty, n_compact, n_scanned, n_pops;
static inline long pti(int64_t g) {
#if PTDIR
    return ((long)pt_dir[g >> 9] << 9) | (g & 511);
#else
    return g;
#endif
}
#if LOGIDX   /* log key <-> page */
#define KEY(g, idx) ((int32_t)(idx))
#if PTDIR
#define KPAGE(k) ((pt_inv[(k) >> 9] << 9) | ((k) & 511))
#else
#define KPAGE(k) (k)
#endif
#define KREC(k) (pt_leaf + (k))
#else
#define KEY(g, idx) ((int32_t)(g))
#define KPAGE(k) (k)
#define KREC(k) (pt_leaf + pti(k))
#endif
static void reset(void) {
    if (!pt_leaf) {
        pt_dir = xalloc(NPAGES / 512 * 4); pt_inv = xalloc(NPAGES / 512 * 4); pt_leaf = xalloc(NPAGES * sizeof(pte_t)); frame_page = xalloc(NFRAMES * 4);
        slot_page = xalloc(NPAGES * 4); lg = xalloc(LOGCAP * sizeof(lent_t));
        dirty = xalloc(NFRAMES); frame_ready = xalloc(NFRAMES * 8);
    }
    for (int k = 0; k < NPAGES / 512; k++) { pt_dir[k] = (k * 37) % (NPAGES / 512); pt_inv[pt_dir[k]] = k; }  /* leaves scattered */
    for (int64_t g = 0; g < NPAGES; g++) {
        pt_leaf[pti(g)] = (pte_t){g < NFRAMES ? (int32_t)g : (int32_t)(-2 - g), 0};
        slot_page[g] = g < NFRAMES ? -1 : (int32_t)g;
    }
    for (int f = 0; f < NFRAMES; f++) frame_page[f] = f;
    memset(dirty, 0, NFRAMES); memset(frame_ready, 0, NFRAMES * 8);
    memset(lg, 0, LOGCAP * sizeof(lent_t));
    lhead = ltail = pfpos = 0; clk = 0; n_compact = n_scanned = n_pops = 0;
    for (int32_t g = NFRAMES - 1; g >= 0; g--) {    /* oldest = page NFRAMES-1 (LRU) ... newest = page 0 (MRU) */
        pt_leaf[pti(g)].stamp = ++clk;
        lg[lhead++ & LMASK] = (lent_t){KEY(g, pti(g)), clk};
    }
}
/* the ring is full: keep the valid entries in order, renumber their stamps 1..k */
__attribute__((noinline)) static void compact(void) {
    uint64_t j = ltail; uint32_t s = 0;
    n_compact++; n_scanned += lhead - ltail;
    for (uint64_t k = ltail; k < lhead; k++) {
        if (k + 32 < lhead) PF(KREC(lg[(k + 32) & LMASK].page));
        lent_t e = lg[k & LMASK];
        pte_t *r = KREC(e.page);
        if (r->code >= 0 && r->stamp == e.stamp) { r->stamp = ++s; e.stamp = s; lg[j++ & LMASK] = e; }
    }
    lhead = j; clk = s; pfpos = ltail;
}
static inline void append(int32_t g, pte_t *r) {
    r->stamp = ++clk;
    lg[lhead & LMASK] = (lent_t){g, clk};
    lhead++;
    if (UNLIKELY(lhead - ltail == LOGCAP)) compact();
}
static inline int64_t page_of(long i) {
#if ADDR64
    return (int64_t)(addr[i]) >> 12;
#else
    return pages[i];
#endif
}
__attribute__((noinline)) static void run(long n) {
    long faults = 0, ndirty = 0, pops = 0; int64_t last = 0, stall = 1000;
    long pfg[F_RING];
    for (int k = 0; k < F_RING; k++) pfg[k] = 0;
    for (long i = 0; i < F_LOC && i < n; i++) { pfg[i] = pti(page_of(i)); PF(pt_leaf + pfg[i]); }
    for (long i = 0; i < n; i++) {
        if (i + F_LOC < n) { long g = pti(page_of(i + F_LOC)); pfg[(i + F_LOC) & (F_RING - 1)] = g; PF(pt_leaf + g); }
#if SPF
        { int32_t c = pt_leaf[pfg[(i + F_FRAME) & (F_RING - 1)]].code;
#if SPF == 2    /* branch-free: a resident page prefetches slot_page[0] */
          PF(slot_page + ((-2 - (long)c) & ((long)c >> 31)));
#else
          if (c < 0) PF(slot_page + (-2 - (long)c));
#endif
        }
#endif
#if TCOL
        int64_t arr = last + tcol[i] + stall; last = arr;
#else
        int64_t arr = i;
#endif
        int w = op[i];
        pte_t *r = pt_leaf + pfg[i & (F_RING - 1)];
        int32_t c = r->code;
        if (LIKELY(c >= 0)) {
            if (r->stamp != clk) append(KEY(page_of(i), pfg[i & (F_RING - 1)]), r);
#if DIRTYF
            dirty[c] |= (uint8_t)w;
#else
            r->code = c | (int32_t)w << 30;
#endif
        } else {
            faults++;
            long slot = -2 - (long)c;
            pte_t *v; int32_t vp;
            for (;;) {          /* pop until a valid entry: the LRU page */
                lent_t e = lg[ltail & LMASK];
                ltail++; pops++;
                v = KREC(e.page);
                if (v->code >= 0 && v->stamp == e.stamp) { vp = KPAGE(e.page); break; }
            }
            int32_t f = FRAME(v->code);
#if DIRTYF
            ndirty += dirty[f];
#else
            ndirty += (v->code >> 30) & 1;
#endif
            v->code = (int32_t)(-2 - slot);
#if !NOSLOT
            slot_page[slot] = vp;
#endif
            /* hints: the pt records of the entries POPD pops ahead */
            if (pfpos < ltail) pfpos = ltail;
            uint64_t lim = ltail + POPD < lhead ? ltail + POPD : lhead;
            for (; pfpos < lim; pfpos++) PF(KREC(lg[pfpos & LMASK].page));
            frame_ready[f] = arr;
            int32_t g = (int32_t)page_of(i);
            frame_page[f] = g;
#if DIRTYF
            dirty[f] = (uint8_t)w;
#endif
            r->code = CODE(f, w);
            append(KEY(g, pfg[i & (F_RING - 1)]), r);
        }
    }
    g_faults = faults; g_dirty = ndirty; n_pops = pops;
}
static long lru_order(int32_t *page, uint8_t *d) {
    long c = 0;
    for (uint64_t k = ltail; k < lhead; k++) {
        const lent_t *e = lg + (k & LMASK);
        const pte_t *r = KREC(e->page);
        if (r->code >= 0 && r->stamp == e->stamp) {
            page[c] = KPAGE(e->page);
#if DIRTYF
            d[c] = dirty[r->code];
#else
            d[c] = (r->code >> 30) & 1;
#endif
            c++;
        }
    }
    return c;
}
static void extra_report(void) {
    printf("  log: cap=%u compactions=%ld scanned=%ld pops=%ld (%.2f/fault)\n", LOGCAP, n_compact, n_scanned, n_pops, (double)n_pops / g_faults);
}
#include "harness.h"
