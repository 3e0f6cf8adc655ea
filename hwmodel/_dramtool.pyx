# cython: language_level=3
"""Compiled per-request work of `hwmodel dram` (hwmodel.dramsim), so that no request is handled
in Python: reading the simplest text trace lines into requests, and tallying completions.

scan_lines reads `ADDR OP [TIME]` lines (DRAMsim3, DRAMSim2's mase, Ramulator) and takes only
lines the trace package's parser (hwmodel.trace, the authority) reads the same way: an address of
1-16 hex digits with an optional 0x, one of the format's keywords, and (three fields) a decimal of
1-18 digits, separated by spaces or tabs, with optional leading and trailing blanks and a
trailing CR. At anything else (a comment, a blank line, a malformed or unusual line) it stops so
that the authority reads the rest and reports errors with file and line; tests/test_dramsim.py
checks that both agree. It also does what dramsim._Trace does to records of other formats: the
time in ps, the order check, the capacity check.
"""
from libc.stdint cimport int64_t, uint64_t, uint8_t

# scan_lines status: why it stopped
cdef enum:
    S_DONE = 0        # every line read
    S_FULL = 1        # the output arrays are full
    S_OTHER = 2       # a line the fast path does not take: the authority reads from `stop`
    S_BACKWARDS = 3   # the record at `stop` arrives before the one before it
    S_BEYOND = 4      # the record at `stop` addresses beyond the capacity
    S_TOO_LATE = 5    # the record at `stop` has a time beyond the model's ps
SCAN_DONE, SCAN_FULL, SCAN_OTHER, SCAN_BACKWARDS, SCAN_BEYOND, SCAN_TOO_LATE = range(6)

# byte classes: HEX[c] = hex digit value or -1; BLANK[c] = 1 for space and tab
cdef signed char HEX[256]
cdef unsigned char BLANK[256]
cdef int _i
for _i in range(256):
    HEX[_i] = -1
    BLANK[_i] = 0
for _i in range(10):
    HEX[48 + _i] = _i
for _i in range(6):
    HEX[65 + _i] = 10 + _i
    HEX[97 + _i] = 10 + _i
BLANK[32] = 1
BLANK[9] = 1


def scan_lines(const unsigned char[::1] buf, Py_ssize_t pos, Py_ssize_t end, tuple keywords, int ncols,
               int64_t scale, int64_t prev_t, uint64_t capacity, bint wrap,
               int64_t[::1] t_out, int64_t[::1] addr_out, uint8_t[::1] w_out):
    """Read the lines of buf[pos:end] (ending at a newline) into requests from index 0.

    keywords: ((bytes, 0 read | 1 write), ...); ncols: 2 (untimed) or 3 (the time, in trace
    units, times `scale` ps); prev_t: the previous request's time (ps); capacity: bytes (a power
    of two), beyond which an address is an error or, with `wrap`, loses its high bits.
    Returns (n, stop, status): n requests written, the offset of the first line not taken, and a
    SCAN_* status. Runs without the GIL."""
    if ncols not in (2, 3):
        raise ValueError("scan_lines: ncols must be 2 or 3")
    if len(keywords) > 8:
        raise ValueError("scan_lines: at most 8 keywords")
    if end > pos and buf[end - 1] != 10:
        raise ValueError("scan_lines: the text must end with a newline")
    if capacity == 0 or capacity & (capacity - 1):
        raise ValueError("scan_lines: capacity must be a power of two")
    cdef unsigned char kw[8][16]
    cdef int kwlen[8]
    cdef uint8_t kwcode[8]
    cdef int nkw = len(keywords)
    cdef int i, j
    for i in range(nkw):
        word, code = keywords[i]
        if not 1 <= len(word) <= 16:
            raise ValueError("scan_lines: keywords are 1-16 bytes")
        kwlen[i] = len(word)
        kwcode[i] = code
        for j in range(len(word)):
            kw[i][j] = word[j]
    cdef Py_ssize_t cap = min(t_out.shape[0], addr_out.shape[0], w_out.shape[0])
    cdef Py_ssize_t n = 0, p = pos, line = pos, q
    cdef const unsigned char* b = &buf[0] if buf.shape[0] else NULL
    cdef int64_t limit = ((<int64_t>1) << 62) // scale if scale > 0 else 0
    cdef uint64_t a
    cdef int64_t tv, t
    cdef int d, m, found, status = S_DONE
    with nogil:
        while p < end:
            line = p
            if n == cap:
                status = S_FULL
                break
            while BLANK[b[p]]:
                p += 1
            # address: optional 0x, 1-16 hex digits
            if b[p] == 48 and (b[p + 1] | 0x20) == 120 and HEX[b[p + 2]] >= 0:
                p += 2
            a = 0
            q = p
            d = HEX[b[p]]
            while d >= 0:
                a = (a << 4) | <uint64_t>d
                p += 1
                d = HEX[b[p]]
            if p == q or p - q > 16 or not BLANK[b[p]]:
                status = S_OTHER
                break
            p += 1
            while BLANK[b[p]]:
                p += 1
            # operation keyword: ends at a blank, CR or newline
            q = p
            while not BLANK[b[q]] and b[q] != 13 and b[q] != 10:
                q += 1
            found = -1
            for i in range(nkw):
                if kwlen[i] == q - p:
                    m = 0
                    while m < kwlen[i] and b[p + m] == kw[i][m]:
                        m += 1
                    if m == kwlen[i]:
                        found = i
                        break
            if found < 0:
                status = S_OTHER
                break
            p = q
            tv = 0
            if ncols == 3:
                if not BLANK[b[p]]:
                    status = S_OTHER
                    break
                p += 1
                while BLANK[b[p]]:
                    p += 1
                q = p
                while 48 <= b[p] <= 57:
                    tv = tv * 10 + (b[p] - 48)
                    p += 1
                if p == q or p - q > 18:
                    status = S_OTHER
                    break
            # trailing blanks, an optional CR, the newline
            while BLANK[b[p]]:
                p += 1
            if b[p] == 13:
                p += 1
            if b[p] != 10:
                status = S_OTHER
                break
            # the line is a record: checks in the order the generic path makes them
            if a >= capacity:
                if not wrap:
                    status = S_BEYOND
                    break
                a &= capacity - 1
            if scale > 0:
                if tv > limit:
                    status = S_TOO_LATE
                    break
                t = tv * scale
                if t < prev_t:
                    status = S_BACKWARDS
                    break
                prev_t = t
            else:
                t = 0
            p += 1
            t_out[n] = t
            addr_out[n] = <int64_t>a
            w_out[n] = kwcode[found]
            n += 1
    if status != S_DONE:
        p = line
    return n, p, status


def tally_reads(const int64_t[::1] out, const int64_t[::1] acc, const uint8_t[::1] w, int64_t horizon,
                int64_t tck, int64_t[::1] hist):
    """Completions of a run piece: (reads done, writes done, sum of read latency in ps, the
    largest read latency in whole cycles). Done: completed at or before `horizon` (ps; -1: no
    horizon). A read's latency is out - acc (from acceptance); hist[c] counts reads of c whole
    cycles (rounded up) for c < len(hist), and the caller bins the few longer ones."""
    cdef Py_ssize_t n = out.shape[0], i
    if acc.shape[0] != n or w.shape[0] != n:
        raise ValueError("tally_reads: out, acc and w differ in length")
    cdef Py_ssize_t nh = hist.shape[0]
    cdef int64_t reads = 0, writes = 0, lat_sum = 0, longest = 0, lat, c
    with nogil:
        for i in range(n):
            if horizon >= 0 and out[i] > horizon:
                continue
            if w[i]:
                writes += 1
                continue
            lat = out[i] - acc[i]
            reads += 1
            lat_sum += lat
            c = (lat + tck - 1) // tck
            if c > longest:
                longest = c
            if c < nh:
                hist[c] += 1
    return reads, writes, lat_sum, longest
