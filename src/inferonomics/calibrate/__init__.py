"""Fitting the shipped calibration (`perf/data/calibration.json`) to the measurements in shared/data.

Stage 1 (`calibrate.kernels`): kernel efficiencies on the kernel tables. Stage 2 (`calibrate.engines`):
per-engine constants on the measured serving runs. Stage 3 (`calibrate.disagg`): per-engine
disaggregated-serving constants on the disaggregated runs. Used by scripts/calibrate.py and
benchmarks/accuracy.py. This package imports `perf` and `validate`; neither imports it.
"""
