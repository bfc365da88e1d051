"""Smoke test of ``benchmarks/``: every bench module imports and its workload and GEMM floor
run once at tiny sizes, in-process.  No timing is measured or asserted here (timings belong in
``benchmarks/run.py``); this only keeps the benchmarks from rotting as the API moves."""

import importlib
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

CASES = [("bench_training", "W1"), ("bench_pgd", "W2"), ("bench_training", "W3"),
         ("bench_closed_form_hessian", "W4"), ("bench_training", "W5"), ("bench_hvp", "W6")]


@pytest.mark.parametrize("module, wid", CASES, ids=[w for _, w in CASES])
def test_workload_runs_at_tiny_size(module, wid):
    mod = importlib.import_module(f"benchmarks.{module}")
    assert wid in mod.WORKLOADS
    work, floor = mod.build(wid, tiny=True)
    work()
    floor()


def test_runner_knows_every_workload():
    run = importlib.import_module("benchmarks.run")
    assert sorted(run.WORKLOADS) == [f"W{i}" for i in range(1, 7)]
    row = run.judge({"workload": "W5", "threads": 2, "us_per_step": 150.0})
    assert row["pass"] and row["target"] == 200.0
