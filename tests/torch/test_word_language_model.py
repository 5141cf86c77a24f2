"""A third-party training script with gru_lib.torch swapped in for torch.nn.

The model and the training loop follow PyTorch's ``examples/word_language_model`` (``model.py``'s
``RNNModel`` and ``main.py``'s ``batchify``/``get_batch``/``repackage_hidden``/``train``/
``evaluate``): embedding, a multi-layer RNN/GRU/LSTM with dropout between its layers, dropout on
its input and output, weight tying, truncated BPTT with the hidden state detached between chunks,
gradient clipping and plain SGD. The only change is that the recurrent layers come from a module
passed in (``torch.nn`` or ``gru_lib.torch``) instead of ``torch.nn`` itself.

Run on a tiny synthetic corpus from the same seed and the same initial weights, ``torch.nn`` and
``gru_lib.torch`` must give the same losses at every step, which needs the same dropout masks:
``gru_lib.torch`` draws its between-layer masks exactly as ``torch.nn`` does on CPU.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import gru_lib.torch as gt


class RNNModel(nn.Module):
    """Container module with an encoder, a recurrent module, and a decoder (the example's)."""

    def __init__(self, rnn_module, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5,
                 tie_weights=False):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        if rnn_type in ["LSTM", "GRU"]:
            self.rnn = getattr(rnn_module, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        else:
            nonlinearity = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}[rnn_type]
            self.rnn = rnn_module.RNN(ninp, nhid, nlayers, nonlinearity=nonlinearity,
                                      dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            if nhid != ninp:
                raise ValueError("When using the tied flag, nhid must be equal to emsize")
            self.decoder.weight = self.encoder.weight
        self.init_weights()
        self.rnn_type = rnn_type
        self.nhid = nhid
        self.nlayers = nlayers

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):  # noqa: A002 - the example's names
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        decoded = decoded.view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == "LSTM":
            return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                    weight.new_zeros(self.nlayers, bsz, self.nhid))
        return weight.new_zeros(self.nlayers, bsz, self.nhid)


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    return data.view(bsz, -1).t().contiguous()


def get_batch(source, i, bptt):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i + seq_len]
    target = source[i + 1:i + 1 + seq_len].view(-1)
    return data, target


def repackage_hidden(h):
    """Wraps hidden states in new Tensors, to detach them from their history."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def train_epoch(model, train_data, bsz, bptt, lr, clip):
    """The example's ``train()``, returning the loss of every step."""
    criterion = nn.NLLLoss()
    model.train()
    hidden = model.init_hidden(bsz)
    losses = []
    for i in range(0, train_data.size(0) - 1, bptt):
        data, targets = get_batch(train_data, i, bptt)
        model.zero_grad()
        hidden = repackage_hidden(hidden)
        model.rnn.flatten_parameters()
        output, hidden = model(data, hidden)
        loss = criterion(output, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        losses.append(loss.item())
    return losses


def evaluate(model, data_source, bsz, bptt):
    criterion = nn.NLLLoss()
    model.eval()
    total_loss = 0.0
    hidden = model.init_hidden(bsz)
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, bptt):
            data, targets = get_batch(data_source, i, bptt)
            output, hidden = model(data, hidden)
            hidden = repackage_hidden(hidden)
            total_loss += len(data) * criterion(output, targets).item()
    return total_loss / (len(data_source) - 1)


def synthetic_corpus(ntoken, n, seed):
    """Tokens from a random sparse Markov chain: there is something to learn."""
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(ntoken, ntoken, generator=gen) * 3
    tokens = [0]
    for _ in range(n - 1):
        tokens.append(int(torch.multinomial(logits[tokens[-1]].softmax(0), 1, generator=gen)))
    return torch.tensor(tokens)


def run(rnn_module, rnn_type, dtype, seed=0):
    """Build, train one epoch (a few dozen steps) and evaluate, from one seed."""
    ntoken, emsize, nlayers, bsz, bptt = 20, 16, 2, 4, 8
    corpus = synthetic_corpus(ntoken, 1200, seed=1)
    train_data, val_data = batchify(corpus[:1000], bsz), batchify(corpus[1000:], bsz)
    torch.manual_seed(seed)
    model = RNNModel(rnn_module, rnn_type, ntoken, emsize, emsize, nlayers, dropout=0.3,
                     tie_weights=True).to(dtype)
    return model, train_epoch, (train_data, val_data, bsz, bptt)


CASES = [(rnn_type, torch.float64, 1e-10) for rnn_type in ["LSTM", "GRU", "RNN_TANH", "RNN_RELU"]]
CASES += [("GRU", torch.float32, 2e-5)]       # float32: rounding differs, within its tolerance


@pytest.mark.parametrize(("rnn_type", "dtype", "tol"), CASES)
def test_word_language_model_same_losses(rnn_type, dtype, tol):
    results = []
    for rnn_module in (nn, gt):
        model, train, (train_data, val_data, bsz, bptt) = run(rnn_module, rnn_type, dtype)
        if rnn_module is gt:                   # the same initial weights, whatever the init
            model.load_state_dict(results[0]["init"])
        init = {k: v.clone() for k, v in model.state_dict().items()}
        torch.manual_seed(1234)                # the same dropout masks
        losses = train(model, train_data, bsz, bptt, lr=5.0, clip=0.25)
        results.append({"init": init, "losses": losses,
                        "val": evaluate(model, val_data, bsz, bptt)})
    ref, ours = results
    assert len(ref["losses"]) >= 30
    assert ref["val"] < math.log(20) - 0.3                # it learns something (uniform: log 20)
    for step, (a, b) in enumerate(zip(ref["losses"], ours["losses"], strict=True)):
        assert abs(a - b) <= tol * abs(a), (step, a, b)
    assert abs(ref["val"] - ours["val"]) <= tol * ref["val"]
