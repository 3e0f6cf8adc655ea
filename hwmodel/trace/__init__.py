"""Memory traces: read the field's formats, write hwmodel's, generate synthetic ones.

    open_trace(path, format=None, chunk_records=1<<20, skip_bad_lines=False) -> TraceReader
    read_all(path, format=None) -> Chunk
    write_trace(path, chunks_or_chunk, format="native", timing=..., time_unit=...)
    generate(kind, n, footprint_bytes, ...) -> Chunk
    trace_info(path_or_reader) -> dict
    merge_traces(paths, ...) -> MergedTrace: timestamped traces merged by time, trace i as VM i

Every record: time (int64; see TraceReader.timing/time_unit), addr (uint64 bytes), op (uint8,
0 read / 1 write), size (uint32 bytes), vm (uint16).  FORMATS maps format names to syntax.
"""
from ._types import Chunk, TraceError, concat
from .gen import generate
from .info import trace_info
from .merge import MergedTrace, merge_traces
from .reader import FORMATS, TraceReader, open_trace, read_all
from .writer import write_trace

__all__ = ["Chunk", "TraceReader", "open_trace", "read_all", "write_trace", "FORMATS", "TraceError",
           "generate", "trace_info", "concat", "merge_traces", "MergedTrace"]
