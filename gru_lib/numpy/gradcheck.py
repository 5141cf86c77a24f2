"""Finite-difference gradient checks: the test every hand-derived backward in this book must pass.

A backward pass can be wrong in ways that still "train" (a missing term, a transposed matrix with a
square shape). Central differences give an independent estimate of each gradient entry,

.. math::
    \\frac{\\partial f}{\\partial \\theta_k} \\approx
    \\frac{f(\\theta + \\varepsilon e_k) - f(\\theta - \\varepsilon e_k)}{2 \\varepsilon},

with error :math:`O(\\varepsilon^2)` from truncation plus :math:`O(u/\\varepsilon)` from rounding
(:math:`u \\approx 10^{-16}` in float64). With :math:`\\varepsilon = 10^{-6}` both are near
:math:`10^{-10}` relative, so a correct float64 backward gives relative errors around
:math:`10^{-9}` or smaller, and a wrong one gives errors of order 1. Use float64: in float32
:math:`u/\\varepsilon` is about 0.1 and the check says nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

__all__ = ["gradcheck", "numerical_gradient", "relative_error"]


def relative_error(a, b) -> float:
    """``‖a − b‖ / max(‖a‖ + ‖b‖, tiny)``: symmetric, scale-free, 0 when both are zero.

    Dividing by the sum (not by ``‖b‖``) keeps the measure bounded by 1 and meaningful when the
    true gradient is tiny; ``tiny`` (the smallest normal float64) only guards the 0/0 case.

    Args:
        a, b: arrays (or scalars) of the same shape.
    Returns:
        a Python float in ``[0, 1]``.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error: shapes differ, {a.shape} vs {b.shape}")
    num = np.linalg.norm(a - b)
    den = max(np.linalg.norm(a) + np.linalg.norm(b), np.finfo(np.float64).tiny)
    return float(num / den)


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar ``f()`` with respect to the array ``x``.

    ``f`` takes no arguments and must read ``x`` (e.g. a model parameter) each time it runs:
    each entry of ``x`` is perturbed in place by ``±eps``, ``f`` is evaluated twice, and the entry
    is restored to its exact original value before moving on. Costs ``2 * x.size`` calls of ``f``.

    Args:
        f: callable returning a real scalar.
        x: real floating array, modified temporarily, unchanged on return (also on error).
        eps: step size.
    Returns:
        array of ``x``'s shape, in float64.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"numerical_gradient: expected a real floating numpy array, got "
                        f"{type(x).__name__} with dtype {getattr(x, 'dtype', None)}")
    grad = np.zeros(x.shape, dtype=np.float64)
    for idx in np.ndindex(*x.shape):
        old = x[idx]
        try:
            x[idx] = old + eps
            f_plus = float(f())
            x[idx] = old - eps
            f_minus = float(f())
        finally:
            x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2.0 * eps)
    return grad


def gradcheck(f: Callable[[], float], params: Mapping[str, np.ndarray],
              grads: Mapping[str, np.ndarray], eps: float = 1e-6) -> dict[str, float]:
    """Compare analytic gradients with central differences, one relative error per key.

    Typical use: run forward and backward once, then pass the loss as a closure::

        loss = lambda: float((model(x)[0] * g).sum())
        errors = gradcheck(loss, model.params, model.grads)

    Args:
        f: callable returning the scalar loss; it must read the arrays in ``params``.
        params: name -> array the loss depends on (perturbed in place, restored).
        grads: name -> analytic gradient of ``f`` for each name to check (a subset of
            ``params``). They are copied first, so a ``f`` that overwrites them does no harm.
    Returns:
        dict name -> :func:`relative_error` (analytic vs numerical), in ``grads``' order.
    """
    missing = [k for k in grads if k not in params]
    if missing:
        raise KeyError(f"gradcheck: gradients given for {missing}, which are not in params "
                       f"{list(params)}")
    analytic = {k: np.array(g, dtype=np.float64) for k, g in grads.items()}
    errors = {}
    for k, g in analytic.items():
        if g.shape != params[k].shape:
            raise ValueError(f"gradcheck: grads[{k!r}] has shape {g.shape}, "
                             f"params[{k!r}] has shape {params[k].shape}")
        errors[k] = relative_error(g, numerical_gradient(f, params[k], eps))
    return errors
