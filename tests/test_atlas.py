"""gru_lib.atlas: run / list / verify on the tiny grid, stale files rejected, and the CI check
that re-runs a sample of the committed atlas (book/atlas/v1) and compares it with the files."""

import json

import pytest

from gru_lib.atlas import store
from gru_lib.atlas.__main__ import main
from gru_lib.atlas.grids import grid_cells
from gru_lib.atlas.verify import count_tolerance, verify

TINY = ["adding-T6-RNN", "copy-T4-GRU-chrono"]


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("atlas")
    assert main(["run", "--grid", "tiny", "--root", str(root), "--only", *TINY]) == 0
    return root


def test_run_writes_one_file_per_cell_with_provenance(tiny_root):
    files = sorted(p.stem for p in (tiny_root / "tiny").glob("*.json"))
    assert files == sorted(TINY)
    doc = store.load_result(tiny_root / "tiny" / "adding-T6-RNN.json")
    prov = doc["provenance"]
    for field in ("git_commit", "source_hash", "gru_lib_version", "torch", "numpy", "cpu",
                  "torch_threads"):
        assert prov[field] is not None, field
    assert prov["source_hash"] == store.source_hash()
    res = doc["results"]
    assert len(res["members"]) == 2 * 3          # 2 learning rates × 3 seeds
    assert res["selected"]["lr"] in (1e-2, 3e-2)
    assert res["wall_s"] > 0 and res["cpu_s"] >= 0
    assert doc["config"] == grid_cells("tiny")[0].to_json()



def test_load_grid_reads_the_stored_cells_in_grid_order_and_refuses_stale_ones(tiny_root,
                                                                                tmp_path):
    docs = store.load_grid("tiny", tiny_root)
    order = [c.key for c in grid_cells("tiny")]
    assert list(docs) == [k for k in order if k in TINY] and len(docs) == len(TINY)
    assert all(doc["key"] == key for key, doc in docs.items())
    (tmp_path / "tiny").mkdir()
    doc = json.loads((tiny_root / "tiny" / "adding-T6-RNN.json").read_text())
    doc["config"]["steps"] += 1                       # computed for another configuration
    (tmp_path / "tiny" / "adding-T6-RNN.json").write_text(json.dumps(doc))
    with pytest.raises(store.StaleResultError, match="another configuration"):
        store.load_grid("tiny", tmp_path)

def test_list_and_verify_both_modes(tiny_root, capsys):
    assert main(["list", "--grid", "tiny", "--root", str(tiny_root)]) == 0
    out = capsys.readouterr().out
    assert "2 of 9 cells stored" in out and "adding-T6-RNN" in out
    for mode in ("prefix", "full"):
        lines = []
        assert verify("tiny", sample=2, seed=0, mode=mode, root=tiny_root, print_fn=lines.append)
        assert lines[-1].endswith("all agree"), lines


def test_stale_source_hash_is_rejected_with_the_command(tiny_root, tmp_path):
    src = tiny_root / "tiny" / "adding-T6-RNN.json"
    (tmp_path / "tiny").mkdir()
    doc = json.loads(src.read_text())
    doc["provenance"]["source_hash"] = "0" * 16
    (tmp_path / "tiny" / src.name).write_text(json.dumps(doc))
    with pytest.raises(store.StaleResultError,
                       match=r"older code .* python -m gru_lib\.atlas run --grid tiny "
                             r"--only adding-T6-RNN --force"):
        store.load_result(tmp_path / "tiny" / src.name)
    lines = []
    assert not verify("tiny", root=tmp_path, print_fn=lines.append)
    assert any(line.startswith("FAIL") and "older code" in line for line in lines)
    assert main(["list", "--grid", "tiny", "--root", str(tmp_path)]) == 1


def test_changed_configuration_is_rejected(tiny_root, tmp_path):
    src = tiny_root / "tiny" / "adding-T6-RNN.json"
    doc = json.loads(src.read_text())
    doc["config"]["steps"] = 7
    path = tmp_path / "x.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(store.StaleResultError, match="another configuration"):
        store.load_result(path, expected_config=grid_cells("tiny")[0].to_json())


def test_source_hash_ignores_docstrings_and_comments():
    a = 'def f(x):\n    """Doc."""\n    return x + 1  # one\n'
    b = 'def f(x):\n    """Other words."""\n\n    return x + 1\n'
    c = 'def f(x):\n    return x + 2\n'
    assert store._normalised(a) == store._normalised(b) != store._normalised(c)


def test_count_tolerance():
    assert count_tolerance(0, 10) == 1 and count_tolerance(10, 10) == 1
    assert count_tolerance(5, 10) == 3


def test_bad_shard_argument():
    with pytest.raises(SystemExit):
        main(["run", "--grid", "tiny", "--shard", "3/2"])


def test_committed_atlas_is_current_and_a_sample_reproduces():
    """The CI check of issue 11: every committed v1 file matches the library (source hash and
    configuration), and a seeded sample of two cells re-trains to the stored validation curves
    (prefix mode: see gru_lib.atlas.verify for the tolerance and why)."""
    files = list((store.ROOT / "v1").glob("*.json"))
    assert files, "no committed atlas results under book/atlas/v1"
    assert main(["list", "--grid", "v1"]) == 0
    lines = []
    assert verify("v1", sample=2, seed=0, mode="prefix", max_cpu=600, print_fn=lines.append), \
        "\n".join(lines)
