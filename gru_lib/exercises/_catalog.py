"""Every exercise of the book, checked or not: label, kind, difficulty and title (issue 13).

This table is the single source of truth for the exercise headings of the notebooks: the title
line of each ``{exercise}`` directive is written from it by ``scripts/sync_exercises.py``, in the
format of :attr:`Exercise.heading`, for instance ``Truncated backpropagation through time · code ·
★★``. The hints of the code exercises are in :mod:`gru_lib.exercises._hints`; the sync script
writes them under each exercise as collapsed dropdowns, and :func:`gru_lib.exercises.hint` prints
the same words.

Kinds: ``concept`` (explain or predict in words), ``derivation`` (pen and paper: algebra, counting,
a proof), ``code`` (write a function or a module; the checked ones have a ``check_*`` function in
``gru_lib.exercises``), ``experiment`` (run, change and measure the chapter's models). Difficulty:
★ routine, ★★ needs thought, ★★★ a real project.
"""

from __future__ import annotations

from dataclasses import dataclass

from gru_lib.exercises._hints import HINTS

__all__ = ["CATALOG", "KINDS", "Exercise"]

KINDS = ("concept", "derivation", "code", "experiment")


@dataclass(frozen=True)
class Exercise:
    """An exercise of the book: its label, chapter, title, kind, ★ difficulty and hints."""

    label: str
    chapter: int
    title: str
    kind: str = "code"
    stars: int = 1
    hints: tuple[str, ...] = ()
    checked: bool = False

    @property
    def heading(self) -> str:
        """The exercise's title in the book: ``title · kind · ★★``."""
        return f"{self.title} · {self.kind} · {'★' * self.stars}"


# label, kind, ★, checked (a check_* function in gru_lib.exercises), title; in reading order.
_TABLE: tuple[tuple[str, str, int, bool, str], ...] = (
    ("ex-ch01-state", "concept", 2, False, "What a bounded state can compute"),
    ("ex-ch01-linear", "derivation", 1, False, "The linear recurrence, unrolled"),
    ("ex-ch01-bag", "derivation", 2, False, "What a bag of symbols cannot tell"),
    ("ex-ch01-params", "derivation", 1, False, "Parameters of a character-level RNN"),
    ("ex-ch01-latch", "code", 2, True, "Two consecutive ones: a threshold RNN set by hand"),
    ("ex-ch02-shapes", "concept", 1, False, "Shapes and parameters of torch.nn.RNN"),
    ("ex-ch02-bias", "derivation", 2, False, "The two biases are redundant"),
    ("ex-ch02-sine", "derivation", 2, False, "A linear recurrence that continues a sine"),
    ("ex-ch02-step", "code", 1, True, "RNN step"),
    ("ex-ch02-forward", "code", 1, True, "RNN forward over time"),
    ("ex-ch02-relu", "experiment", 2, False, "A ReLU RNN on the sine task"),
    ("ex-ch03-unshared", "concept", 2, False, "Gradients without weight sharing"),
    ("ex-ch03-readout", "derivation", 2, False, "BPTT with a linear read-out"),
    ("ex-ch03-step", "code", 2, True, "RNN step backward"),
    ("ex-ch03-loop", "code", 2, True, "Backpropagation through time"),
    ("ex-ch03-cost", "derivation", 2, False, "The cost of truncated BPTT(k1, k2)"),
    ("ex-ch03-truncated", "code", 2, True, "Truncated backpropagation through time"),
    ("ex-ch03-eps", "concept", 2, False, "One-sided differences, and float32"),
    ("ex-ch04-nilpotent", "derivation", 2, False, "Spectral radius or largest singular value"),
    ("ex-ch04-sigmoid", "derivation", 2, False, "Bounds for sigmoid and orthogonal RNNs"),
    ("ex-ch04-clip", "code", 1, True, "Global-norm gradient clipping"),
    ("ex-ch04-which", "concept", 1, False, "When clipping helps"),
    ("ex-ch04-measure", "experiment", 2, False, "Jacobian norms of RNN, GRU and LSTM"),
    ("ex-ch05-1", "concept", 1, False, "Why a sigmoid?"),
    ("ex-ch05-2", "derivation", 2, False, "Time constants and biases"),
    ("ex-ch05-3", "derivation", 2, False, "The Jacobian of the leaky RNN"),
    ("ex-ch05-gated", "code", 1, True, "Gated integrator step"),
    ("ex-ch05-4", "code", 3, False, "A leaky RNN module, measured and trained"),
    ("ex-ch05-5", "concept", 2, False, "Where the LSTM's curve starts"),
    ("ex-ch06-1", "concept", 1, False, "Reading the gates"),
    ("ex-ch06-2", "derivation", 2, False, "The LSTM's state Jacobian"),
    ("ex-ch06-3", "derivation", 1, False, "Counting LSTM parameters"),
    ("ex-ch06-4", "code", 1, True, "LSTM step"),
    ("ex-ch06-backward", "code", 3, True, "LSTM step backward"),
    ("ex-ch06-5", "experiment", 2, False, "The forget bias, further"),
    ("ex-ch07-1", "concept", 2, False, "Does a closed reset gate forget?"),
    ("ex-ch07-2", "derivation", 2, False, "The GRU's state Jacobian"),
    ("ex-ch07-3", "derivation", 2, False, "When the two reset conventions agree"),
    ("ex-ch07-4", "code", 2, True, "GRU step in PyTorch's convention"),
    ("ex-ch07-5", "code", 3, True, "GRU step backward in PyTorch's convention"),
    ("ex-ch07-6", "derivation", 2, False, "A Keras GRU in PyTorch, on paper"),
    ("ex-ch08-1", "concept", 1, False, "Is a difference of 3e-6 a bug?"),
    ("ex-ch08-2", "derivation", 1, False, "The best step of a central difference"),
    ("ex-ch08-3", "derivation", 2, False, "What the GRU's cache holds"),
    ("ex-ch08-4", "code", 1, True, "GRU over a sequence, in torch.nn.GRU's layout"),
    ("ex-ch09-1", "concept", 1, False, "Indexing h_n"),
    ("ex-ch09-2", "derivation", 2, False, "Parameters of a bidirectional stack"),
    ("ex-ch09-3", "derivation", 2, False, "The floor of the causal model"),
    ("ex-ch09-4", "concept", 2, False, "Why the decoder cannot look ahead"),
    ("ex-ch09-5", "code", 2, True, "Bidirectional GRU summary"),
    ("ex-ch10-half", "derivation", 1, False, "Half a memory"),
    ("ex-ch10-partial-copy", "derivation", 2, False, "Partial recall"),
    ("ex-ch10-clip", "concept", 2, False, "Clipping is not a cure"),
    ("ex-ch10-targets", "code", 1, True, "Selective-copy targets"),
    ("ex-ch10-forget", "experiment", 2, False, "Open the LSTM's forget gate"),
    ("ex-ch10-reber", "experiment", 3, False, "The embedded Reber grammar"),
    ("ex-ch11-1", "derivation", 1, False, "Perplexity and cross-entropy"),
    ("ex-ch11-2", "code", 1, True, "Perplexity"),
    ("ex-ch11-3", "concept", 2, False, "The two limits of the temperature"),
    ("ex-ch11-4", "code", 1, True, "Temperature probabilities"),
    ("ex-ch11-5", "code", 2, False, "Top-k sampling"),
    ("ex-ch11-6", "experiment", 3, False, "The truncation length"),
    ("ex-ch11-7", "experiment", 2, False, "When does the GRU beat the 5-gram?"),
    ("ex-ch11-8", "experiment", 2, False, "One learning rate for all cells"),
    ("ex-ch12-1", "concept", 2, False, "Splitting by date"),
    ("ex-ch12-2", "derivation", 2, False, "The best model that ignores its input"),
    ("ex-ch12-greedy", "code", 2, True, "Greedy decoding"),
    ("ex-ch12-3", "code", 2, False, "A bidirectional encoder"),
    ("ex-ch12-4", "code", 3, False, "Bahdanau attention"),
    ("ex-ch12-5", "concept", 2, False, "Reversing the source"),
    ("ex-ch13-1", "concept", 2, False, "The cost of Cho's GRU"),
    ("ex-ch13-2", "derivation", 2, False, "Activation memory of an LSTM"),
    ("ex-ch13-3", "derivation", 2, False, "The cost of the gradient products"),
    ("ex-ch13-4", "code", 1, True, "Weight gradient after the loop"),
    ("ex-ch13-5", "experiment", 2, False, "Which kernel runs?"),
    ("ex-ch14-1", "concept", 2, False, "Why minGRU has no tanh"),
    ("ex-ch14-2", "derivation", 2, False, "The scan operator is associative"),
    ("ex-ch14-3", "code", 1, True, "Linear recurrence, sequential"),
    ("ex-ch14-4", "code", 2, True, "Linear recurrence, doubling scan"),
    ("ex-ch14-5", "derivation", 3, False, "A minGRU that adds, by hand"),
)

CATALOG: dict[str, Exercise] = {
    label: Exercise(label, int(label[5:7]), title, kind, stars, HINTS.get(label, ()), checked)
    for label, kind, stars, checked, title in _TABLE
}
