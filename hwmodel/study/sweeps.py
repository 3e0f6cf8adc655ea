"""Parameter sweeps: a grid of configurations times a set of traces, run on a local process pool, a
Dask cluster or inline, through one `concurrent.futures` code path, resumable from its results file.

    from hwmodel.study import sweep, expand_grid, load_grid, load_results   # (this module: hwmodel.study.sweeps)
    table = sweep("base.yaml", {"hypervisor.policy": ["fgra", "page_swap"],
                                "compute.local_memory": ["256MiB", "512MiB"]},
                  ["a.npz", "b.npz"], out="results.jsonl", executor="process", workers=4)
    table = sweep(**load_grid("grid.yaml"), out="results.jsonl")

A point is (resolved configuration, trace). Its key is the first 16 hex digits of the SHA-256 of the
canonical JSON of {"config": System.to_dict() after the overrides, "trace": trace identity,
"slowdown": bool}. The trace identity of a file is its base name, its size in bytes and the
SHA-256 of its first MiB: it survives copying or moving the file (and mtime changes), and tells
a regenerated trace apart unless the new one has the same name, size and first MiB. An in-memory
trace (a dict of arrays) is identified by the SHA-256 of all its arrays.
A point whose overrides do not resolve to a valid system is keyed by the base configuration,
its overrides and the trace instead (it never runs, so it never counts as done).

The results file is JSON lines, one row per finished point, written by the calling process
(flushed and fsynced) as each point finishes. A row holds the key, the trace, the grid values
(`params`) and the `-p` overrides that make them, `status` ok|error, `error`, the hwmodel version,
the flattened summary of `Result.to_dict()` (`latency_ns.read.p99`, `counters.faults`, ...), the
read latency distribution as quantiles (`latency_cdf`: {"q": percent, "ns": latency}), and the fully
resolved configuration (`config`). Restarting a sweep on the same file skips keys whose row is ok
and retries the others; `load_results()` keeps the last row of each key.
"""
from __future__ import annotations

import concurrent.futures as cf
import datetime
import hashlib
import itertools
import json
import os
import socket
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import yaml

from ..stats import json_default

EXECUTORS = ("process", "dask", "serial")
HEAD_BYTES = 1 << 20            # bytes of a trace file hashed into its identity
#: quantiles (percent) of each point's latency distribution kept in its row (0 = min, 100 = max)
CDF_Q = (0, *range(1, 100), 99.9, 99.99, 100)
_GRID_KEYS = {"base", "grid", "traces"}


# -- grids ---------------------------------------------------------------------------------------
def expand_grid(params: dict) -> list:
    """Cartesian product of parameter axes: {"a": [1, 2], "b": ["x"]} -> [{"a": 1, "b": "x"}, ...].

    A scalar value is an axis of one value. Keys are dotted configuration paths (`-p` style).
    """
    keys, axes = [], []
    for key, values in (params or {}).items():
        if isinstance(values, dict):
            raise ValueError(f"grid {key}: expected a list of values, got a mapping")
        values = list(values) if isinstance(values, (list, tuple)) else [values]
        if not values:
            raise ValueError(f"grid {key}: empty list of values")
        keys.append(str(key))
        axes.append(values)
    return [dict(zip(keys, combo)) for combo in itertools.product(*axes)]


def parse_axes(items) -> dict:
    """`-p key=v1,v2,...` strings -> {key: [values]}; values read as YAML scalars like `-p` in
    `hwmodel run`. Commas inside brackets or quotes do not split (`-p x=[1, 2],[3, 4]`)."""
    grid = {}
    for item in items or ():
        if "=" not in item:
            raise ValueError(f"-p {item!r}: expected key.path=value[,value...]")
        key, raw = item.split("=", 1)
        key = key.strip()
        if not key or not all(key.split(".")):
            raise ValueError(f"-p {item!r}: empty name in key path {key!r}")
        grid[key] = [_yaml_value(v) for v in _split_top(raw, item)]
    return grid


def _split_top(raw: str, item: str) -> list:
    parts, depth, quote, cur = [], 0, None, []
    for ch in raw:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur).strip())
    if quote or depth:
        raise ValueError(f"-p {item!r}: unbalanced brackets or quotes")
    if any(p == "" for p in parts) and raw.strip():
        raise ValueError(f"-p {item!r}: empty value in the list")
    return parts


def _yaml_value(raw: str):
    try:
        return yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        return raw


def _override(key, value) -> str:
    """A typed grid value as the `-p key=value` string that `apply_overrides` reads back to it."""
    if isinstance(value, str) and _yaml_value(value) == value:
        return f"{key}={value}"
    return f"{key}={json.dumps(value)}"   # JSON is YAML: quoted strings, true/false, lists


def is_grid_file(data) -> bool:
    """A YAML mapping is a grid file when it has a `grid` or `base` key and no system section."""
    return isinstance(data, dict) and bool(data) and set(data) <= _GRID_KEYS and bool({"grid", "base"} & set(data))


def load_grid(path) -> dict:
    """Read a grid file `{base: CONFIG.yaml-or-mapping, grid: {key: [values]}, traces: [paths]}`
    into keyword arguments of `sweep()` (base_config, grid, traces). Relative paths in it are
    relative to the grid file."""
    from ..config import load_yaml
    path = Path(path)
    data = load_yaml(path)
    if not is_grid_file(data):
        raise ValueError(f"{path}: a grid file is a mapping with keys {sorted(_GRID_KEYS)} "
                         f"(grid required unless base is given); got keys {sorted(data)}")
    base = data.get("base")
    if isinstance(base, str):
        base = str(path.parent / base)
    elif base is not None and not isinstance(base, dict):
        raise ValueError(f"{path}: base: expected a configuration file name or a mapping, got {base!r}")
    grid = data.get("grid") or {}
    if not isinstance(grid, dict):
        raise ValueError(f"{path}: grid: expected a mapping of key.path: [values], got {type(grid).__name__}")
    try:
        expand_grid(grid)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    traces = data.get("traces") or []
    if isinstance(traces, str) or not isinstance(traces, list):
        raise ValueError(f"{path}: traces: expected a list of trace files")
    return {"base_config": base, "grid": grid, "traces": [str(path.parent / t) for t in traces]}


# -- points and keys -----------------------------------------------------------------------------
def _canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=json_default).encode()


def _digest(obj) -> str:
    return hashlib.sha256(_canonical(obj)).hexdigest()[:16]


def trace_identity(trace):
    """What a trace contributes to a point's key (see the module docstring)."""
    if isinstance(trace, dict):
        h = hashlib.sha256()
        for name in sorted(trace):
            v = trace[name]
            if isinstance(v, str):
                h.update(f"{name}={v};".encode())
            elif v is not None:
                a = np.ascontiguousarray(v)
                h.update(f"{name}:{a.dtype.str}:{a.shape};".encode())
                h.update(a.tobytes())
        return {"arrays_sha256": h.hexdigest()}
    path = Path(trace)
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
    except OSError as e:
        raise ValueError(f"{trace}: cannot read trace: {e.strerror}") from None
    return {"name": path.name, "size": size, "head_sha256": hashlib.sha256(head).hexdigest()}


def _trace_label(trace, ident) -> str:
    """The trace as the user named it (the key does not depend on it)."""
    if isinstance(trace, dict):
        return f"(arrays {ident['arrays_sha256'][:8]})"
    return str(trace)


def _base_dict(base_config) -> dict:
    from ..config import load_yaml
    from ..system import System
    if base_config is None:
        return {}
    if isinstance(base_config, System):
        return base_config.to_dict()
    if isinstance(base_config, dict):
        return base_config
    if isinstance(base_config, (str, Path)):
        data = load_yaml(base_config)
        if is_grid_file(data):
            raise ValueError(f"{base_config}: this is a grid file; use sweep(**load_grid(path)) "
                             f"or give it to `hwmodel sweep`")
        return data
    raise ValueError(f"base configuration: expected a YAML path, a mapping or a System, "
                     f"got {type(base_config).__name__}")


def make_points(base_config, grid, traces, slowdown=False) -> list:
    """The points of a sweep, in grid order (configuration-major), duplicates of a key dropped.
    Each is a task dict for `run_point`; a configuration that does not resolve carries its error."""
    from ..config import to_plain
    from ..system import System
    base = _base_dict(base_config)
    combos = grid if isinstance(grid, list) else expand_grid(grid or {})
    if isinstance(traces, (str, os.PathLike, dict)):
        traces = [traces]
    if not traces:
        raise ValueError("sweep: no traces given")
    for t in traces:
        if not isinstance(t, (str, os.PathLike, dict)):
            raise ValueError(f"trace {t!r}: expected a trace file path or a dict of arrays "
                             f"(time, addr, op[, vm], timing, time_unit)")
    # absolute paths: a process-pool or Dask worker may run in another directory
    trace_list = [t if isinstance(t, dict) else str(Path(t).resolve()) for t in traces]
    idents = [trace_identity(t) for t in trace_list]
    points, seen = [], set()
    for params in combos:
        if not isinstance(params, dict):
            raise ValueError(f"sweep: a grid point must be a mapping of key.path: value, got {params!r}")
        overrides = [_override(k, v) for k, v in params.items()]
        try:
            config, error = to_plain(System.from_dict(base, overrides).to_dict()), None
        except ValueError as e:
            config, error = None, str(e)
        for trace, ident, given in zip(trace_list, idents, traces):
            material = {"config": config, "trace": ident, "slowdown": bool(slowdown)}
            if config is None:
                material = {"base": to_plain(base), "overrides": overrides, "trace": ident, "slowdown": bool(slowdown)}
            key = _digest(material)
            if key in seen:
                continue
            seen.add(key)
            points.append({"key": key, "params": dict(params), "overrides": overrides, "config": config,
                           "error": error, "trace": trace, "trace_label": _trace_label(given, ident)})
    return points


# -- one point -----------------------------------------------------------------------------------
def _row_head(task) -> dict:
    return {"key": task["key"], "trace": task["trace_label"], "params": task["params"],
            "overrides": task["overrides"]}


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


def error_row(task, message: str) -> dict:
    import hwmodel
    return {**_row_head(task), "status": "error", "error": message, "hwmodel_version": hwmodel.__version__,
            "finished_at": _now()}


def flatten(d: dict, prefix: str = "") -> dict:
    """{"a": {"b": 1}} -> {"a.b": 1}; lists are kept as values."""
    out = {}
    for k, v in d.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, name + "."))
        else:
            out[name] = v
    return out


def result_row(result) -> dict:
    """The numbers of one `Result` as a flat row: summary, latency quantiles, resolved config."""
    from ..stats import percentile_ps
    d = result.to_dict()
    config = d.pop("config")
    version = d.pop("hwmodel_version")
    d.pop("trace", None)
    per_vm = d.pop("per_vm")
    row = {"hwmodel_version": version}
    row.update(flatten(d))
    row["per_vm"] = per_vm
    mx = result.counters["read_latency_max_ps"]
    ns = [round(percentile_ps(result.hist[0], q, mx) / 1000, 4) for q in CDF_Q]
    ns[-1] = mx / 1000      # the maximum is known exactly, not just its bin
    row["latency_cdf"] = {"q": list(CDF_Q), "ns": ns}   # of the reads (writes complete when posted)
    row["config"] = config
    return row


def run_point(task: dict) -> dict:
    """Run one point (in a worker): never raises for a bad point, returns its row instead."""
    t0 = time.perf_counter()
    if task.get("error"):
        return error_row(task, task["error"])
    try:
        from ..system import System
        system = System.from_dict(task["config"])
        result = system.run(task["trace"], backend=task.get("backend"), slowdown=task.get("slowdown", False),
                            format=task.get("format"), chunk_records=task.get("chunk_records", 1 << 20))
        row = {**_row_head(task), "status": "ok", "error": ""}
        row["local_memory_fraction"] = (None if any(vm.auto for vm in system.vms) else   # auto: no fixed size
                                        sum(min(cb.local_bytes, cb.guest_bytes) for cb in system.blades)
                                        / sum(cb.guest_bytes for cb in system.blades))
        row.update(result_row(result))
    except Exception as e:   # a point's failure is data for the table, not the end of the sweep
        row = error_row(task, f"{type(e).__name__}: {e}")
    row["elapsed_s"] = round(time.perf_counter() - t0, 6)
    row["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    row["finished_at"] = _now()
    return row


# -- results file --------------------------------------------------------------------------------
def load_results(path, all_rows: bool = False) -> list:
    """Rows of a results file: the latest of each key, in first-seen order (every row with all_rows).
    A truncated last line (a sweep killed while writing) is ignored."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise ValueError(f"{path}: cannot read results: {e.strerror}") from None
    lines = text.split("\n")
    rows = []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            if i == len(lines):     # no newline after it: an interrupted write
                break
            raise ValueError(f"{path}:{i}: not a JSON results row ({e.msg}): {line[:80]!r}") from None
        if not isinstance(row, dict) or "key" not in row or "status" not in row:
            raise ValueError(f"{path}:{i}: not a results row (needs key and status): {line[:80]!r}")
        rows.append(row)
    if all_rows:
        return rows
    last = {}
    for row in rows:
        last[row["key"]] = row      # the latest row, at the place of the key's first row
    return list(last.values())


def _open_for_append(path: Path):
    """Append handle; a partial last line left by a killed writer is cut off first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    f = open(path, "a+b")
    f.seek(0, os.SEEK_END)
    size = f.tell()
    if size:
        f.seek(max(0, size - (1 << 20)))
        tail = f.read()
        if not tail.endswith(b"\n"):
            cut = tail.rfind(b"\n")
            f.truncate(size - len(tail) + cut + 1 if cut >= 0 else (0 if size <= (1 << 20) else size))
    f.seek(0, os.SEEK_END)
    return f


def _write_row(f, row):
    f.write(json.dumps(row, default=json_default).encode() + b"\n")
    f.flush()
    os.fsync(f.fileno())


# -- executors -----------------------------------------------------------------------------------
class InlineExecutor(cf.Executor):
    """Runs each call at submit time in this process: the serial executor, same code path."""

    def submit(self, fn, /, *args, **kwargs):
        fut = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as e:
            fut.set_exception(e)
        return fut


def _mp_context():
    import multiprocessing as mp
    # forkserver: workers start from a clean process that has hwmodel imported, which is both
    # cheap and safe next to the threads that tqdm or a Dask client keep in this process
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["hwmodel.study"])
        return ctx
    return mp.get_context("spawn")


def _exit_with(parent_pid: int) -> None:
    """Pool-worker initializer: end this worker when the sweep's main process ends, however it
    ends (a SIGKILL too, which leaves the pool no time to stop its workers). A daemon thread
    waits on the parent (a pidfd where Linux has one, else a poll every second) and exits."""
    import threading

    def watch():
        try:
            fd = os.pidfd_open(parent_pid)
        except (AttributeError, OSError):
            fd = None
        if fd is not None:
            import select
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            poller.poll()              # readable once the process has exited
        else:
            while True:
                time.sleep(1.0)
                try:
                    os.kill(parent_pid, 0)
                except ProcessLookupError:
                    break
                except PermissionError:
                    pass
        os._exit(1)

    threading.Thread(target=watch, name="hwmodel-parent-watch", daemon=True).start()


def open_executor(executor="process", workers=None, scheduler=None):
    """(executor, slots, close): a concurrent.futures executor, how many points it runs at once,
    and what to call when done. Dask: a Client on `scheduler`, or on a LocalCluster of `workers`
    single-threaded processes when no scheduler is given."""
    if scheduler and executor != "dask":
        raise ValueError(f"--scheduler {scheduler}: needs --executor dask (got {executor})")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers: {workers!r} must be an integer >= 1")
    if executor == "serial":
        return InlineExecutor(), 1, lambda: None
    if executor == "process":
        n = workers or os.cpu_count() or 1
        ex = cf.ProcessPoolExecutor(max_workers=n, mp_context=_mp_context(), initializer=_exit_with,
                                    initargs=(os.getpid(),))
        return ex, n, lambda: ex.shutdown(wait=True, cancel_futures=True)
    if executor == "dask":
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ValueError("--executor dask needs the dask extra: pip install 'hwmodel[dask]'") from None
        cluster = None
        if scheduler:
            client = Client(scheduler)
        else:
            cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                                   processes=True, dashboard_address=None)
            client = Client(cluster)
        slots = max(1, sum(client.nthreads().values()))

        def close():
            client.close()
            if cluster is not None:
                cluster.close()
        return client.get_executor(pure=False), slots, close
    raise ValueError(f"executor: {executor!r} is not one of {', '.join(EXECUTORS)}")


def _bar(progress, total, done_before):
    if not progress:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    desc = f"sweep ({done_before} done before)" if done_before else "sweep"
    return tqdm(total=total, desc=desc, unit=" pt", file=sys.stderr, dynamic_ncols=True)


# -- the sweep -----------------------------------------------------------------------------------
def sweep(base_config=None, grid=None, traces=(), out=None, executor="process", workers=None,
          scheduler=None, progress=True, backend=None, slowdown=False, format=None,
          chunk_records=1 << 20, as_frame=True):
    """Run every (grid point, trace) and return the table: a pandas DataFrame when pandas is
    installed (and as_frame), else a list of row dicts, one per point in grid order.

    base_config: YAML path, mapping or System (None: defaults). grid: {key.path: [values]} or a
    list of {key.path: value} points. traces: trace paths (reachable from every worker under the
    same absolute path) or dicts of arrays. out: JSON-lines results file; rows already there with
    status ok are not run again. executor: process | dask | serial; workers: pool size (default:
    CPU count); scheduler: a Dask scheduler address (default: a local cluster of `workers`).
    slowdown: also run each point all-local and report `slowdown.sim_time` (twice the work).
    """
    if executor not in EXECUTORS:
        raise ValueError(f"executor: {executor!r} is not one of {', '.join(EXECUTORS)}")
    points = make_points(base_config, grid, traces, slowdown)
    for p in points:
        p.update(backend=backend, slowdown=bool(slowdown), format=format, chunk_records=chunk_records)
    rows = {}
    if out is not None and Path(out).exists():
        wanted = {p["key"] for p in points}
        rows = {r["key"]: r for r in load_results(out) if r["status"] == "ok" and r["key"] in wanted}
    todo = [p for p in points if p["key"] not in rows]
    f = _open_for_append(Path(out)) if out is not None else None
    bar = _bar(progress, len(todo), len(rows))
    try:
        if todo:
            _run_all(todo, executor, workers, scheduler, rows, f, bar)
    finally:
        if bar is not None:
            bar.close()
        if f is not None:
            f.close()
    table = [rows[p["key"]] for p in points]
    failed = [r for r in table if r["status"] != "ok"]
    if failed:     # the rows say so too, but a table of errors should not pass unnoticed
        warnings.warn(SweepWarning(failed_message(table, out)), stacklevel=2)
    return make_table(table, as_frame)


class SweepWarning(UserWarning):
    """Points of a sweep failed (their rows hold the errors)."""


def failed_message(rows, out=None) -> str:
    """'N of M points failed ...; first: TRACE -p ...: ERROR' for the rows of a sweep."""
    failed = [r for r in rows if r["status"] != "ok"]
    first = failed[0]
    where = f" (status and error in {out})" if out is not None else ""
    return (f"{'all ' if len(failed) == len(rows) else ''}{len(failed)} of {len(rows)} points failed{where}; "
            f"first: {first['trace']} {' '.join('-p ' + o for o in first['overrides'])}: {first['error']}")


def _run_all(todo, executor, workers, scheduler, rows, f, bar):
    ex, slots, close = open_executor(executor, workers, scheduler)
    window = 1 if isinstance(ex, InlineExecutor) else 2 * slots   # 2x: no worker waits for the next task
    pending = {}
    queue = iter(todo)
    errors = 0

    def finish(task, row):
        nonlocal errors
        rows[task["key"]] = row
        if f is not None:
            _write_row(f, row)
        errors += row["status"] != "ok"
        if bar is not None:
            bar.update(1)
            if errors:
                bar.set_postfix(failed=errors)

    try:
        # a bounded number of points in flight: a big sweep does not pickle every task up front,
        # and a serial run writes each row before starting the next point
        while True:
            while len(pending) < window:
                task = next(queue, None)
                if task is None:
                    break
                if task.get("error"):     # did not resolve: nothing to run
                    finish(task, error_row(task, task["error"]))
                    continue
                try:
                    pending[ex.submit(run_point, task)] = task
                except Exception as e:    # a broken pool: recorded, and retried by the next run
                    finish(task, error_row(task, f"{type(e).__name__}: {e}"))
            if not pending:
                break
            done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for fut in [f for f in pending if f in done]:    # in submission order
                task = pending.pop(fut)
                try:
                    row = fut.result()
                except Exception as e:    # the worker itself died or could not unpickle the task
                    row = error_row(task, f"{type(e).__name__}: {e}")
                finish(task, row)
    finally:
        for fut in pending:
            fut.cancel()
        close()


# -- tables --------------------------------------------------------------------------------------
def make_table(rows, as_frame=True):
    """Rows -> a pandas DataFrame (grid values as their own columns, then the numbers) when pandas
    is installed and as_frame, else the list of rows unchanged."""
    rows = list(rows)
    if not as_frame:
        return rows
    try:
        import pandas as pd
    except ImportError:
        return rows
    flat = []
    for r in rows:
        r2 = {"key": r["key"], "trace": r.get("trace"), "status": r.get("status"), "error": r.get("error", "")}
        r2.update(r.get("params") or {})
        r2.update({k: v for k, v in r.items() if k not in r2})   # params stays too, as a dict
        flat.append(r2)
    return pd.DataFrame(flat)
