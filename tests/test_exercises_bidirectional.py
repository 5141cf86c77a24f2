"""The chapter 9 checker (gru_lib.exercises.bidirectional): the reference is the top layer's final
states of a real bidirectional torch.nn.GRU, every known mistake is named."""

import numpy as np
import pytest

from gru_lib.exercises import bidirectional as ex
from gru_lib.exercises.gru import check_bidirectional_summary


def test_summary_reference_is_top_layer_final_states():
    output, h_n, L = ex._make_bidirectional_inputs(np.random.default_rng(5))
    H = h_n.shape[2]
    s = ex._reference_summary(output, h_n, L)
    # forward final = last output step's first half; backward final = first step's second half
    np.testing.assert_array_equal(s[:, :H], output[-1, :, :H])
    np.testing.assert_array_equal(s[:, H:], output[0, :, H:])


def test_summary_reference_passes_and_stub():
    assert check_bidirectional_summary(ex._reference_summary).passed

    def stub(output, h_n, num_layers):
        raise NotImplementedError

    assert "not attempted" in check_bidirectional_summary(stub).message


@pytest.mark.parametrize("mistake", ex._SUMMARY_MISTAKES, ids=lambda m: m.name)
def test_summary_mistake_is_named(mistake):
    res = check_bidirectional_summary(mistake.fn)
    assert not res.passed and res.mistake == mistake.name, (res.mistake, res.message)
