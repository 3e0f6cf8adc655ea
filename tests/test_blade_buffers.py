"""S3: the memory controller finds the buffer that manages an address; a buffer adds its latency
and back-pressures the controller when its command queue is full. Both backends."""
import pytest

from hwmodel import System
from tiny import run, tiny


def with_buffers(buffers=1, queue=0, latency="0ns", link="1GB/s"):
    base = tiny("static").to_dict()
    # blade super pages of 1 MiB are dealt to the buffers in turn
    return System.from_dict({**base, "link": {**base["link"], "bandwidth": link},
                             "memory_blade": {**base["memory_blade"], "buffers": buffers,
                                              "buffer_queue": queue, "buffer_latency": latency}})


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


def test_requests_to_other_buffers_do_not_wait(backend):
    # 1 MiB apart on the blade: different super pages, so different buffers when there are two
    t, a = [0, 0], [16384, 16384 + (1 << 20)]
    base = tiny("static", vm="4MiB").to_dict()
    sys2 = System.from_dict({**base, "memory_blade": {**base["memory_blade"], "buffers": 2, "buffer_queue": 1}})
    r = run(sys2, t, a, backend=backend)
    assert r.counters["buffer_wait_ps"] == 0


def test_bad_buffer_configs():
    with pytest.raises(ValueError, match="memory_blade.buffers: 0 must be an integer from 1"):
        System.from_dict({"memory_blade": {"buffers": 0}})
    with pytest.raises(ValueError, match="memory_blade.buffer_latency"):
        System.from_dict({"memory_blade": {"buffer_latency": "soon"}})
