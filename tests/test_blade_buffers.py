"""S3: the memory controller finds the buffer that manages an address; a buffer adds its latency
and back-pressures the controller when its command queue (or its data buffer) is full. Both backends."""
import pytest

import hwmodel
from hwmodel import Buffer, System
from tiny import run, tiny


def with_buffers(buffers=1, queue=0, latency="0ns", data="0B", link="1GB/s", vm="64KiB"):
    base = tiny("static", vm=vm).to_dict()
    # blade super pages of 1 MiB are dealt to the buffers in turn
    return System.from_dict({**base, "link": {**base["link"], "bandwidth": link},
                             "memory_blade": {**base["memory_blade"], "buffers": [
                                 {"queue_depth": queue, "latency": latency, "data_buffer": data}] * buffers}})


def test_buffer_latency_adds_to_every_blade_request(backend):
    plain = run(with_buffers(), [0], [16384], backend=backend).completions[0]
    slow = run(with_buffers(latency="7ns"), [0], [16384], backend=backend).completions[0]
    assert slow - plain == 7_000


def test_a_full_command_queue_back_pressures_the_controller(backend):
    # two reads (to two banks) reach the same buffer together: with a queue of one, the second
    # waits for the first; a fast link leaves the DRAM side as the bottleneck, so it shows
    t, a = [0, 0], [16384, 16384 + 8192]
    free = run(with_buffers(queue=0, link="1TB/s"), t, a, backend=backend)
    one = run(with_buffers(queue=1, link="1TB/s"), t, a, backend=backend)
    assert one.counters["buffer_wait_ps"] > 0 and free.counters["buffer_wait_ps"] == 0
    assert one.completions[1] > free.completions[1]
    assert one.completions[0] == free.completions[0]


def test_a_full_data_buffer_back_pressures_like_a_full_queue(backend):
    # static moves lines only: a 64 B data buffer stages one line, as a queue of one entry holds
    # one command; an unlimited queue with it waits as the one-entry queue does
    t, a = [0, 0], [16384, 16384 + 8192]
    one = run(with_buffers(queue=1, link="1TB/s"), t, a, backend=backend)
    staged = run(with_buffers(queue=0, data="64B", link="1TB/s"), t, a, backend=backend)
    assert list(staged.completions) == list(one.completions)
    assert staged.counters["buffer_wait_ps"] == one.counters["buffer_wait_ps"] > 0


def test_requests_to_other_buffers_do_not_wait(backend):
    # 1 MiB apart on the blade: different super pages, so different buffers when there are two
    t, a = [0, 0], [16384, 16384 + (1 << 20)]
    system = with_buffers(buffers=2, queue=1, vm="4MiB")
    mb = system.memory_blade
    assert mb.buffer_of(0) == 0 and mb.buffer_of(1 << 20) == 1 and mb.buffer_of(2 << 20) == 0
    r = run(system, t, a, backend=backend)
    assert r.counters["buffer_wait_ps"] == 0


def test_alike_buffers_compile_to_the_core_parameters():
    s = with_buffers(buffers=3, queue=4, latency="5ns")
    c = s.compile("timestamp")
    assert (c.param("BUF_N"), c.param("BUF_QD"), c.param("BUF_LAT_PS"), c.param("BUF_SHIFT")) == (3, 4, 5_000, 20)
    # a data buffer bounds the entries to what it stages: lines here (static), swap units where pages move
    assert with_buffers(queue=8, data="256B").compile("timestamp").param("BUF_QD") == 4
    assert with_buffers(queue=0, data="256B").compile("timestamp").param("BUF_QD") == 4
    paging = System.from_dict({**tiny("page_swap").to_dict(), "memory_blade": {
        **tiny("page_swap").to_dict()["memory_blade"], "buffers": [{"queue_depth": 8, "data_buffer": "8KiB"}]}})
    assert paging.compile("timestamp").param("BUF_QD") == 2
    assert hwmodel.Buffer is Buffer and s.memory_blade.buffers == (Buffer(queue_depth=4, latency="5ns"),) * 3


def test_bad_buffer_configs():
    with pytest.raises(ValueError, match=r"memory_blade.buffers: 0 buffers; from 1 to 65536"):
        System.from_dict({"memory_blade": {"buffers": []}})
    with pytest.raises(ValueError, match=r"memory_blade.buffers\[0\].latency"):
        System.from_dict({"memory_blade": {"buffers": [{"latency": "soon"}]}})
    with pytest.raises(ValueError, match=r"memory_blade.buffers\[1\].queue_depth: 65537 must be an integer"):
        System.from_dict({"memory_blade": {"buffers": [{}, {"queue_depth": 65537}]}})
    with pytest.raises(ValueError, match=r"memory_blade.buffers: expected a list of buffers"):
        System.from_dict({"memory_blade": {"buffers": 3}})
    with pytest.raises(ValueError, match=r"memory_blade.buffers\[1\].latency: '5ns' differs from buffers\[0\]'s "
                                         r"'0ns'; the core models alike buffers"):
        System.from_dict({"memory_blade": {"buffers": [{}, {"latency": "5ns"}]}})
    with pytest.raises(ValueError, match=r"memory_blade.buffers\[0\].data_buffer: 2KiB cannot stage one 4096-byte "
                                         r"transfer"):
        System.from_dict({"memory_blade": {"buffers": [{"data_buffer": "2KiB"}]}})
    with pytest.raises(ValueError, match=r"memory_blade.buffers\[0\].bogus: unknown parameter; allowed: queue_depth, "
                                         r"data_buffer, latency"):
        System.from_dict({"memory_blade": {"buffers": [{"bogus": 1}]}})
