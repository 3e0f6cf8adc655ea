"""Each placement policy pinned by hand-derived completion times on the tiny system (tests/tiny.py)."""
import numpy as np

from hwmodel.core.engine import page_locations

from tiny import (AGENT, BURST, BYTE, CL, CWL, FILTER, HDR, MAP, PAGE_TIME, PROP, RCD, RP, TRAP,
                  run, tiny)

CLOSED_READ = RCD + CL + BURST          # first touch of a bank: activate, read, one burst
REMOTE_READ = ((HDR * BYTE + PROP) + AGENT + CLOSED_READ   # request out, agent, blade DRAM
               + ((64 + HDR) * BYTE + PROP))                # line back


def test_static_local_then_row_hit_then_remote(backend):
    sys = tiny("static")
    # local (below 16 KiB), same row again, a remote read, a remote write to the same blade row
    r = run(sys, [0, 100_000, 1_000_000, 2_000_000], [0, 64, 16384, 16384], [0, 0, 0, 1], backend)
    hit_done = 100_000 + CL + BURST
    remote_done = 1_000_000 + REMOTE_READ
    write_done = (2_000_000 + (64 + HDR) * BYTE + PROP + AGENT   # data out, agent
                  + 0                                              # posted: the write buffer takes it
                  + HDR * BYTE + PROP)                             # completion back
    assert r.completions.tolist() == [CLOSED_READ, hit_done, remote_done, write_done]
    c = r.counters
    assert (c["local_accesses"], c["remote_accesses"], c["faults"]) == (2, 2, 0)
    assert c["link_bytes_out"] == HDR + (64 + HDR) and c["link_bytes_in"] == (64 + HDR) + HDR
    assert (c["local_row_hits"], c["local_row_misses"]) == (1, 1)
    # the posted write is still in the blade controller's write buffer when the run ends: end of
    # run is the last completion, and buffered writes are not drained (as in DRAMsim3)
    assert (c["blade_row_hits"], c["blade_row_misses"]) == (0, 1)


def test_fgra_first_touch_fills_local_then_goes_remote(backend):
    sys = tiny("fgra", placement="first_touch")
    times = [i * 10_000_000 for i in range(6)]
    addrs = [0x0000, 0x1000, 0x2000, 0x3000, 0x4000, 0x4040]   # 4 local frames, then page 4 twice
    r = run(sys, times, addrs, backend=backend)
    c = r.counters
    assert (c["first_touch_local"], c["first_touch_remote"]) == (4, 1)
    assert c["remote_accesses"] == 2 and c["faults"] == 0
    # page 4 lives in blade slot 0: its first line finds the blade row closed, the second a hit
    assert r.completions[4] - times[4] == FILTER + REMOTE_READ
    assert r.completions[5] - times[5] == FILTER + REMOTE_READ - RCD


def _victim_swap_latency():
    """Fault on page 4 at t=0, low placement, 4 full frames, LRU victim = frame 0 (page 0).

    Bank 0 of the local DRAM holds frame 0 (row 0) and the temporary page at 16 KiB (row 1)."""
    t0 = TRAP
    t_req = t0 + HDR * BYTE + PROP
    rd_data = t_req + AGENT + RCD + CL                   # blade row closed
    rd_done = rd_data + PAGE_TIME
    t_all = rd_done + (4096 + HDR) * BYTE + PROP        # whole page back
    # victim to the temporary page: read frame 0 (row closed), write temp (row conflict)
    c_read_done = t0 + RCD + CL + PAGE_TIME
    t_c = c_read_done + RP + RCD + CWL + PAGE_TIME
    assert t_c < t_all
    # the page is written into frame 0 (row 1 open there now: conflict), then the map updated
    fill_done = t_all + RP + RCD + CWL + PAGE_TIME
    ready = fill_done + MAP
    return t_all, ready + CL + BURST                      # replayed read: row hit


def test_page_swap_with_victim_exact_time(backend):
    sys = tiny("page_swap", placement="low")
    r = run(sys, [0], [0x4000], backend=backend)
    t_all, done = _victim_swap_latency()
    assert r.completions.tolist() == [done]
    c = r.counters
    assert (c["faults"], c["swap_ins"], c["swap_outs"], c["dirty_victims"]) == (1, 1, 1, 0)
    # request + victim page out, page in
    assert c["link_bytes_out"] == HDR + 4096 + HDR and c["link_bytes_in"] == 4096 + HDR


def test_critical_block_first_completes_at_first_packet(backend):
    sys = tiny("page_swap", placement="low", critical_block_first=True)
    r = run(sys, [0], [0x4000], backend=backend)
    t_all, _ = _victim_swap_latency()
    assert r.completions.tolist() == [t_all]   # max payload 4 KiB: the first packet is the page


def test_page_swap_lru_victims_and_map_updates(backend):
    sys = tiny("page_swap", placement="low")
    # page 4 evicts frame 0 (page 0); page 0 then evicts the next LRU frame 1 (page 1);
    # the write to page 2 makes frame 2 most recent, so page 1 evicts frame 3 (page 3)
    times = [0, 20_000_000, 40_000_000, 60_000_000]
    r = run(sys, times, [0x4000, 0x0000, 0x2000, 0x1000], [0, 0, 1, 0], backend=backend)
    st = _final_state(sys, times, [0x4000, 0x0000, 0x2000, 0x1000], [0, 0, 1, 0], backend)
    loc = page_locations(st, range(16)).tolist()
    assert loc[4] == 0 and loc[0] == 1 and loc[2] == 2 and loc[1] == 3
    assert loc[3] <= -2   # page 3 went to the blade
    assert r.counters["faults"] == 3 and r.counters["dirty_victims"] == 0


def _final_state(sys, times, addrs, ops, backend):
    from hwmodel.core.engine import Engine
    e = Engine(sys.compile("timestamp"), backend)
    e.run_chunk(np.array(times), np.array(addrs, np.uint64), np.array(ops, np.uint8), np.zeros(len(addrs), np.uint16))
    return e.state


def test_subpage_swap_keeps_the_offset_within_super_pages(backend):
    # super page 16 KiB = 4 sub pages; 16 KiB local = one local super page; sub page 5 (super
    # page 1, offset 1) can only replace the local sub page at offset 1 (frame 1), not the LRU frame 0
    sys = tiny("subpage_swap", placement="low")
    st = _final_state(sys, [0], [0x5000], [0], backend)
    loc = page_locations(st, range(16)).tolist()
    assert loc[5] == 1 and loc[1] == -2 - 1 and loc[0] == 0
    r = run(sys, [0], [0x5000], backend=backend)
    # frame 1 and blade slot 1 sit in the same rows as frame 0 and slot 0: the same time as page_swap
    assert r.completions.tolist() == [_victim_swap_latency()[1]]
    assert r.unit_bytes == 4096


def test_dirty_victim_is_counted(backend):
    # FIFO: the written page 0 (frame 0, loaded first) is the victim although it was just used
    sys = tiny("page_swap", placement="low", victim="fifo")
    r = run(sys, [0, 10_000_000], [0x0000, 0x4000], [1, 0], backend=backend)
    assert r.counters["dirty_victims"] == 1


def test_access_to_a_page_in_flight_waits_for_it(backend):
    sys = tiny("page_swap", placement="low")
    # the second access to page 4 arrives while its swap is under way: it waits for the map update
    r = run(sys, [0, 10_000], [0x4000, 0x4040], backend=backend)
    _, done = _victim_swap_latency()
    ready = done - CL - BURST
    assert r.completions[1] >= ready
    assert r.counters["faults"] == 1


def test_closed_loop_window_of_one_serializes(backend):
    sys = tiny("static").replace(core=tiny().core.__class__(timing="closed", window=1))
    r = sys.run({"addr": [0, 64], "op": [0, 0]}, backend=backend, completions=True)
    first = CLOSED_READ
    assert r.completions.tolist() == [first, first + CL + BURST]
    assert r.counters["stall_ps"] == first
    assert r.timing == "closed"


def test_closed_loop_gaps_in_instructions(backend):
    from hwmodel import CoreModel
    sys = tiny("static").replace(core=CoreModel(window=4, clock="1GHz", cpi=2.0))
    # gaps of 5 and 100 instructions at 2 cycles each of 1 ns
    r = sys.run({"time": [5, 100], "addr": [0, 8192], "op": [0, 0], "timing": "gap",
                 "time_unit": "instruction"}, backend=backend, completions=True)
    arrivals = [10_000, 210_000]
    assert r.completions[0] == arrivals[0] + CLOSED_READ
    assert r.completions[1] == arrivals[1] + CLOSED_READ   # bank 1: its own row, closed
