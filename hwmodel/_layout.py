"""Flat layout shared by the compiled core and its Python twin: parameter and counter indices,
policy codes (the DRAM subsystem has its own, in _dram_layout.py). setup.py generates the Cython
enums of `_core.pyx` from this file, so the two backends cannot disagree on an index.
"""

# Policy codes: the one table from names to the integers the core switches on.
POLICIES = {"static": 0, "fgra": 1, "page_swap": 2, "subpage_swap": 3}
VICTIMS = {"lru": 0, "clock": 1, "fifo": 2, "random": 3}
PLACEMENTS = {"low": 0, "first_touch": 1}
ADDRESSES = ("auto", "virtual", "physical")   # core.addresses: what a trace's addresses are
TIMINGS = {"open": 0, "closed": 1}
CACHE_POLICIES = {"lru": 0, "random": 1}
CK_REGIMES = {"none": 0, "stop_and_copy": 1, "incremental": 2, "cow": 3}
CK_TARGETS = {"memory_blade": 0, "storage": 1, "peer": 2}
STORAGE_VICTIMS = {"fifo": 0, "random": 1}
# link disciplines of the one-pass core (hardware.snic.DISCIPLINES names map onto these; drr and wfq share 2)
LINK_DISCIPLINES = {"fifo": 0, "strict_priority": 1, "fair": 2}
# disciplines of the exact packet scheduler (core/_linksched.pyx, `hwmodel qos`); hardware.snic's
# registry maps names onto these codes, and a new algorithm is a new code here and in _linksched.pyx
SCHED_DISCIPLINES = {"fifo": 0, "strict_priority": 1, "wrr": 2, "drr": 3, "wfq": 4}

# one row of the SLA table (and of the mutable copy in state["qos_sla"]): dense priority level
# (0 = most important), weight, token bucket ps-per-byte as TB_NUM / TB_DEN (TB_NUM 0 = unshaped),
# bucket depth in bytes. _core.pyx hard-codes these offsets (tests/test_snic.py checks them).
SLA_FIELDS = ("LEVEL", "WEIGHT", "TB_NUM", "TB_DEN", "TB_BURST")
EVENT_FIELDS = ("T_PS", "QUEUE") + SLA_FIELDS     # at T_PS, queue QUEUE's SLA row becomes the rest
# per queue (VMs, then the background queue): accesses and latency sum (VM rows only), wire bytes
# it sent over the link (both directions), link queueing delay (start of serialization minus the
# time the message was ready), messages sent; the writes among the accesses and their latency sum
# (reads are the rest)
VM_STAT_NAMES = ("accesses", "latency_sum_ps", "link_bytes", "link_queue_ps", "link_messages",
                 "writes", "write_latency_sum_ps")

PARAM_NAMES = (
    "POLICY", "VICTIM", "PLACEMENT", "CBF", "TIMING", "WINDOW",
    "UNIT_SHIFT",      # log2 of the swap unit (page, or sub page)
    "N_SETS",          # frame sets: 1 for page_swap, sub pages per super page for subpage_swap
    "N_PAGES",         # guest pages (swap units) of all VMs
    "TRAP_PS", "MAP_UPDATE_PS", "FILTER_PS", "AGENT_PS",
    "PROP_PS",         # link propagation, each direction
    "SER_REQ_PS", "SER_LINE_PS", "SER_WLINE_PS", "SER_UNIT_PS", "SER_FIRST_PS",
    "WIRE_REQ_B", "WIRE_LINE_B", "WIRE_WLINE_B", "WIRE_UNIT_B",
    "LINE_SHIFT",      # log2 of the cache line, bytes
    "SEED",
    "CACHE_SETS",      # last-level cache filter: sets (0 = no cache), ways, hit latency, policy
    "CACHE_WAYS", "CACHE_HIT_PS", "CACHE_POLICY",
    "STORAGE",         # 1 = a storage device behind an I/O driver takes what the blade cannot hold
    "ST_READ_PS", "ST_WRITE_PS",   # device access time of one swap unit, before its transfer
    "ST_XFER_PS",      # transfer of one swap unit on the device's shared data path
    "ST_UNITS",        # requests the device serves at once (internal parallelism)
    "ST_QD",           # outstanding requests (queue depth), in submission order
    "DRV_BUFS", "DRV_OVERHEAD_PS",   # I/O driver page buffers; software cost per command
    "ST_VICTIM",       # which blade page goes down when the blade is full: 0 fifo, 1 random
    "CK_REGIME",       # service-processor checkpoints: 0 none, 1 stop_and_copy, 2 incremental, 3 cow
    "CK_INTERVAL_PS", "CK_SETUP_PS",
    "CK_PACE_PS",      # the service processor's DMA: one swap unit per CK_PACE_PS at most
    "CK_TARGET",       # where checkpoints go: 0 memory blade, 1 storage device
    "PEER_PS",         # peer target: one way through the switch and the peer's NIC, beyond the link
    "BUF_N", "BUF_SHIFT",   # memory-blade buffers: how many; log2 of the span each manages in turn
    "BUF_QD",          # each buffer's command-queue depth (0 = unlimited)
    "BUF_LAT_PS",      # a buffer's own latency per request
    "FAIL_AT_PS",      # injected failure time, -1 = none
    "FAIL_CB",         # the compute blade that fails
    "EPOCH_PS",        # counters are sampled at every multiple of this (0 = no time series)
    "EPOCH_CAP",       # rows the epoch buffer holds before the engine must drain it
    # SNIC link QoS (S4). QOS = 0: the link is one FIFO per direction (the fast path). QOS = 1: every
    # message is scheduled by QOS_DISC among QOS_NQ queues (the VMs, then the background queue of
    # the service processor) with QOS_LEVELS dense priority levels. The per-queue SLA table
    # (QOS_NQ rows of SLA_FIELDS) and the SLA-change events (QOS_NEV rows of EVENT_FIELDS, by time)
    # follow the fixed parameters in p, at offsets QOS_SLA_AT and QOS_EV_AT.
    "QOS", "QOS_DISC", "QOS_NQ", "QOS_LEVELS", "QOS_NEV", "QOS_BG", "QOS_SLA_AT", "QOS_EV_AT",
    # Compute blades (several share the memory blade): N_CB rows of CB_FIELDS at CB_AT; trace VM v
    # runs on blade p[VM_CB_AT + v]. The switch (SW = 1) sits between the blades' links and the
    # memory blade's port: a message crosses it in SW_LAT_PS, then serializes on the port (one
    # FIFO per direction) at SW_NUM / SW_DEN ps per wire byte.
    "N_CB", "CB_AT", "VM_CB_AT", "SW", "SW_LAT_PS", "SW_NUM", "SW_DEN",
    "AGENT_OCC_PS",    # the protocol agent takes one request per AGENT_OCC_PS (0 = no limit)
    # Address-mapping module: blade capacity in super pages of 2**SP_SHIFT bytes, handed to the
    # compute blades at boot (SP_MODE 0) or on demand (1, an allocate round trip each); a request to
    # a super page its blade does not own is a permission fault (STRICT = 1 stops the run there).
    # PERM_NEV permission changes (rows of PERM_FIELDS, by time) follow at PERM_EV_AT.
    "SP_SHIFT", "N_SP", "SP_MODE", "STRICT", "PERM_NEV", "PERM_EV_AT",
    "VM_HIST",         # 1 = a latency histogram per VM (coarse bins, VM_HIST_SHIFT) for per-VM percentiles
    # Trace addresses are virtual (VIRTUAL = 1): the guest kernel maps each VM's virtual page to its
    # next free guest-physical page at first touch (state["va_key"], see VA_KEY_SHIFT), at most
    # p[VM_PAGES_AT + v] pages for VM v (its memory, or what `auto` reserves)
    "VIRTUAL", "VM_PAGES_AT",
    "N_DIR",           # entries of the page-table directory: guest pages (N_PAGES) / PT_LEAF, rounded up
)
P = {name: i for i, name in enumerate(PARAM_NAMES)}

# One row per compute blade. Its super-page map is a slice of state["sp_map"] from VSP_OFF (N_VSP
# entries: its k-th super page -> the blade's physical one, -1 = none yet); where its frame and
# slot records start is state, not a parameter (GROW_FIELDS: they grow with use).
CB_FIELDS = ("WAYS",         # frames per set
             "LOCAL_BYTES",  # guest-usable local memory, bytes (static policy: below it is local)
             "TEMP_ADDR",    # local DRAM address of the hypervisor's temporary page
             "MBASE",        # machine address of the blade's first VM (static policy subtracts it)
             "PER_SET",      # memory-blade slots per frame set it may use
             "VSP_OFF", "N_VSP",
             "CK_BASE",      # blade address of its checkpoint area (above its slots)
             "PEER_BASE")    # where its checkpoints start in the peer's memory (service.target: peer)
CB = {name: i for i, name in enumerate(CB_FIELDS)}
# a request to the address-mapping module at T_PS about blade CB's super page VSP (its own
# numbering): ACCESS is one of PERM_ACCESS (revoke: the blade may no longer touch it; grant: it may
# again; release: the blade de-allocates it, it returns to the free pool)
PERM_FIELDS = ("T_PS", "CB", "VSP", "ACCESS")
PERM_ACCESS = {"revoke": 0, "grant": 1, "release": 2}
# A link direction (and the switch port's) is a calendar of its last LINK_CAL_SLOTS reservations,
# sorted by start: a message ready at t takes the first idle gap at or after t that holds it, so a
# message reserved for later (a victim write-back after its copy) does not hold back one ready
# sooner. Layout of one calendar: CAL_FIELDS, then LINK_CAL_SLOTS (start, end) pairs, ps, a ring
# from HEAD in start order; a full calendar forgets its oldest and raises FLOOR to its end.
LINK_CAL_SLOTS = 64
CAL_FIELDS = ("N", "HEAD", "FLOOR")   # reservations held; ring index of the earliest; all busy before FLOOR
CAL_WIDTH = len(CAL_FIELDS) + 2 * LINK_CAL_SLOTS
# A victim's write-back to the memory blade is ready only after its local copies, often after
# accesses that come later in the trace. It is held back (up to DEFER_CAP, a power of two, in a
# ring sorted by ready time)
# until an access arrives at or after its ready time, so that the link, port, agent and blade DRAM
# see it in time order rather than ahead of those accesses. An empty chunk carries out the rest.
DEFER_FIELDS = ("T_PS", "CB", "SLOT", "QUEUE")
DEFER_CAP = 64
# One row of the DRAM request log (`hwmodel run --dram-trace`): a request as its DRAM received it,
# arrival time (ps), DRAM byte address, bytes (a line or a swap unit), and DRAM id << 1 | write
# (ids: each compute blade's local DRAM 0..N_CB-1, then the memory blade, then a checkpoint peer).
LOG_FIELDS = ("t_ps", "addr", "bytes", "dram_w")

# scalars["error"] codes: the core stopped the run (the engine raises with the access's place)
ERR_PERMISSION = 1
ERR_NO_SUPER_PAGE = 2
ERR_VM_FULL = 3        # a VM touched more virtual pages than its guest-physical memory holds (info: VM)
ERR_NO_ROOM = 4        # a first touch found no free frame, no blade slot and no storage (info: blade)

# State that grows with use. The core never allocates: before each access it stops (returning how
# many accesses ran, as for a full epoch buffer) when scalars["grow"] is set, and the engine grows
# the arrays (geometrically) and resumes. An access takes at most GROW_ROOM frames, blade slots and
# page-table leaves of its blade (a fault and an LLC write-back's fault); the core sets "grow" as
# soon as less room than that is left, so the access under way always fits. Virtual addresses of a
# chunk are mapped before it runs, the table kept at most half full: the mapping stops at the first
# new page that does not fit, and once the accesses before it have run the core sets "grow".
# See core/engine.state_spec and hwmodel.core.growable.
GROW_ROOM = 2
# The guest page table (guest page -> where it is, see UNTOUCHED) has two levels: state["pt_dir"]
# (N_DIR entries, one per PT_LEAF guest pages) names a leaf of state["pt_leaf"], which holds the
# leaves one after another. Leaf 0 is all UNTOUCHED and never written: every directory entry points
# there until a page of its range is first touched and the next free leaf (scalars["pt_leaves"]) is
# taken for it.
PT_LEAF_SHIFT = 10
PT_LEAF = 1 << PT_LEAF_SHIFT
# Per compute blade (state["cb_grow"]): its frame records start at FRAME_BASE in every frame array
# and hold FRAME_ROWS rows of N_SETS frames (frame f of the blade is element FRAME_BASE + f); its blade
# slots start at SLOT_BASE in state["slot_page"] and hold SLOT_ROWS rows of N_SETS slots. Frames
# and slots are taken in order per set (set_used, blade_next), so a blade's rows only grow up to
# WAYS and PER_SET.
GROW_FIELDS = ("FRAME_BASE", "FRAME_ROWS", "SLOT_BASE", "SLOT_ROWS")
G = {name: i for i, name in enumerate(GROW_FIELDS)}
# Virtual addresses: an open-addressing table (linear probing, at most half full) of
# key = ((virtual page << 16) | VM) + 1 (0 = empty) -> the VM's guest-physical page (state["va_key"],
# state["va_page"]); home slot = (key * VA_HASH mod 2**64) >> (64 - log2(size)); at most size / 2
# keys. A virtual page number must stay below 2**VA_PAGE_BITS.
VA_HASH = 0x9E3779B97F4A7C15
VA_PAGE_BITS = 47

COUNTER_NAMES = (
    "accesses", "reads", "writes",
    "local_accesses", "remote_accesses",   # served from local DRAM / over the link at line size
    "faults",                              # hypervisor traps for a remote page or sub page
    "swap_ins", "swap_outs",               # swap units moved into / out of local memory
    "dirty_victims",                       # swapped-out units that had been written
    "first_touch_local", "first_touch_remote",
    "link_bytes_out", "link_bytes_in",     # wire bytes incl. headers, compute->blade / blade->compute
    "latency_sum_ps", "latency_max_ps",    # every access (reads and writes together)
    "first_arrival_ps", "last_completion_ps",
    "stall_ps",                            # closed loop: issue delay caused by a full window
    "cache_hits", "cache_misses", "cache_writebacks",   # LLC filter (writebacks: dirty evictions)
    "storage_reads", "storage_writes",     # swap units moved from / to the storage device
    "blade_evictions",                     # blade pages pushed down to storage to make room
    "first_touch_storage",                 # pages first touched when local and blade were full
    "driver_wait_ps", "storage_wait_ps",   # waiting for a driver buffer / a device unit or queue slot
    "blade_fault_ps", "storage_fault_ps",  # latency of faults served from the blade / from storage
    "checkpoints", "ckpt_bytes",           # checkpoints taken; bytes the service processor copied
    "ckpt_busy_ps",                        # sum of checkpoint durations (tick to last byte stored)
    "ckpt_stall_ps",                       # stop_and_copy, incremental: time the host was stopped
    "ckpt_ticks_skipped",                  # ticks that fell while a checkpoint was still being taken
    "cow_wait_ps",                         # cow: host writes waiting for their page's copy
    "failures", "lost_work_ps", "recovery_ps", "restored_bytes",
    "buffer_wait_ps",                      # blade requests held back by a full buffer queue
    "agent_wait_ps",                       # requests waiting for the protocol agent
    "port_bytes_out", "port_bytes_in",     # wire bytes on the switch's memory-blade port
    "port_queue_ps",                       # messages waiting for that port
    "sp_grants",                           # super pages handed to compute blades on demand
    "sp_releases",                         # super pages compute blades de-allocated
    "permission_faults",                   # requests to a super page the blade does not own (refused)
    "permission_changes",                  # permission changes applied
    # reads and writes apart: a write's latency is when the processor may consider it done (a
    # posted line write, when the controller's write buffer takes it), never memory latency
    "read_latency_sum_ps", "read_latency_max_ps", "write_latency_sum_ps", "write_latency_max_ps",
)
C = {name: i for i, name in enumerate(COUNTER_NAMES)}

# Scalars of the run state.
SCALAR_NAMES = ("ring_idx", "last_issue_ps", "last_arrival_ps", "rng", "started", "cache_clock",
                "dev_bus_free", "dev_ring_idx",
                "epoch_next", "epoch_rows",
                "qos_ev",                       # next SLA-change event to apply
                "cb",                           # the compute blade whose state is bound
                "perm_ev",                      # next permission change to apply
                "sp_next",                      # no free super page below this one
                "defer_n", "defer_head",        # victim write-backs held back: a ring in state["defer"]
                "error", "error_info",          # ERR_* code and its detail (super page, VM, blade)
                "grow",                         # 1 = an array is short of GROW_ROOM: stop before the next access
                "pt_leaves",                    # page-table leaves in use (leaf 0, the untouched one, included)
                "va_used")                      # virtual pages in the table (all VMs)
S = {name: i for i, name in enumerate(SCALAR_NAMES)}

# Each compute blade's service processor and host: one row of these per blade (state["ck_sc"]).
CK_FIELDS = ("ck_next",                       # next checkpoint tick
             "ck_count",                      # frames listed in ck_list since the last checkpoint
             "ck_index",                      # checkpoints started
             "ck_active", "ck_pos", "ck_total", "ck_issue", "ck_start", "ck_end",  # one in progress
             "ck_last_index", "ck_last_start", "ck_last_end",   # the last completed checkpoint
             "ck_prev_index", "ck_prev_start", "ck_prev_end",   # the one before it
             "stall_until",                   # the host is stopped (checkpoint, recovery) until
             "failed")                        # this blade has failed (service.fail_at)
K = {name: i for i, name in enumerate(CK_FIELDS)}

# Latency histograms, reads then writes (state["hist"] holds 2 x HIST_BINS; per VM likewise):
# log-linear, exact below 256 ps, then 128 bins per octave (< 0.8% wide).
HIST_SUB_BITS = 7
HIST_BINS = (64 - HIST_SUB_BITS) * (1 << HIST_SUB_BITS) + (1 << HIST_SUB_BITS)
# Per-VM histograms merge 2**VM_HIST_SHIFT neighbouring bins (16 per octave, < 4.4% wide); they
# are kept for up to VM_HIST_MAX_VMS VMs (state stays under 8 MB).
VM_HIST_SHIFT = 3
VM_HIST_BINS = HIST_BINS >> VM_HIST_SHIFT
VM_HIST_MAX_VMS = 1024

# Page-location encoding in the page table (pt_leaf): >= 0 local frame; UNTOUCHED; ON_STORAGE
# (block = page number); other values <= -2: blade slot (-2 - location).
UNTOUCHED = -1
ON_STORAGE = -(2**31)


def local_prefix(k: int) -> str:
    """State-key prefix of compute blade k's local DRAM (blade 0 keeps the one-blade name)."""
    return "local_" if k == 0 else f"local{k}_"


def hist_bin(v: int) -> int:
    """Histogram bin of a latency in ps (the core computes the same with a count-leading-zeros)."""
    k = v.bit_length()
    if k <= HIST_SUB_BITS + 1:
        return v
    return ((k - HIST_SUB_BITS - 1) << HIST_SUB_BITS) + (v >> (k - HIST_SUB_BITS - 1))


def hist_bin_bounds(b: int) -> tuple:
    """[low, high) latency range in ps of histogram bin b."""
    if b < (2 << HIST_SUB_BITS):
        return b, b + 1
    e = (b >> HIST_SUB_BITS) - 1
    m = b - (e << HIST_SUB_BITS)
    return m << e, (m + 1) << e
