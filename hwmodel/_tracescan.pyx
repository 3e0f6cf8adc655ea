# cython: language_level=3
"""Compiled fast path for the simplest text trace lines: `ADDR OP [TIME]` (DRAMsim3, DRAMSim2's
mase, Ramulator, hwmodel text without size/vm columns), for `hwmodel dram`.

It only accepts lines the trace package's parser (hwmodel.trace, the authority) reads the same
way: an address of 1-16 hex digits with an optional 0x, one of the format's keywords, and (three
fields) a decimal of 1-18 digits, separated by spaces or tabs, with optional leading and trailing
blanks and a trailing CR. At anything else (a comment, a blank line, a malformed or unusual
line) it stops and tells the caller where, so that the authority reads the rest of the block and
reports errors with file and line. tests/test_dramsim.py checks both agree on random text.
"""
from libc.stdint cimport int64_t, uint64_t, uint8_t


cdef inline int hexval(unsigned char c) noexcept nogil:
    if 48 <= c <= 57:
        return c - 48
    c |= 0x20
    if 97 <= c <= 102:
        return c - 87
    return -1


def scan_lines(const unsigned char[::1] buf, Py_ssize_t pos, Py_ssize_t end, tuple keywords,
               int ncols, int64_t[::1] time, uint64_t[::1] addr, uint8_t[::1] op):
    """Parse the lines of buf[pos:end] (which ends at a newline) into time/addr/op from index 0.

    keywords: ((bytes, code), ...) of the operation field; ncols: 2 (untimed) or 3. Returns
    (records, stop): stop == end when every line was read, else the offset of the first line the
    fast path does not take (records holds the lines before it). Runs without the GIL."""
    if ncols not in (2, 3):
        raise ValueError("scan_lines: ncols must be 2 or 3")
    if len(keywords) > 8:
        raise ValueError("scan_lines: at most 8 keywords")
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
    cdef Py_ssize_t cap = min(time.shape[0], addr.shape[0], op.shape[0])
    cdef Py_ssize_t n = 0, p = pos, line, q
    cdef uint64_t a
    cdef int64_t tv
    cdef int d, k, m, found
    cdef unsigned char c
    with nogil:
        while p < end and n < cap:
            line = p
            # leading blanks
            while buf[p] == 32 or buf[p] == 9:
                p += 1
            # address: optional 0x, 1-16 hex digits
            if buf[p] == 48 and (buf[p + 1] | 0x20) == 120 and hexval(buf[p + 2]) >= 0:
                p += 2
            a = 0
            k = 0
            while True:
                d = hexval(buf[p])
                if d < 0:
                    break
                a = (a << 4) | <uint64_t>d
                p += 1
                k += 1
            if k == 0 or k > 16 or not (buf[p] == 32 or buf[p] == 9):
                p = line
                break
            while buf[p] == 32 or buf[p] == 9:
                p += 1
            # operation keyword: ends at a blank, CR or newline
            q = p
            while buf[q] != 32 and buf[q] != 9 and buf[q] != 13 and buf[q] != 10:
                q += 1
            found = -1
            for i in range(nkw):
                if kwlen[i] == q - p:
                    m = 0
                    while m < kwlen[i] and buf[p + m] == kw[i][m]:
                        m += 1
                    if m == kwlen[i]:
                        found = i
                        break
            if found < 0:
                p = line
                break
            p = q
            tv = 0
            if ncols == 3:
                if not (buf[p] == 32 or buf[p] == 9):
                    p = line
                    break
                while buf[p] == 32 or buf[p] == 9:
                    p += 1
                k = 0
                while 48 <= buf[p] <= 57:
                    tv = tv * 10 + (buf[p] - 48)
                    p += 1
                    k += 1
                if k == 0 or k > 18:
                    p = line
                    break
            # trailing blanks, an optional CR, the newline
            while buf[p] == 32 or buf[p] == 9:
                p += 1
            if buf[p] == 13:
                p += 1
            if buf[p] != 10:
                p = line
                break
            p += 1
            time[n] = tv
            addr[n] = a
            op[n] = kwcode[found]
            n += 1
    return n, p
