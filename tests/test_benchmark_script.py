"""The benchmark script runs end to end on a tiny grid and reports every field.

Not a timing test: it asserts the table's structure, never a speed (speed claims live in the
script's output, measured in one run, see benchmarks/bench_gru.py).
"""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_gru.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_gru", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_grid_rows_cover_every_model_and_mode(bench):
    rows = bench.bench_grid([(3, 2, 4)], repeats=1, peak=1.0)
    models = {r["model"] for r in rows}
    assert models == {"torch.nn.GRU", "gru_lib.torch.GRU", "gru_lib.torch.FastGRU",
                      "gru_lib.numpy.GRU", "numpy fast layer", "torch.nn.LSTM"}
    assert {r["mode"] for r in rows} == {"train", "infer"}
    for r in rows:
        assert r["ms"] > 0 and r["gflops"] > 0 and r["ratio_vs_torch_gru"] > 0
    assert all(r["ratio_vs_torch_gru"] == 1.0 for r in rows if r["model"] == "torch.nn.GRU")


def test_mingru_rows_and_flop_formula(bench):
    rows = bench.bench_mingru([4, 8], repeats=1, B=2, H=3)
    assert [r["T"] for r in rows] == [4, 8]
    assert all(r["speedup_parallel_vs_sequential"] > 0 for r in rows)
    # 2·T·B·G·H·(D+H) forward, three times that for a training step
    assert bench.rnn_flops(3, 10, 2, 4, 5, train=False) == 2 * 10 * 2 * 3 * 5 * 9
    assert bench.rnn_flops(4, 1, 1, 1, 1, train=True) == 3 * 2 * 4 * 2


def test_main_writes_json(bench, tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "matmul_peak_gflops", lambda: 1.0)
    monkeypatch.setattr(bench, "bench_grid", lambda grid, repeats, peak: [])
    monkeypatch.setattr(bench, "bench_mingru", lambda lengths, repeats: [])
    out = tmp_path / "b.json"
    result = bench.main(["--quick", "--json", str(out)])
    assert out.exists() and result["machine"]["matmul_peak_gflops"] == 1.0
