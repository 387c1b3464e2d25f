"""Train a Transformer for a short, fixed budget inside a lesson, with a live loss curve (lesson 7).

The shipped checkpoint (``transformer_64``) trained for thousands of steps on every sentence
length; a lesson can afford a few hundred steps on short sentences. ``train_briefly`` runs those
steps with a learning-rate warm-up and redraws the loss curve as it goes::

    lr(step) = peak * min(1, (step + 1) / warmup_steps)        # linear warm-up, then constant

Warm-up keeps Adam's first, badly estimated steps small while the post-norm layers' gradients
settle (Xiong et al. 2020 found post-norm Transformers diverge without it; pre-norm ones train
without it). Everything is seeded: the same seed gives the same losses.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import nn

from attnkit.translation.seq2seq import encode_batch
from attnkit.translation.training import make_batches

__all__ = ["warmup_learning_rate", "batch_loss", "train_briefly", "plot_loss_curve"]


def warmup_learning_rate(step: int, peak: float, warmup_steps: int) -> float:
    """The learning rate at ``step`` (0-based): rising linearly to ``peak`` over ``warmup_steps``, then flat."""
    if warmup_steps < 1:
        return peak
    return peak * min(1.0, (step + 1) / warmup_steps)


def batch_loss(model: nn.Module, batch: Sequence[tuple[str, str]]) -> torch.Tensor:
    """Teacher-forced cross-entropy of ``model`` on a batch of (English, French) pairs (a scalar tensor)."""
    src, src_lengths = encode_batch([e for e, _ in batch], model.src_vocab)
    tgt, _ = encode_batch([f for _, f in batch], model.tgt_vocab, bos=True, eos=True)
    logits, _ = model(src, src_lengths, tgt[:, :-1])  # (B, L, V)
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt[:, 1:].reshape(-1),
                                       ignore_index=model.tgt_vocab.pad_id)


def plot_loss_curve(losses: Sequence[float], reference: float | None = None, ax: Axes | None = None,
                    title: str = "your Transformer, training") -> Figure:
    """The loss of every training step (and its running mean over 20 steps); ``reference`` draws a
    horizontal line, e.g. the shipped model's loss on the same batches. Returns the Figure.

    Shows: x = training step, y = cross-entropy (nats per target word); the loss starts near
    ln(V) (a uniform guess over V French words) and falls as the model learns the task.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 3.8))
    else:
        fig = ax.figure
        ax.clear()
    ax.plot(losses, color="tab:blue", alpha=0.35, linewidth=1, label="loss per step")
    if len(losses) >= 20:
        mean = [sum(losses[i - 19:i + 1]) / 20 for i in range(19, len(losses))]
        ax.plot(range(19, len(losses)), mean, color="tab:blue", linewidth=2, label="mean of the last 20")
    if reference is not None:
        ax.axhline(reference, color="tab:green", linestyle="--", label=f"shipped model: {reference:.1e}")
    ax.set_xlabel("training step")
    ax.set_ylabel("cross-entropy (nats per word, log scale)")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8)
    from attnkit.accessible.alt import num, set_alt

    if not len(losses):
        return set_alt(fig, f"Line chart '{title}': no training step yet.")
    last = losses[-20:]
    words = (f"Line chart '{title}': cross-entropy per training step on a log scale, x = training step, "
             f"y = nats per French word. {len(losses)} steps: the loss starts at {num(losses[0])}, "
             f"its lowest is {num(min(losses))}, the mean of the last {len(last)} steps is "
             f"{num(sum(last) / len(last))}")
    if reference is not None:
        words += f"; the shipped model's loss on the same batches is {reference:.1e} (dashed line)"
    return set_alt(fig, words + ".")


def train_briefly(model: nn.Module, pairs: Sequence[tuple[str, str]], steps: int, batch_size: int = 32,
                  peak_lr: float = 2e-3, warmup_steps: int = 50, seed: int = 0, reference: float | None = None,
                  live: bool = True, redraw_every: int = 25) -> list[float]:
    """Train ``model`` in place for exactly ``steps`` steps of Adam with warm-up and gradient clipping.

    Args:
        pairs: (English, French) pairs, batched by source length and reshuffled each pass (seeded).
        steps: the budget, counted in steps (not seconds), so every run does the same work.
        reference: a loss to draw as a dashed line on the live curve.
        live: redraw the curve in the notebook every ``redraw_every`` steps (plain ``print`` elsewhere).

    Returns:
        the loss of every step.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=warmup_learning_rate(0, peak_lr, warmup_steps))
    losses: list[float] = []
    handle, fig = None, None
    if live:
        import matplotlib.pyplot as plt
        from IPython.display import display

        fig = plot_loss_curve(losses, reference)
        handle = display(fig, display_id=True)
        plt.close(fig)
    model.train()
    epoch, queue = 0, []
    while len(losses) < steps:
        if not queue:
            queue, epoch = make_batches(pairs, batch_size, seed=seed + epoch), epoch + 1
        batch = queue.pop(0)
        for group in optimizer.param_groups:
            group["lr"] = warmup_learning_rate(len(losses), peak_lr, warmup_steps)
        loss = batch_loss(model, batch)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        if handle is not None and (len(losses) % redraw_every == 0 or len(losses) == steps):
            plot_loss_curve(losses, reference, ax=fig.axes[0])
            handle.update(fig)
    model.eval()
    return losses
