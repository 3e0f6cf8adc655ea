"""The core: the parts of the compiled core (`*.pxi`, included by `hwmodel/_core.pyx`; structs in
`hwmodel/_core.pxd`) and of its plain-Python twin (`*.py` of the same names, composed by
`hwmodel/_reference.py`), one pair per part of the hardware; and around them the engine (state,
backend choice, per-chunk checks), the runner (traces in, results out), state growth and checks,
the DRAM request log's writer, and the SNIC's exact link scheduler (`hwmodel qos`).

Which file holds what, in both backends: README.md, Development.
"""
