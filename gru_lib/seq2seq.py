"""GRU encoder–decoder with optional additive attention (chapter {ref}`ch-translation`).

- :class:`AdditiveAttention`: the score of Bahdanau, Cho & Bengio (2015), equation
  ``eq-ch12-attention``: :math:`e_{u,i} = v_a^\\top \\tanh(W_a g_{u-1} + U_a h_i)`,
  :math:`\\alpha_{u,\\cdot} = \\mathrm{softmax}(e_{u,\\cdot})` over the source positions (padding
  masked), :math:`c_u = \\sum_i \\alpha_{u,i} h_i`.
- :class:`Seq2Seq`: the chapter's encoder–decoder (``eq-ch12-encoder``, ``eq-ch12-decoder``), with
  ``attention=False`` the fixed context :math:`c = h_S` at every step, with ``attention=True`` the
  per-step context :math:`c_u`. Teacher-forced :meth:`~Seq2Seq.forward`, :meth:`~Seq2Seq.greedy`
  (with the attention weights) and :meth:`~Seq2Seq.beam_search`.
- :func:`beam_search`: beam search for any step function.
- :func:`reversal_batch`, :func:`recall_batch`: tasks that need the whole source (string
  reversal, associative recall).

Token ids: ``PAD = 0``, ``BOS = 1``, ``EOS = 2``, symbols from 3. Tensors are time-major:
sources ``(S, B)``, targets ``(U, B)``. Every operation is a plain tensor operation (the GRUs are
:mod:`gru_lib.torch`'s), so ``torch.func.vmap`` can run many models with stacked weights at once.
"""

from __future__ import annotations

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as _exc:
    from gru_lib._optional import missing_extra

    raise missing_extra("torch", "gru_lib.seq2seq") from _exc

import numpy as np

from gru_lib.torch.gru import GRU, gru_step_projected

__all__ = ["BOS", "EOS", "PAD", "AdditiveAttention", "Seq2Seq", "beam_search", "recall_batch",
           "recall_vocab", "reversal_batch"]

PAD, BOS, EOS = 0, 1, 2


class AdditiveAttention(nn.Module):
    r"""Additive attention (Bahdanau et al. 2015), equation ``eq-ch12-attention``.

    .. math::
        e_{u,i} = v_a^\top \tanh(W_a g_{u-1} + U_a h_i), \quad
        \alpha_{u,i} = \frac{\exp e_{u,i}}{\sum_{j \le S_b} \exp e_{u,j}}, \quad
        c_u = \sum_i \alpha_{u,i} h_i

    Args:
        query_size: size of the decoder state :math:`g` (rows of ``W_a``'s input).
        key_size: size of the encoder states :math:`h_i`.
        attn_size: size :math:`A` of the hidden layer of the score.

    Parameters: ``W_a.weight`` ``(A, query_size)``, ``U_a.weight`` ``(A, key_size)``,
    ``v_a.weight`` ``(1, A)``, no biases (as in the paper).
    """

    def __init__(self, query_size: int, key_size: int, attn_size: int):
        super().__init__()
        self.W_a = nn.Linear(query_size, attn_size, bias=False)
        self.U_a = nn.Linear(key_size, attn_size, bias=False)
        self.v_a = nn.Linear(attn_size, 1, bias=False)

    def forward(self, g_prev, h, Uh, mask):
        """One decoder step's context and weights.

        Args:
            g_prev: ``(B, Hd)`` the decoder state :math:`g_{u-1}`.
            h: ``(S, B, He)`` the encoder states :math:`h_1 … h_S`.
            Uh: ``(S, B, A)`` :math:`U_a h_i`, computed once per source (it does not depend on u).
            mask: ``(S, B)`` bool, True at padding (positions past a source's length).
        Returns:
            ``(c, alpha)``: context ``(B, He)`` and weights ``(S, B)``, each column summing to 1,
            exactly 0 on padding.
        """
        e = self.v_a(torch.tanh(self.W_a(g_prev) + Uh)).squeeze(-1)       # (S, B) scores
        alpha = torch.softmax(e.masked_fill(mask, float("-inf")), dim=0)    # over source positions
        c = (alpha.unsqueeze(-1) * h).sum(dim=0)                            # (B, He)
        return c, alpha


def _check_tokens(name: str, t, dim: int, vocab: int) -> None:
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"Seq2Seq: {name} must be a torch.Tensor of token ids, "
                        f"got {type(t).__name__}")
    if t.dtype not in (torch.int64, torch.int32) or t.dim() != dim:
        raise ValueError(f"Seq2Seq: {name} must be an integer tensor with {dim} dims "
                         f"(time-major), got dtype {t.dtype} and shape {tuple(t.shape)}")
    if t.numel() and (int(t.min()) < 0 or int(t.max()) >= vocab):
        raise ValueError(f"Seq2Seq: {name} holds ids outside [0, {vocab})")


class Seq2Seq(nn.Module):
    r"""GRU encoder–decoder, with or without additive attention.

    Encoder (``eq-ch12-encoder``): :math:`h_i = \mathrm{GRU_{enc}}(E^{src}_{s_i}, h_{i-1})`.
    Decoder (``eq-ch12-decoder``): :math:`g_u = \mathrm{GRU_{dec}}([E^{tgt}_{y_{u-1}}; c_u],
    g_{u-1})`, :math:`g_0 = h_{S}`, :math:`p(y_u | y_{<u}, s) = \mathrm{softmax}(W_o g_u + b_o)`,
    with :math:`c_u = h_S` (the source's last state, the bottleneck) if ``attention`` is False,
    and :math:`c_u` from :class:`AdditiveAttention` (``eq-ch12-attention``) if True.

    Args:
        src_vocab, tgt_vocab: vocabulary sizes (ids ``PAD, BOS, EOS`` = 0, 1, 2 included).
        emb: embedding size; hidden: GRU state size :math:`H` (encoder and decoder);
        attention: use :class:`AdditiveAttention`; attn_size: its :math:`A` (default ``hidden``).

    The encoder reads the padded source without packing: it is causal, so its states up to a
    source's length do not depend on the padding after it; the context is the state at the
    source's own last position, and attention masks the padding.
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, emb: int = 16, hidden: int = 64,
                 attention: bool = True, attn_size: int | None = None):
        super().__init__()
        for name, v in (("src_vocab", src_vocab), ("tgt_vocab", tgt_vocab), ("emb", emb),
                        ("hidden", hidden), ("attn_size", attn_size or 1)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"Seq2Seq: {name} must be a positive int, got {v!r}")
        if tgt_vocab <= EOS:
            raise ValueError(f"Seq2Seq: tgt_vocab must exceed {EOS} (PAD, BOS, EOS + symbols)")
        if not isinstance(attention, bool):
            raise TypeError(f"Seq2Seq: attention must be a bool, got {attention!r}")
        self.src_emb = nn.Embedding(src_vocab, emb)
        self.encoder = GRU(emb, hidden)
        self.tgt_emb = nn.Embedding(tgt_vocab, emb)
        self.decoder = GRU(emb + hidden, hidden)          # used one step at a time (gru_step)
        self.attention = AdditiveAttention(hidden, hidden, attn_size or hidden) \
            if attention else None
        self.out = nn.Linear(hidden, tgt_vocab)

    def _check_source(self, x, lengths):
        _check_tokens("x", x, 2, self.src_emb.num_embeddings)
        if not isinstance(lengths, torch.Tensor) or lengths.shape != (x.shape[1],) \
                or lengths.dtype.is_floating_point:
            raise ValueError(f"Seq2Seq: lengths must be an integer tensor of shape "
                             f"({x.shape[1]},), one per source, got {lengths!r}")
        if x.shape[1] and (int(lengths.min()) < 1 or int(lengths.max()) > x.shape[0]):
            raise ValueError(f"Seq2Seq: lengths must lie in [1, S = {x.shape[0]}], "
                             f"got {lengths.tolist()}")

    def encode(self, x, lengths):
        """Encoder states ``h`` ``(S, B, H)``, padding ``mask`` ``(S, B)`` (True past a source's
        length) and final states ``c`` ``(B, H)`` (each source's :math:`h_{S_b}`)."""
        h, _ = self.encoder(self.src_emb(x))                                 # (S, B, H)
        S, B = x.shape
        mask = torch.arange(S)[:, None] >= lengths[None, :]
        c = h[lengths - 1, torch.arange(B)]                                  # (B, H)
        return h, mask, c

    def step(self, y_prev, g, enc):
        """One decoder step: previous symbols ``y_prev`` ``(B,)``, state ``g`` ``(B, H)``,
        ``enc = (h, mask, c, Uh)`` → ``(logits (B, V), g_next (B, H), alpha (S, B) or None)``;
        the logits of ``PAD`` and ``BOS`` are ``-inf`` (never predicted)."""
        h, mask, c, Uh = enc
        if self.attention is None:
            c_u, alpha = c, None                     # the bottleneck: the same c at every step
        else:
            c_u, alpha = self.attention(g, h, Uh, mask)
        d = self.decoder
        gi = F.linear(torch.cat([self.tgt_emb(y_prev), c_u], dim=-1), d.weight_ih_l0, d.bias_ih_l0)
        g = gru_step_projected(gi, g, d.weight_hh_l0, d.bias_hh_l0)     # gru_step, unchecked
        logits = self.out(g)                         # PAD and BOS are never outputs:
        logits = logits.masked_fill(torch.arange(logits.shape[-1]) < EOS, float("-inf"))
        return logits, g, alpha

    def _start(self, x, lengths):
        self._check_source(x, lengths)
        h, mask, c = self.encode(x, lengths)
        Uh = None if self.attention is None else self.attention.U_a(h)
        return (h, mask, c, Uh), c                   # g_0 = c, as in eq-ch12-decoder

    def forward(self, x, lengths, y_in):
        """Teacher forcing: logits ``(U, B, V)`` for decoder inputs ``y_in`` ``(U, B)``
        (``BOS`` then the target's first ``U − 1`` symbols)."""
        _check_tokens("y_in", y_in, 2, self.tgt_emb.num_embeddings)
        if y_in.shape[1] != x.shape[1]:
            raise ValueError(f"Seq2Seq: x has {x.shape[1]} sources but y_in {y_in.shape[1]}")
        enc, g = self._start(x, lengths)
        logits = []
        for y_prev in y_in.unbind(0):
            lu, g, _ = self.step(y_prev, g, enc)
            logits.append(lu)
        return torch.stack(logits)

    @torch.no_grad()
    def greedy(self, x, lengths, max_len: int):
        """Greedy decoding: ``(tokens (max_len, B), alpha (max_len, S, B))`` (``alpha`` None
        without attention). Each step feeds back the most probable symbol; after ``EOS`` a
        sequence's tokens are ``PAD``."""
        _check_max_len(max_len)
        enc, g = self._start(x, lengths)
        y = torch.full((x.shape[1],), BOS)
        done = torch.zeros(x.shape[1], dtype=torch.bool)
        tokens, alphas = [], []
        for _ in range(max_len):
            lu, g, alpha = self.step(y, g, enc)
            y = lu.argmax(-1).masked_fill(done, PAD)
            done = done | (y == EOS)
            tokens.append(y)
            alphas.append(alpha)
        return torch.stack(tokens), (None if self.attention is None else torch.stack(alphas))

    @torch.no_grad()
    def beam_search(self, x, lengths, beam_size: int, max_len: int,
                    length_norm: bool = False):
        """Beam search (see :func:`beam_search`) for every source: ``(tokens (max_len, B),
        scores (B,))``, the best hypothesis per source and its log-probability (divided by its
        length if ``length_norm``)."""
        _check_beam(beam_size)
        enc, g = self._start(x, lengths)
        K = beam_size
        h, mask, c, Uh = enc                         # K copies of each source, adjacent
        enc = (h.repeat_interleave(K, dim=1), mask.repeat_interleave(K, dim=1),
               c.repeat_interleave(K, dim=0), None if Uh is None else Uh.repeat_interleave(K, 1))

        def step(y, g):
            lu, g, _ = self.step(y, g, enc)
            return F.log_softmax(lu, dim=-1), g

        return beam_search(step, g.repeat_interleave(K, dim=0), beam_size, max_len,
                           length_norm=length_norm)

    @torch.no_grad()
    def log_prob(self, x, lengths, tokens):
        """Log-probability ``(B,)`` of output ``tokens`` ``(U, B)`` (up to and including each
        column's first ``EOS``; everything after it is ignored)."""
        _check_tokens("tokens", tokens, 2, self.tgt_emb.num_embeddings)
        y_in = torch.cat([torch.full((1, tokens.shape[1]), BOS), tokens[:-1]])
        logp = F.log_softmax(self.forward(x, lengths, y_in.masked_fill(y_in == PAD, EOS)), -1)
        picked = logp.gather(-1, tokens.unsqueeze(-1)).squeeze(-1)          # (U, B)
        after_eos = (torch.cumsum((tokens == EOS).long(), 0) - (tokens == EOS).long()) > 0
        return picked.masked_fill(after_eos, 0.0).sum(0)


def _check_max_len(max_len) -> None:
    if not isinstance(max_len, int) or isinstance(max_len, bool) or max_len < 1:
        raise ValueError(f"max_len must be a positive int, got {max_len!r}")


def _check_beam(beam_size) -> None:
    if not isinstance(beam_size, int) or isinstance(beam_size, bool):
        raise TypeError(f"beam_size must be an int, got {type(beam_size).__name__}")
    if beam_size < 1:
        raise ValueError(f"beam_size must be at least 1, got {beam_size}")


@torch.no_grad()
def beam_search(step, g0, beam_size: int, max_len: int, length_norm: bool = False):
    """Beam search over a decoder given as a step function.

    Keeps, for every source, the ``beam_size`` most probable prefixes (sum of log-probabilities).
    A hypothesis that emits ``EOS`` is finished: it stays in the beam with a frozen score and
    competes with the unfinished ones (it only continues with ``PAD`` at log-probability 0).
    Search stops when every beam is finished or after ``max_len`` steps. With ``beam_size = 1`` it
    is greedy decoding. Beam search is a heuristic: it usually finds a more probable output than
    greedy decoding, but need not (a pruned prefix can be the start of the best output).

    Length normalisation is off by default: the score is the plain log-probability, which can only
    fall as a hypothesis grows, so short outputs are favoured when the model is unsure of where to
    stop. ``length_norm=True`` ranks *finished* hypotheses by log-probability per token (Wu et al.
    2016 use a softer version); it changes only the final choice, not the pruning.

    Args:
        step: ``step(y (N,), g) -> (log_probs (N, V), g)``, one decoder step for ``N = B·K``
            rows, beams of one source adjacent (row ``b·K + k``); ``g`` any tensor with ``N``
            rows.
        g0: initial decoder state, ``N = B·K`` rows (each source's state repeated ``K`` times).
        beam_size: ``K ≥ 1``; max_len: the longest output.
    Returns:
        ``(tokens (max_len, B), scores (B,))``: the best hypothesis (``PAD`` after its ``EOS``)
        and its score.
    """
    _check_beam(beam_size)
    _check_max_len(max_len)
    K = beam_size
    if not isinstance(g0, torch.Tensor) or g0.shape[0] % K:
        raise ValueError(f"beam_search: g0 must be a tensor with B·K rows (K = {K})")
    B = g0.shape[0] // K
    score = torch.full((B, K), float("-inf"), dtype=torch.float64)
    score[:, 0] = 0.0                                  # one live hypothesis to start with
    tokens = torch.zeros((0, B, K), dtype=torch.long)
    y = torch.full((B * K,), BOS)
    finished = torch.zeros(B, K, dtype=torch.bool)
    g = g0
    for _ in range(max_len):
        logp, g = step(y, g)
        V = logp.shape[-1]
        logp = logp.double().view(B, K, V)
        fin = torch.full((V,), float("-inf"), dtype=torch.float64)
        fin[PAD] = 0.0                                 # a finished hypothesis only pads
        logp = torch.where(finished[..., None], fin, logp)
        cand = (score[..., None] + logp).view(B, K * V)
        score, idx = cand.topk(K, dim=1)               # (B, K), sorted best first
        parent, y2 = idx // V, idx % V
        rows = (parent + torch.arange(B)[:, None] * K).view(-1)
        g = g[rows]
        tokens = torch.cat([tokens.gather(2, parent.expand(tokens.shape[0], B, K)), y2[None]])
        finished = finished.gather(1, parent) | (y2 == EOS)
        y = y2.view(-1)
        if bool(finished.all()):
            break
    length = ((tokens != PAD) & (tokens != EOS)).sum(0) + 1    # symbols plus EOS
    final = score / length if length_norm else score
    best = final.argmax(dim=1)                                  # (B,)
    out = tokens.gather(2, best.view(1, B, 1).expand(tokens.shape[0], B, 1)).squeeze(2)
    out = torch.cat([out, out.new_full((max_len - out.shape[0], B), PAD)])
    return out, final.gather(1, best[:, None]).squeeze(1)


def recall_vocab(n_keys: int = 40, n_values: int = 10) -> list[str]:
    """Token strings of :func:`recall_batch`: ``<pad> <bos> <eos>``, the value digits ``0 …``, the
    separator ``?``, then the keys ``A B …`` (id = position in the list)."""
    keys = [chr(ord("A") + k) if k < 26 else chr(ord("a") + k - 26) for k in range(n_keys)]
    return ["<pad>", "<bos>", "<eos>", *[str(v) for v in range(n_values)], "?", *keys]


def recall_batch(rng: np.random.Generator, batch_size: int, min_pairs: int, max_pairs: int,
                 n_keys: int = 40, n_values: int = 10, value_len: int = 2,
                 same_length: bool = False):
    """A batch of associative recall: the source lists key–value pairs, then asks for one key.

    Source ``A 3 7 K 0 4 … F 9 1 ? K``, target ``0 4 <eos>``: ``n`` pairs of a distinct key and a
    value of ``value_len`` digits, the separator, and the query, one of the ``n`` keys. The
    query comes *last*, so an encoder that summarises the source in one vector cannot know which
    value to keep: it must keep them all, ``n · value_len`` digits in ``H`` numbers. Source
    length ``S = n (1 + value_len) + 2``.

    Args:
        rng: draws the number of pairs, keys, values and query.
        batch_size: ``B``; min_pairs, max_pairs: ``n`` uniform in ``[min_pairs, max_pairs]``
            (one ``n`` for the whole batch if ``same_length``), at most ``n_keys``.
        n_keys, n_values, value_len: key alphabet, digit alphabet, digits per value.
    Returns:
        ``(x (S, B), lengths (B,), y_in (U, B), y_out (U, B))``, ``U = value_len + 1``:
        ``y_out`` the value then ``EOS``, ``y_in`` ``BOS`` then the value (teacher forcing);
        token ids as in :func:`recall_vocab`.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"recall_batch: rng must be a numpy Generator, got {type(rng).__name__}")
    for name, v in (("batch_size", batch_size), ("min_pairs", min_pairs),
                    ("max_pairs", max_pairs), ("n_keys", n_keys), ("n_values", n_values),
                    ("value_len", value_len)):
        if not isinstance(v, int | np.integer) or isinstance(v, bool) or v < 1:
            raise ValueError(f"recall_batch: {name} must be a positive int, got {v!r}")
    if not min_pairs <= max_pairs <= n_keys:
        raise ValueError(f"recall_batch: need min_pairs <= max_pairs <= n_keys, got "
                         f"{min_pairs}, {max_pairs}, {n_keys}")
    digit0, sep, key0 = 3, 3 + n_values, 4 + n_values
    if same_length:
        n = np.full(batch_size, rng.integers(min_pairs, max_pairs + 1))
    else:
        n = rng.integers(min_pairs, max_pairs + 1, size=batch_size)
    lens = n * (1 + value_len) + 2
    S = int(lens.max())
    x = np.full((S, batch_size), PAD)
    y_out = np.full((value_len + 1, batch_size), EOS)
    for b in range(batch_size):
        keys = key0 + rng.permutation(n_keys)[: n[b]]
        vals = digit0 + rng.integers(0, n_values, size=(n[b], value_len))
        pairs = np.concatenate([keys[:, None], vals], axis=1).reshape(-1)
        q = rng.integers(n[b])
        x[: lens[b], b] = np.concatenate([pairs, [sep, keys[q]]])
        y_out[:value_len, b] = vals[q]
    y_in = np.concatenate([np.full((1, batch_size), BOS), y_out[:-1]])
    t = torch.as_tensor
    return t(x), t(lens), t(y_in), t(y_out)


def reversal_batch(rng: np.random.Generator, batch_size: int, min_len: int, max_len: int,
                   n_symbols: int = 10, same_length: bool = False):
    """A batch of string reversal: the target is the source read backwards, then ``EOS``.

    The first target symbol is the *last* source symbol and the last target symbol the *first*:
    every source symbol is needed, so the decoder must receive all ``S`` of them.

    Args:
        rng: draws the lengths and symbols.
        batch_size: ``B``; min_len, max_len: lengths uniform in ``[min_len, max_len]`` (one for
            the whole batch if ``same_length``); n_symbols: alphabet, ids ``3 … 2 + n_symbols``.
    Returns:
        ``(x (S, B), lengths (B,), y_in (U, B), y_out (U, B))``, ``S`` the longest source,
        ``U = S + 1``; ``y_out`` is the reversed source, ``EOS``, then ``PAD``; ``y_in`` is
        ``BOS`` then ``y_out`` shifted by one (``EOS`` where the target is padding: never scored).
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"reversal_batch: rng must be a numpy Generator, "
                        f"got {type(rng).__name__}")
    for name, v in (("batch_size", batch_size), ("min_len", min_len), ("max_len", max_len),
                    ("n_symbols", n_symbols)):
        if not isinstance(v, int | np.integer) or isinstance(v, bool) or v < 1:
            raise ValueError(f"reversal_batch: {name} must be a positive int, got {v!r}")
    if min_len > max_len:
        raise ValueError(f"reversal_batch: min_len {min_len} > max_len {max_len}")
    size = 1 if same_length else batch_size
    lens = np.broadcast_to(rng.integers(min_len, max_len + 1, size=size), (batch_size,))
    S = int(lens.max())
    x = np.where(np.arange(S)[:, None] < lens, rng.integers(3, 3 + n_symbols, (S, batch_size)),
                 PAD)
    y_out = np.full((S + 1, batch_size), PAD)
    for b, n in enumerate(lens):
        y_out[:n, b] = x[:n, b][::-1]
        y_out[n, b] = EOS
    y_in = np.concatenate([np.full((1, batch_size), BOS), y_out[:-1]])
    y_in = np.where(y_in == PAD, EOS, y_in)
    return torch.as_tensor(x), torch.as_tensor(lens.copy()), torch.as_tensor(y_in), \
        torch.as_tensor(y_out)
