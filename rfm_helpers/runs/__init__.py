"""Where runs are orchestrated: the runner, the step graph and its fingerprints, notebook kernels,
atomic writes, interrupts, and provenance (hashes and environment facts).
"""
