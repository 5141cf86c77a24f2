"""The progressive hints of the book's code exercises, shown one at a time by
:func:`gru_lib.exercises.hint` and, with the same words, as collapsed dropdowns under each exercise
in the book (written there by ``scripts/sync_exercises.py``).

Hint 1 points to the idea, hint 2 to the step that is usually missed, hint 3 is nearly code. The
text is Markdown (it is rendered in the book): code goes between backticks, and there is no ``$``.
"""

from __future__ import annotations

HINTS: dict[str, tuple[str, ...]] = {
    "ex-ch01-latch": (
        "Two units are enough: one that remembers the previous input (it copies `x_t`), one that "
        "switches on when the pattern occurs and stays on.",
        "A threshold unit computes AND of two 0/1 inputs with weights 1, 1 and bias -1.5; a unit "
        "that feeds itself with a large positive weight stays on once it is on.",
        "Unit 0: `W_ih = 1`, bias -0.5 (it copies `x_t`). Unit 1: weight 1 from `x_t`, 1 from "
        "unit 0 (the previous input), 2 from itself, bias -1.5. Read out unit 1: "
        "`w_out = (0, 1)`, `b_out = -0.5`.",
    ),
    "ex-ch02-step": (
        "Rows are batch elements: `x` is (B, D) and `W_ih` is (H, D), so the input term is "
        "`x @ W_ih.T`, shape (B, H).",
        "Add both biases (shape (H,), broadcast over the rows) and the recurrent term "
        "`h @ W_hh.T` before the nonlinearity.",
        "`return np.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)`",
    ),
    "ex-ch02-forward": (
        "Loop `t` over `range(x.shape[0])`; `x[t]` is the (B, D) input of step `t`.",
        "Keep the state in one variable that each step overwrites, `h = step(x[t], h, ...)`, and "
        "append every new `h` to a list.",
        "`return np.stack(states), h`: `output` (T, B, H) holds h_1 .. h_T, `h_n` is the last "
        "state.",
    ),
    "ex-ch03-step": (
        "Recompute `h_next = np.tanh(a)` first; the gradient at the pre-activation is "
        "`da = dh_next * (1 - h_next**2)`.",
        "`a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh` is linear in `x` and `h`: "
        "`dx = da @ W_ih`, `dh = da @ W_hh`.",
        "The parameter gradients sum over the batch rows: `dW_ih = da.T @ x`, "
        "`dW_hh = da.T @ h`, `db_ih = db_hh = da.sum(axis=0)`.",
    ),
    "ex-ch03-loop": (
        "Run the forward first and keep every state h_0 .. h_T: step t's backward needs the state "
        "it read and the state it produced.",
        "Go t = T-1 down to 0 with a carried gradient, zero at first: "
        "`delta = d_out[t] + carried`; step t's backward of `delta` gives `dx_t`, its parameter "
        "gradients and the next carried gradient.",
        "Add every step's `dW_ih`, `dW_hh`, `db_ih`, `db_hh` to running sums; `dh0` is the "
        "carried gradient left when the loop ends.",
    ),
    "ex-ch03-truncated": (
        "Run the forward over the WHOLE sequence first: truncation cuts the gradient, not the "
        "state. The chunk starting at step `s` begins from the true state h_s.",
        "For each chunk `[s, s + k)` call your BPTT of this chapter on `xs[s:s+k]`, with the "
        "state h_s before the chunk and `d_out[s:s+k]`; the gradient that would flow into h_s is "
        "dropped.",
        "Add the four weight gradients of every chunk (the same weights serve every chunk); the "
        "last chunk is shorter when `k` does not divide `T`: `for s in range(0, T, k)`.",
    ),
    "ex-ch04-clip": (
        "One norm for all the arrays together: "
        "`total = sqrt(sum over arrays of (g**2).sum())`.",
        "One factor for every array, `scale = min(1, max_norm / (total + 1e-6))`: clipping never "
        "makes a gradient longer.",
        "Return a NEW dict, `{k: g * scale for k, g in grads.items()}`, and `total`, the norm "
        "before clipping.",
    ),
    "ex-ch05-gated": (
        "Two affine maps of the same `(x, h)`: one for the gate `z` (sigmoid), one for the "
        "candidate (tanh). With rows as batch elements: `x @ W_iz.T + h @ W_hz.T + b_z`.",
        "The gate decides how much of the OLD state stays: `z * h`; the rest, `1 - z`, comes "
        "from the candidate.",
        "`h_next = z * h + (1 - z) * np.tanh(x @ W_in.T + h @ W_hn.T + b_n)`",
    ),
    "ex-ch05-4": (
        "`state_jacobian_norms` calls the module like a `torch.nn.RNN`, so give it the same "
        "attributes (`hidden_size`, `num_layers = 1`, `bidirectional = False`); a "
        "`torch.nn.RNNCell` computes the tanh candidate `tanh(W_ih x + b_ih + W_hh h + b_hh)`.",
        "The forward is a loop over time, `h = (1 - a) * h + a * cell(x_t, h)`, starting from "
        "zeros of shape (B, H) when `h0` is `None` and from `h0[0]` otherwise.",
        "Return `torch.stack(outputs)` (T, B, H) and `outputs[-1][None]` (1, B, H); then measure "
        "`state_jacobian_norms(LeakyRNN(1, 32, a), x_probe)` for each `a`, and train the "
        "`a = 0.05` model with the chapter's running-sum loop.",
    ),
    "ex-ch06-4": (
        "One product for the four gates: `a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh`, shape "
        "(B, 4H), blocks i|f|g|o of H columns each.",
        "i, f and o use the sigmoid, g uses tanh.",
        "`c_next = f * c + i * g`, then `h_next = o * np.tanh(c_next)`; return "
        "`(h_next, c_next)`.",
    ),
    "ex-ch06-backward": (
        "Recompute the forward first (`a`, then `i`, `f`, `g`, `o`, `c_next`, "
        "`np.tanh(c_next)`); then go through its lines in reverse order, one derivative per "
        "line.",
        "`h_next = o * np.tanh(c_next)` gives `do = dh_next * np.tanh(c_next)` and adds "
        "`dh_next * o * (1 - np.tanh(c_next)**2)` to `dc_next`: the cell receives gradient from "
        "both.",
        "`c_next = f * c + i * g` gives `dc = dc_total * f`, `df = dc_total * c`, "
        "`di = dc_total * g`, `dg = dc_total * i`; through the activations `da` stacks "
        "`di * i * (1 - i)`, `df * f * (1 - f)`, `dg * (1 - g**2)`, `do * o * (1 - o)` in the "
        "order i|f|g|o; then `dW_ih = da.T @ x`, `dW_hh = da.T @ h`, `dx = da @ W_ih`, "
        "`dh = da @ W_hh`, `db = da.sum(axis=0)`.",
    ),
    "ex-ch07-4": (
        "Two products, kept apart: `gi = x @ W_ih.T + b_ih` and `gh = h @ W_hh.T + b_hh`, each "
        "(B, 3H) with blocks r|z|n.",
        "r and z are the sigmoid of `gi + gh` in their blocks; the candidate is "
        "`tanh(gi_n + r * gh_n)`: the reset gate multiplies the recurrent block INCLUDING "
        "`b_hn`.",
        "`h_next = (1 - z) * n + z * h`: z is the fraction of the old state that is kept.",
    ),
    "ex-ch07-5": (
        "Recompute `r`, `z`, `n` and `hn = h @ W_hn.T + b_hn` first, then go through the "
        "forward's lines in reverse.",
        "From `h_next = (1 - z) * n + z * h`: `dn = dh_next * (1 - z)`, "
        "`dz = dh_next * (h - n)`, and a direct `dh = dh_next * z`. Then "
        "`da_n = dn * (1 - n**2)`, `dr = da_n * hn`, `dhn = da_n * r`, "
        "`da_z = dz * z * (1 - z)`, `da_r = dr * r * (1 - r)`.",
        "Stack `dgi = [da_r, da_z, da_n]` and `dgh = [da_r, da_z, dhn]` (blocks r|z|n): "
        "`dx = dgi @ W_ih`, `dh += dgh @ W_hh`, `dW_ih = dgi.T @ x`, `dW_hh = dgh.T @ h`, "
        "`db_ih = dgi.sum(axis=0)`, `db_hh = dgh.sum(axis=0)`.",
    ),
    "ex-ch08-4": (
        "`h0` has shape (1, B, H), as in `torch.nn.GRU`: start from `h = h0[0]`.",
        "Loop over `t` with your GRU step, `h = step(x[t], h, ...)`, and collect every new `h`.",
        "`output = np.stack(states)`, shape (T, B, H); `h_n = h[None]`, shape (1, B, H), equal "
        "to `output[-1]`.",
    ),
    "ex-ch09-5": (
        "`h_n` is indexed `layer * 2 + direction`; the top layer is layer `num_layers - 1`.",
        "The forward direction's final state is `h_n[2 * num_layers - 2]`; the backward "
        "direction's is `h_n[2 * num_layers - 1]`: it finished at t = 1, so it is NOT in "
        "`output[-1]`.",
        "`np.concatenate([h_n[2 * num_layers - 2], h_n[2 * num_layers - 1]], axis=1)`, shape "
        "(B, 2H).",
    ),
    "ex-ch10-targets": (
        "The first `T = x.shape[0] - n_copy` steps are context; start from "
        "`y = np.full_like(x, -1)`.",
        "For each column `b` the symbols are the non-blank context tokens in their order: "
        "`ctx[ctx != 0]` keeps the order (`np.argsort`'s default sort does not).",
        "`y[T:, b] = ctx[ctx != 0]` for every `b`; return `y`.",
    ),
    "ex-ch11-2": (
        "`torch.log_softmax` over the vocabulary (last) axis gives log-probabilities without "
        "underflow.",
        "Pick each target's log-probability: `logp.gather(-1, targets[..., None]).squeeze(-1)`, "
        "shape (T, B).",
        "perplexity = exp(mean over ALL T·B characters of -log p): one average, then one "
        "exponential.",
    ),
    "ex-ch11-4": (
        "Divide the logits by the temperature, then take a softmax over the last axis.",
        "Subtract each row's maximum before `exp` (the softmax does not change), so that `exp` "
        "cannot overflow.",
        "`a = logits / temperature`, `e = torch.exp(a - a.max(dim=-1, keepdim=True).values)`, "
        "`return e / e.sum(dim=-1, keepdim=True)`",
    ),
    "ex-ch11-5": (
        "`torch.topk(logits, k)` returns the k largest logits and their indices, which are the "
        "characters' ids.",
        "Divide the k kept logits by the temperature, take their softmax, and draw one position "
        "with `torch.multinomial(probs, 1)`.",
        "Map the drawn position back to a character: `idx.gather(-1, pos)`; the rest (feeding the "
        "character back, carrying the state) is the chapter's sampling loop.",
    ),
    "ex-ch12-greedy": (
        "The decoder's first input is `<bos>` for every sequence of the batch; after that, each "
        "step's input is what the model chose at the previous step (no true target at test "
        "time).",
        "Carry the decoder state: `logits, g = step(y, g)`, then feed back "
        "`y = logits.argmax(axis=-1)` (the most probable token of each row, shape (B,)).",
        "Collect the `max_len` chosen tokens (not `<bos>`) and return `np.stack(...)` of shape "
        "(max_len, B); call `step` exactly `max_len` times.",
    ),
    "ex-ch12-3": (
        "Subclass `Seq2Seq` and change only the encoder: "
        "`nn.GRU(emb, hidden, bidirectional=True)`, plus a new `nn.Linear(2 * hidden, hidden)`; "
        "the decoder is unchanged.",
        "Keep packing the source. The final state of a packed bidirectional GRU is (2, B, H): "
        "`h[0]` is the forward direction after each source's last character, `h[1]` the backward "
        "direction after its first.",
        "`encode` returns `torch.tanh(bridge(torch.cat([h[0], h[1]], dim=-1)))[None]`, shape "
        "(1, B, H), the context `c` that `forward` and `greedy` already use; train with the same "
        "`train` call and budget.",
    ),
    "ex-ch12-4": (
        "Keep all the encoder's states: `nn.utils.rnn.pad_packed_sequence(out)` turns the packed "
        "output into (S, B, H), and `torch.arange(S)[:, None] >= lengths[None, :]` marks the "
        "padding.",
        "Write one decoder step: scores `v(tanh(W(g) + U(enc)))` of shape (S, B), "
        "`masked_fill(mask, float('-inf'))`, softmax over the S source positions, context "
        "`(alpha[..., None] * enc).sum(0)`, then the decoder GRU on the embedding concatenated "
        "with the context.",
        "Both `forward` (teacher forcing) and `greedy` now loop over the target steps and call "
        "that step; the decoder's input size, `emb + hidden`, does not change, so only the layers "
        "`W`, `U` and `v` are new.",
    ),
    "ex-ch13-4": (
        "The same `W` serves every step, so `dW` = sum over t of `d_g[t].T @ x[t]`; but write it "
        "as one product, without a loop.",
        "Reshape both to rows: `d_g.reshape(T * B, K)` and `x.reshape(T * B, D)`; row `t*B + b` "
        "of each belongs to the same step and sequence.",
        "`return rows_g.T @ rows_x, rows_g.sum(axis=0)`",
    ),
    "ex-ch14-3": (
        "Start from `h = h0` and loop `t` over `range(T)`.",
        "`h = a[t] * h + b[t]`; store it in `out[t]` of a new array `np.empty_like(b)`, never in "
        "`b` itself.",
        "`return out`: the states h_1 .. h_T, without h_0.",
    ),
    "ex-ch14-4": (
        "Keep `A` (a copy of `a`) and `Bc` (a copy of `b`): after the round with offset `d`, "
        "position t holds the composition of steps t - 2d + 1 .. t.",
        "A round combines every t >= d with t - d at once, by slices: the earlier pair is "
        "`(A[:-d], Bc[:-d])`, the later `(A[d:], Bc[d:])`; the new `Bc[d:] = A[d:] * Bc[:-d] + "
        "Bc[d:]` uses the OLD `A`, then `A[d:] = A[d:] * A[:-d]`.",
        "Double `d` while `d < T` (`np.concatenate` keeps the first `d` positions); finally "
        "return `A * h0 + Bc`.",
    ),
}
