# Independent reference: exact LRU with an OrderedDict (slow, for cross-checking the C counts)
import numpy as np
from collections import OrderedDict
pages = np.fromfile("../pages.bin", dtype=np.int32).tolist()
writes = np.fromfile("../writes.bin", dtype=np.uint8).tolist()
F = 1 << 18
od = OrderedDict()   # page -> dirty, last = MRU
faults = dirty = 0
for g, w in zip(pages, writes):
    d = od.get(g)
    if d is not None:
        od.move_to_end(g)
        if w: od[g] = 1
    else:
        faults += 1
        if len(od) >= F:
            _, dv = od.popitem(last=False)
            dirty += dv
        od[g] = w
print("faults", faults, "dirty_victims", dirty, "fault_rate", faults / len(pages))
