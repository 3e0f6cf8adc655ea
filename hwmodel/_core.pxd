# Shared structs of the compiled core: `_core.pyx` includes its parts from hwmodel/core/*.pxi, and
# every part reads and writes the run state through one `Core`. The plain-Python twin holds the same
# fields as attributes of its `Core` (hwmodel/core/state.py binds them, as bind_state does here).
from libc.stdint cimport int64_t, uint64_t, int32_t, uint8_t

# One DRAM subsystem (a memory controller and its channels), defined by core/dram.pxi, which _core.pyx
# includes: a .pxd is read before the module's body, so `Core` holds its DRAMs by pointer and
# run_chunk owns the records.
cdef struct Dram


# the DRAM request log (hwmodel run --dram-trace): rows of _layout.LOG_FIELDS (core/dram_log.pxi)
cdef struct ReqLog:
    int64_t* rows          # LOG_W int64 per request, in a C buffer that doubles when full
    int64_t n, cap         # rows held; rows the buffer has room for
    bint failed            # a realloc failed: the log is incomplete (run_chunk raises)


# the scheduling state of one link (both directions), or of the switch's memory-blade port
cdef struct Sched:
    int64_t* cal           # fifo: a calendar per direction (core/link.pxi, cal_reserve)
    int64_t* qfree         # strict priority, per direction and level: next free
    int64_t* qls           # strict priority, per direction and level: start of the last message on the wire
    int64_t* qle           # ... and its end
    int64_t* qfin          # fair, per direction and queue: virtual finish time
    int64_t* qtb           # token bucket, per direction and queue: full-at time (ps, remainder); NULL = no caps


# where the per-blade state arrays start (blade 0's slices); bind_blade offsets them to blade k's
cdef struct Blade:
    Sched link             # its link to the memory blade (or to the switch)
    int64_t* frame_ready   # per frame: its last fill (and map update) is done, ps
    int32_t* frame_page    # per frame: the guest unit it holds, -1 = none
    int32_t* prev          # per frame: exact LRU, the more recently used neighbour in its set's list
    int32_t* nxt           # ... and the less recently used one
    int32_t* head          # per frame set: most recently used frame (LRU)
    int32_t* tail          # per frame set: least recently used frame, the LRU victim
    int32_t* used          # per frame set: frames taken (in order) so far
    int32_t* hand          # per frame set: CLOCK and FIFO hand
    int32_t* blade_next    # per frame set: memory-blade slots taken so far
    uint8_t* dirty         # per frame: written since it was filled
    uint8_t* ref           # per frame: CLOCK reference bit
    int32_t* slot_page     # per blade slot: the guest unit it holds, -1 = free
    int32_t* blade_hand    # per frame set: FIFO hand over its blade slots (eviction to storage)
    uint8_t* ck_dirty      # per frame: checkpoint state (see Core)
    uint8_t* ck_pending    # per frame: in the checkpoint in progress, not yet copied
    int32_t* ck_first      # per frame: first checkpoint that holds it
    int32_t* ck_list       # frames listed since the last checkpoint
    int32_t* ck_copy_list  # frames of the checkpoint in progress
    int64_t* cache_tag     # per LLC way: line held
    int64_t* cache_stamp   # per LLC way: last use
    uint8_t* cache_dirty   # per LLC way: written since it was filled
    int32_t* sp_map        # per super page of the compute blade: the memory blade's


cdef struct Core:
    # the pointers that `Blade` also has are the bound compute blade's slices (bind_blade)
    const int64_t* p       # parameters (_layout.PARAM_NAMES, then the tables they point at)
    int64_t* cnt           # counters (_layout.COUNTER_NAMES)
    int64_t* hist          # latency histogram, reads then writes (_layout.hist_bin)
    int64_t* vm_hist       # per VM: coarse latency histogram (when P_VM_HIST)
    int64_t* vm_stats      # per queue (VMs, then background): _layout.VM_STAT_NAMES
    int64_t* sc            # scalars (_layout.SCALAR_NAMES)
    int64_t* ring          # closed loop: completion of each access in the window
    Sched link             # the bound blade's link
    int64_t* frame_ready
    int32_t* pt_dir        # page-table directory: per PT_LEAF guest pages, the leaf that holds them (0 = untouched)
    int32_t* pt_leaf       # page-table leaves, one after another (_layout.PT_LEAF_SHIFT)
    int64_t pt_leaf_lim    # more leaves in use than this: too little room left (scalars["grow"])
    int64_t* cbg           # per compute blade: GROW_FIELDS (where its frames and slots are, how many rows)
    int64_t frame_rows, frame_lim   # the bound blade's frame rows; a set using more than frame_lim: grow
    int64_t slot_rows, slot_lim     # likewise for its blade slots
    int64_t* va_key        # virtual pages: open-addressing keys (_layout.VA_HASH), 0 = empty
    int32_t* va_page       # ... and the guest-physical page each maps to (within its VM)
    int64_t* va_next       # per VM: guest-physical pages handed out
    const int64_t* vm_pages   # per VM: guest-physical pages it may have
    uint64_t va_mask       # virtual-page table size - 1 (a power of two)
    int64_t va_shift, va_lim  # home slot = hash >> va_shift; entries it may hold
    int32_t* frame_page
    int32_t* prev
    int32_t* nxt
    int32_t* head
    int32_t* tail
    int32_t* used
    int32_t* hand
    int32_t* blade_next
    uint8_t* dirty
    uint8_t* ref
    int32_t* slot_page     # per blade slot (the compute blade's numbering): the unit it holds, -1 = free
    int32_t* blade_hand    # per set: FIFO hand over its blade slots (eviction to storage)
    int64_t* dev_unit_free # per storage-device unit: free at, ps
    int64_t* dev_ring      # per queue slot: completion of the request that holds it
    int64_t* buf_free      # per I/O-driver buffer: free at, ps
    uint8_t* ck_dirty      # per frame: 0 clean, 1 written since the last checkpoint (listed), 2 listed but clean
    uint8_t* ck_pending    # per frame: in the checkpoint in progress, not yet copied
    int32_t* ck_first      # per frame: index of the first checkpoint that holds it, 0 = none
    int32_t* ck_list       # frames listed since the last checkpoint (each once)
    int32_t* ck_copy_list  # frames of the checkpoint in progress
    int64_t* epoch_buf     # rows of (time, counters, local DRAM counters, blade DRAM counters)
    int64_t* cache_tag     # per cache way: line address held, -1 = invalid
    int64_t* cache_stamp   # per cache way: last use (LRU)
    uint8_t* cache_dirty   # per cache way: written since it was filled
    int64_t* qsla          # per queue: the SLA row in force (SLA_FIELDS)
    int32_t* sp_map        # per super page of the compute blade: the memory blade's, -1 = none
    Blade base             # the per-blade arrays as a whole (blade 0's slices)
    int64_t* defer         # held-back victim write-backs: a ring of DEFER_FIELDS rows sorted by time
    Sched port             # the switch's port to the memory blade (caps act on the links only)
    int32_t* sp_owner      # per memory-blade super page: blade + 1 may use it, -(blade + 1) revoked, 0 free
    int64_t nb, cb         # compute blades; the bound one
    int64_t local_bytes    # the bound blade's guest-usable local memory, bytes (static policy)
    int64_t temp_addr      # local DRAM address of its hypervisor's temporary page
    int64_t mbase          # machine address of its first VM
    int64_t per_set        # memory-blade slots per frame set it may use
    int64_t sp_shift       # log2 of the memory blade's super page
    int64_t sw             # 1 = a switch between the links and the memory blade
    int64_t ck_base        # blade address of its checkpoint area
    int64_t peer_base      # where its checkpoints start in a peer's memory
    int64_t* cks           # the bound blade's service-processor and host row (CK_FIELDS)
    int64_t* cks_base      # every blade's rows
    bint sp_identity       # one blade, super pages given at boot, never revoked: blade address = its own
    int64_t qos, qdisc     # 1 = SNIC QoS on the links (else one FIFO calendar each way); its discipline
    int64_t nq, nlev       # queues (VMs, then background); dense priority levels
    int64_t cur_q          # the queue (VM) of the access being run
    int64_t bg             # the background queue (checkpoint copies): after the VMs'
    void* qos_start_p      # qos_start, called through a pointer so that the FIFO path stays small
    uint64_t rng           # SplitMix64 state (random victims, random LLC ways, random blade evictions)
    int64_t ushift, smask, n_sets, ways   # log2 of the swap unit; frame sets - 1; frame sets; frames per set
    int64_t prop           # link propagation, each direction, ps
    int64_t victim         # victim policy (_layout.VICTIMS)
    int64_t cache_sets, cache_ways   # LLC filter (0 sets = none)
    int64_t ck_regime      # checkpoint regime (_layout.CK_REGIMES)
    int64_t unit           # bytes of a swap unit: 1 << ushift
    Dram* local            # the bound compute blade's local DRAM, one of `locals`
    Dram* locals           # every compute blade's local DRAM
    Dram* blade            # the memory blade's DRAM
    Dram* peer             # a peer node's memory (service processor checkpoints)
    int64_t* mbuf_ring     # per memory-blade buffer: its queue slots' completion times
    int32_t* mbuf_idx      # per memory-blade buffer: the next slot to reuse
    ReqLog* log            # DRAM request log, NULL = not kept
    bint func              # functional mode (core/functional.pxi): no timing, no DRAM; checkpoint copies
    #                        and restores are counted and take their DMA time, not scheduled
