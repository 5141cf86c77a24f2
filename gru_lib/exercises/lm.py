"""Checkers for the exercises of chapter {ref}`ch-char-lm`: perplexity and temperature.

Two exercises, both on the output of a language model, logits of shape ``(T, B, V)`` (time-major,
as everywhere in the book) as ``float64`` torch tensors:

- :func:`check_perplexity`: ``fn(logits, targets) -> float``, the perplexity of integer targets
  ``(T, B)`` under the model, ``exp`` of the average negative log-likelihood per character
  (equation ``eq-ch11-ppl``). The known mistakes are the ones that give plausible-looking numbers:
  the total instead of the average, the mean of ``1/p``, the mean of per-stream perplexities,
  bits instead of nats inside the exponential, raw logits taken as log-probabilities, a softmax
  over the wrong axis.
- :func:`check_temperature_probs`: ``fn(logits, temperature) -> probs``, the distribution
  ``softmax(logits / temperature)`` over the last axis (equation ``eq-ch11-temperature``), for
  logits of shape ``(B, V)``. The test logits are large (up to a few hundred), so an
  implementation without the max-subtraction overflows; the known mistakes include multiplying by
  the temperature, tempering after the softmax without renormalising, and normalising over the
  batch axis.

The reader's function may return a Python float, a NumPy array or a torch tensor.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

try:
    import torch
except ImportError as _exc:
    from gru_lib._optional import missing_extra

    raise missing_extra("torch", "gru_lib.exercises.lm") from _exc

from gru_lib.exercises._core import CheckResult, Mistake, run_check
from gru_lib.exercises._progress import checked

__all__ = ["check_perplexity", "check_temperature_probs"]

_T, _B, _V = 7, 4, 11


def _as_array(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def _reader_out(fn: Callable) -> Callable:
    """The reader's function with its answer made comparable: a tensor becomes an array of the
    same dtype (so float32 is seen), a number a 0-d float64 array; None, lists and tuples are left
    as they are, for the checker to name."""
    def wrapped(*args):
        value = fn(*args)
        if isinstance(value, torch.Tensor):
            return value.detach().cpu().numpy()
        if isinstance(value, int | float | np.number):
            return np.asarray(value, dtype=np.float64)
        return value

    wrapped.__wrapped__ = fn
    return wrapped


# --------------------------------------------------------------------------------------------
# Perplexity
# --------------------------------------------------------------------------------------------

def _make_ppl_inputs(rng: np.random.Generator) -> tuple:
    """Random logits (T, B, V) with uneven confidence, so that the wrong averages differ."""
    scale = rng.uniform(0.5, 3.0, size=(_T, _B, 1))
    logits = torch.from_numpy(rng.normal(size=(_T, _B, _V)) * scale)
    targets = torch.from_numpy(rng.integers(0, _V, size=(_T, _B)))
    return logits, targets


def _true_logp(logits, targets, *, axis: int = -1, raw: bool = False) -> torch.Tensor:
    logp = logits if raw else torch.log_softmax(logits, dim=axis)
    return logp.gather(-1, targets[..., None]).squeeze(-1)          # (T, B)


def _reference_perplexity(logits, targets) -> float:
    return math.exp(-_true_logp(logits, targets).mean().item())


_PPL_MISTAKES: list[Mistake] = [
    Mistake("total", "you exponentiated the *total* negative log-likelihood; perplexity is exp of "
            "the *average* per character (divide by the number of characters first)",
            lambda lg, tg: math.exp(min(-_true_logp(lg, tg).sum().item(), 700.0))),
    Mistake("mean_inverse_p", "you averaged 1/p over the characters; perplexity is exp of the mean "
            "of -log p, i.e. the inverse of the *geometric* mean of p (the arithmetic mean of 1/p "
            "is larger, by Jensen's inequality)",
            lambda lg, tg: torch.exp(-_true_logp(lg, tg)).mean().item()),
    Mistake("per_stream", "you averaged per-stream (per-column) perplexities; average the negative "
            "log-likelihood over all T*B characters first, then take one exponential",
            lambda lg, tg: torch.exp(-_true_logp(lg, tg).mean(dim=0)).mean().item()),
    Mistake("per_step", "you averaged per-time-step perplexities; average the negative "
            "log-likelihood over all T*B characters first, then take one exponential",
            lambda lg, tg: torch.exp(-_true_logp(lg, tg).mean(dim=1)).mean().item()),
    Mistake("bits", "you used 2 ** (mean negative log-likelihood) with the log-likelihood in nats; "
            "log_softmax gives natural logarithms, so the base of the power must be e",
            lambda lg, tg: 2.0 ** (-_true_logp(lg, tg).mean().item())),
    Mistake("raw_logits", "you took the logits themselves as log-probabilities; apply "
            "log_softmax over the vocabulary (last) axis first",
            lambda lg, tg: math.exp(-_true_logp(lg, tg, raw=True).mean().item())),
    Mistake("wrong_axis", "the softmax runs over the wrong axis; the probabilities of the "
            "vocabulary must sum to one, so normalise over the last axis (V)",
            lambda lg, tg: math.exp(-_true_logp(lg, tg, axis=1).mean().item())),
    Mistake("no_exp", "you returned the average negative log-likelihood (the loss in nats); "
            "perplexity is its exponential",
            lambda lg, tg: -_true_logp(lg, tg).mean().item()),
]


@checked("ex-ch11-2")
def check_perplexity(fn: Callable) -> CheckResult:
    """Check ``fn(logits, targets) -> perplexity`` (chapter {ref}`ch-char-lm`, ``eq-ch11-ppl``).

    ``logits`` is a float64 tensor ``(T, B, V)``, ``targets`` an int64 tensor ``(T, B)``.
    """
    return run_check("perplexity", _reader_out(fn),
                     lambda *a: _as_array(_reference_perplexity(*a)), _make_ppl_inputs,
                     ("perplexity",),
                     [Mistake(m.name, m.message, (lambda f: lambda *a: _as_array(f(*a)))(m.fn))
                      for m in _PPL_MISTAKES],
                     rtol=1e-5, atol=1e-9, input_names=("logits", "targets"))


# --------------------------------------------------------------------------------------------
# Temperature
# --------------------------------------------------------------------------------------------

_TEMPERATURES = (0.5, 2.0, 0.25)


def _make_temp_inputs_factory() -> Callable[[np.random.Generator], tuple]:
    """Inputs for the trials: logits (B, V) of magnitude up to ~300 and temperatures != 1."""
    calls = {"n": 0}

    def make(rng: np.random.Generator) -> tuple:
        tau = _TEMPERATURES[calls["n"] % len(_TEMPERATURES)]
        calls["n"] += 1
        logits = rng.normal(size=(_B, _V)) * 4.0
        logits[0] += 300.0          # a row of huge logits: exp overflows without max-subtraction
        return torch.from_numpy(logits), tau

    return make


def _reference_temperature(logits, tau):
    return torch.softmax(logits / tau, dim=-1)


_TEMP_MISTAKES: list[Mistake] = [
    Mistake("multiply", "you multiplied the logits by the temperature; divide them by it "
            "(a temperature below 1 must sharpen the distribution, above 1 flatten it)",
            lambda lg, tau: torch.softmax(lg * tau, dim=-1)),
    Mistake("no_temperature", "the temperature has no effect in your function; divide the logits "
            "by it before the softmax",
            lambda lg, tau: torch.softmax(lg, dim=-1)),
    Mistake("power_unnormalised", "you raised the probabilities to the power 1/temperature but did "
            "not renormalise; the result must sum to one over the vocabulary",
            lambda lg, tau: torch.softmax(lg, dim=-1) ** (1.0 / tau)),
    Mistake("wrong_axis", "the softmax normalises over the batch axis; each row (one distribution "
            "over the V characters) must sum to one: normalise over the last axis",
            lambda lg, tau: torch.softmax(lg / tau, dim=0)),
]


_OVERFLOW = ("your function returns NaN or infinity on large logits: exp(logits / temperature) "
             "overflows. Subtract each row's maximum before exponentiating (it does not change "
             "the softmax), or use torch.softmax")


def _guard_overflow(fn: Callable) -> Callable:
    """Turn a non-finite result into an exception whose message names the overflow."""
    def wrapped(*args):
        out = _reader_out(fn)(*args)
        if isinstance(out, np.ndarray) and out.dtype.kind == "f" and not np.all(np.isfinite(out)):
            raise FloatingPointError(_OVERFLOW)
        return out

    wrapped.__wrapped__ = fn
    return wrapped


@checked("ex-ch11-4")
def check_temperature_probs(fn: Callable) -> CheckResult:
    """Check ``fn(logits, temperature) -> probs`` (chapter {ref}`ch-char-lm`).

    ``logits`` is a float64 tensor ``(B, V)``, ``temperature`` a positive float; ``probs`` has the
    shape of ``logits`` and each row sums to one. A naive ``exp(logits / T) / sum`` overflows on
    the test logits; that is reported as such.
    """
    return run_check("temperature_probs", _guard_overflow(fn),
                     lambda *a: _as_array(_reference_temperature(*a)),
                     _make_temp_inputs_factory(), ("probs",),
                     [Mistake(m.name, m.message, (lambda f: lambda *a: _as_array(f(*a)))(m.fn))
                      for m in _TEMP_MISTAKES],
                     rtol=1e-7, atol=1e-12, input_names=("logits", "temperature"))
