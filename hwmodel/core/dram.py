"""Plain-Python twin of `core/dram.pxi`: the DRAM subsystem behind one memory controller, by model.

DRAM.model picks the model (the parameter vector's MODEL, see hwmodel.memctrl):
- "detailed": `core.dram_ctrl` (DRAMsim3's controller, simulated where anything happens);
- "fast": `core.dram_fast.Dram` (the one-pass approximation);
- "simple": `core.dram_fast.SimpleDram` (the row-buffer formula).
Each module's docstring is its semantics; the functions below are the compiled module's, with the
same contracts (`core/dram.pxi`).
"""
from . import dram_ctrl as ctrl
from . import dram_fast as fast
from .._dram_layout import D, MODEL_DETAILED


def _detailed(d) -> bool:
    return int(d[D["MODEL"]]) == MODEL_DETAILED


def Dram(d, st, prefix, clock=None):
    """The DRAM subsystem of parameters d and state st[prefix + name], with `line(addr, t, w)`,
    `block(addr, nbytes, t, w)` (completion times, ps) and `save()`. `clock`: the whole-system
    core's live (scalars, defer) lists, which give the detailed model its horizon."""
    if _detailed(d):
        return ctrl.Ctl(d, st, prefix, clock)
    return fast.Dram(d, st, prefix)


def dram_run(d, st, prefix, t, addr, w, out, acc=None, until=0):
    """Run line requests (arrays t, addr, w; in time order for the detailed model) through one
    DRAM; completion times (ps) into `out` and, if given, the times the controller accepted them
    into `acc`. The detailed model runs until every request is done, and at least to `until` ps."""
    if _detailed(d):
        ctrl.run(d, st, prefix, t, addr, w, out, acc, until)
    else:
        fast.run(d, st, prefix, t, addr, w, out, acc)


def dram_stream(d, st, prefix, ch, t, addr, w, upto, final, done, acc, wr):
    """The detailed model fed in pieces (hwmodel dram): see core.dram_ctrl.stream."""
    if not _detailed(d):
        raise ValueError("dram_stream: the detailed model only (the others answer in dram_run)")
    return ctrl.stream(d, st, prefix, ch, t, addr, w, upto, final, done, acc, wr)


def dram_finish(d, st, prefix, until=0):
    """End of a whole-system run: the detailed model commits every request it holds; the others
    have nothing to do."""
    if _detailed(d):
        ctrl.finish(d, st, prefix, until)


def dram_answer(d, st, prefix, addr, t, nbytes, w):
    """One in-system request (tests): the DRAM bound as the core binds it (st["scalars"] and
    st["defer"] give the horizon), a request of nbytes at addr presented at t; its completion."""
    m = Dram(d, st, prefix, (st["scalars"], st["defer"]) if "scalars" in st else None)
    done = m.block(int(addr), int(nbytes), int(t), int(w)) if nbytes != 1 << int(d[D["LINE_SHIFT"]]) \
        else m.line(int(addr), int(t), int(w))
    m.save()
    return done


def dram_activity(d, st, prefix, h, out):
    """Per rank (channel-major), ps with at least one bank open in [0, h) into `out` (-1: known
    past h only through the marks); the state is not changed."""
    out[:] = ctrl.activity(d, st, prefix, h) if _detailed(d) else fast.activity(d, st, prefix, h)
