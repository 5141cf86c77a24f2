"""The benchmark script runs end to end on a tiny grid and reports every field.

Not a timing test: it asserts the table's structure, never a speed (speed claims live in the
script's output, measured in one run, see benchmarks/bench_gru.py). Blocks run in-process here
(``isolate=False``) to stay quick; one test runs a single block in its subprocess.
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
    rows = bench.bench_grid([(3, 2, 4)], repeats=1, peak=1.0, isolate=False)
    assert {r["model"] for r in rows} == set(bench.MODELS)
    assert {r["mode"] for r in rows} == {"train", "infer"}
    for r in rows:
        assert r["ms"] > 0 and r["gflops"] > 0 and r["ratio_vs_torch_gru"] > 0
        assert r["ms_min"] <= r["ms"] <= r["ms_max"] and r["peak_mib"] >= 0
    assert all(r["ratio_vs_torch_gru"] == 1.0 for r in rows if r["model"] == "torch.nn.GRU")


def test_one_block_in_its_own_process(bench):
    block = bench.run_isolated("gru_lib.torch.FastGRU", 3, 2, 4, repeats=2, threads=1)
    assert block["model"] == "gru_lib.torch.FastGRU" and (block["T"], block["H"]) == (3, 4)
    for mode in ("train", "infer"):
        assert len(block[mode]["ms"]) == 2 and block[mode]["peak_mib"] >= 0


def test_mingru_rows_and_flop_formula(bench):
    rows = bench.bench_mingru([4, 8], repeats=1, B=2, H=3, isolate=False)
    assert [(r["T"], r["mode"]) for r in rows] == [(4, "train"), (4, "infer"), (8, "train"),
                                                  (8, "infer")]
    for r in rows:
        assert set(r["ms"]) == set(bench.MINGRU_MODELS)
        assert r["speedup_vs_torch_gru"]["torch.nn.GRU"] == 1.0
        assert r["speedup_parallel_vs_sequential"] > 0
    # 2·T·B·G·H·(D+H) forward, three times that for a training step
    assert bench.rnn_flops(3, 10, 2, 4, 5, train=False) == 2 * 10 * 2 * 3 * 5 * 9
    assert bench.rnn_flops(4, 1, 1, 1, 1, train=True) == 3 * 2 * 4 * 2


def test_main_writes_json_and_states_the_targets(bench, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bench, "matmul_peak_gflops", lambda: 1.0)
    grid, mingru = bench.bench_grid, bench.bench_mingru

    def fake_grid(sizes, repeats, peak, threads):
        return grid([(3, 2, 4)], 1, peak, isolate=False,
                    models=("torch.nn.GRU", "gru_lib.torch.FastGRU"))

    monkeypatch.setattr(bench, "bench_grid", fake_grid)
    monkeypatch.setattr(bench, "bench_mingru", lambda lengths, repeats, threads: mingru(
        [4], 1, B=2, H=3, isolate=False))
    out = tmp_path / "b.json"
    result = bench.main(["--quick", "--json", str(out)])
    assert out.exists() and result["machine"]["matmul_peak_gflops"] == 1.0
    printed = capsys.readouterr().out
    assert "gru_lib.torch.FastGRU" in printed and "minGRU chunked" in printed
    assert "Targets (this run;" in printed
