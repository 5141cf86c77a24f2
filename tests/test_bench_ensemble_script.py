"""benchmarks/bench_ensemble.py runs end to end and reports every field (no timing asserted)."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_ensemble.py"


def _load():
    spec = importlib.util.spec_from_file_location("bench_ensemble", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rows_and_json(tmp_path):
    bench = _load()
    rows = bench.bench(cells=("RNN",), Ns=(1, 3), T=5, steps=2, batch_size=2, budget=100,
                       repeats=1)
    assert [r["N"] for r in rows] == [1, 3]
    for r in rows:
        assert r["ensemble_s"] > 0 and r["separate_s"] > 0 and r["speedup"] > 0
        assert r["ensemble_models_per_s"] > 0
    out = tmp_path / "b.json"
    bench.bench = lambda **kw: rows
    result = bench.main(["--quick", "--json", str(out)])
    assert out.exists() and result["rows"] == rows
