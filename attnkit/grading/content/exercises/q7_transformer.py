"""Quiz 7, the Transformer's blocks: sinusoidal positions, a pre-norm sublayer, the three masks, cross-attention."""
from __future__ import annotations

import numpy as np

import attnkit
from attnkit.grading.content.catalogue import ABC, Bug, Case, Exercise, Question, change

__all__ = ["EXERCISES", "QUESTIONS", "sinusoidal_encoding", "add_positions", "pre_norm_residual",
           "transformer_masks", "cross_attention"]


def sinusoidal_encoding(L, d_model):
    """Reference: PE[pos, 2i] = sin(pos / 10000^(2i/D)), PE[pos, 2i+1] = cos(same); (L, D)."""
    position = np.arange(L)[:, None]  # (L, 1)
    frequency = 10000.0 ** (-np.arange(0, d_model, 2) / d_model)  # (D/2,)
    encoding = np.zeros((L, d_model))
    encoding[:, 0::2] = np.sin(position * frequency)  # (L, D/2)
    encoding[:, 1::2] = np.cos(position * frequency)
    return encoding


def add_positions(embeddings):
    """Reference: the encoder's input, embeddings (B, L, D) * sqrt(D) + PE[:L]."""
    L, D = embeddings.shape[-2:]
    return embeddings * np.sqrt(D) + sinusoidal_encoding(L, D)  # (B, L, D) + (L, D)


def pre_norm_residual(x, W, gamma, beta, eps=1e-5):
    """Reference: one pre-norm sublayer whose sublayer is the linear map h @ W: x + LayerNorm(x) @ W."""
    mean = x.mean(axis=-1, keepdims=True)  # (B, L, 1): one mean per position
    variance = x.var(axis=-1, keepdims=True)
    normalised = (x - mean) / np.sqrt(variance + eps) * gamma + beta  # (B, L, D)
    return x + normalised @ W  # the residual stream x itself is never normalised


def transformer_masks(src_lengths, S, L):
    """Reference: (encoder self-attention (B, 1, S), decoder self-attention (L, L), cross-attention (B, 1, S))."""
    padding = np.arange(S)[None, None, :] < np.asarray(src_lengths)[:, None, None]  # (B, 1, S)
    return padding, np.tril(np.ones((L, L), dtype=bool)), padding


def cross_attention(y, memory, src_lengths, W_q, W_k, W_v):
    """Reference: queries from the decoder y (B, L, D), keys and values from the encoder's memory (B, S, D)."""
    S = memory.shape[1]
    mask = np.arange(S)[None, None, :] < np.asarray(src_lengths)[:, None, None]  # (B, 1, S)
    return attnkit.scaled_dot_product_attention(y @ W_q, memory @ W_k, memory @ W_v, mask=mask)


def encoding_cases(seed: int) -> list[Case]:
    L = 10 + seed % 5
    return [Case("L = 6, D = 8", 6, 8), Case("L = 1, D = 2", 1, 2), Case(f"L = {L}, D = 16", L, 16)]


def positions_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    return [Case("embeddings (2, 5, 8)", rng.normal(size=(2, 5, 8)) * 0.3)]


def norm_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    x, W = rng.normal(size=(2, 4, 6)) * 3 + 1, rng.normal(size=(6, 6)) * 0.5
    return [Case("x (2, 4, 6), W (6, 6), gamma and beta (6,)", x, W, rng.normal(size=6), rng.normal(size=6)),
            Case("gamma = 1, beta = 0", x, W, np.ones(6), np.zeros(6))]


def mask_cases(seed: int) -> list[Case]:
    return [Case("src_lengths [5, 3], S = 5, L = 4", [5, 3], 5, 4),
            Case(f"src_lengths [2, {3 + seed % 4}, 7], S = 7, L = 7", [2, 3 + seed % 4, 7], 7, 7)]


def boolean_masks(masks) -> str | None:
    """Masks must be boolean arrays (True = may attend)."""
    for name, mask in zip(("encoder mask", "decoder self-attention mask", "cross-attention mask"), masks):
        if getattr(mask, "dtype", None) != np.bool_:
            dtype = getattr(mask, "dtype", type(mask).__name__)
            return f"the {name} must be boolean (True = may attend), got dtype {dtype}"
    return None


def cross_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    D, d_k, d_v = 6, 4, 3
    return [Case("y (2, 3, 6) from the decoder, memory (2, 5, 6) from the encoder, src_lengths [5, 2]",
                 rng.normal(size=(2, 3, D)), rng.normal(size=(2, 5, D)), [5, 2],
                 rng.normal(size=(D, d_k)), rng.normal(size=(D, d_k)), rng.normal(size=(D, d_v)))]


_ENCODING = '''
def sinusoidal_encoding(L, d_model):
    position = np.arange(L)[:, None]
    frequency = {frequency}
    encoding = np.zeros((L, d_model))
    encoding[:, 0::2] = {even}
    encoding[:, 1::2] = {odd}
    return encoding
'''
_ENC_RIGHT = {"frequency": "10000.0 ** (-np.arange(0, d_model, 2) / d_model)",
              "even": "np.sin(position * frequency)", "odd": "np.cos(position * frequency)"}
_POSITIONS = '''
def add_positions(embeddings):
    L, D = embeddings.shape[-2:]
    return {body}
'''
_NORM = '''
def pre_norm_residual(x, W, gamma, beta, eps=1e-5):
    mean = x.mean(axis={axis}, keepdims=True)
    variance = x.var(axis={axis}, keepdims=True)
    normalised = (x - mean) / np.sqrt(variance + eps){gain}
    return {out}
'''
_NORM_RIGHT = {"axis": "-1", "gain": " * gamma + beta", "out": "x + normalised @ W"}
_MASKS = '''
def transformer_masks(src_lengths, S, L):
    padding = np.arange(S)[None, None, :] < np.asarray(src_lengths)[:, None, None]
    causal = np.tril(np.ones((L, L), dtype=bool))
    return {encoder}, {decoder}, {cross}
'''
_MASKS_RIGHT = {"encoder": "padding", "decoder": "causal", "cross": "padding"}
_CROSS = '''
def cross_attention(y, memory, src_lengths, W_q, W_k, W_v):
    S = {S}
    mask = np.arange(S)[None, None, :] < np.asarray(src_lengths)[:, None, None]
    return scaled_dot_product_attention({q} @ W_q, {kv} @ W_k, {kv} @ W_v, mask={mask})
'''
_CROSS_RIGHT = {"S": "memory.shape[1]", "q": "y", "kv": "memory", "mask": "mask"}

EXERCISES = [
    Exercise("sinusoidal_encoding", reference=sinusoidal_encoding, cases=encoding_cases,
             forbidden=("attnkit.transformer.positional.sinusoidal_encoding",), bugs=[
        Bug("pe_sin_cos_swapped",
            "sine and cosine are swapped: the paper puts sin in the even columns 2i and cos in the odd "
            "columns 2i+1, so position 0 starts as (0, 1, 0, 1, ...).",
            change(_ENCODING, _ENC_RIGHT, even="np.cos(position * frequency)", odd="np.sin(position * frequency)")),
        Bug("pe_column_exponent",
            "each column got its own frequency: the exponent is 2i/D for the pair (2i, 2i+1), so a sine "
            "and its cosine share one frequency and the D columns hold D/2 frequencies.",
            change(_ENCODING, _ENC_RIGHT, frequency="10000.0 ** (-np.arange(d_model) / d_model)",
                   even="np.sin(position * frequency[0::2])", odd="np.cos(position * frequency[1::2])")),
        Bug("pe_times_wavelength",
            "the position was multiplied by 10000^(2i/D) instead of divided by it: the slow columns then "
            "spin fastest. The angle is pos / 10000^(2i/D).",
            change(_ENCODING, _ENC_RIGHT, frequency="10000.0 ** (np.arange(0, d_model, 2) / d_model)")),
    ]),
    Exercise("add_positions", reference=add_positions, cases=positions_cases,
             replacements={"sinusoidal_encoding":
                           "attnkit.grading.content.exercises.q7_transformer.sinusoidal_encoding"},
             bugs=[
        Bug("positions_not_added",
            "the positions were not added: without them attention cannot tell word order, since shuffling "
            "the words shuffles the outputs the same way. Add PE[:L] to every sentence of the batch.",
            change(_POSITIONS, {}, body="embeddings * np.sqrt(D)")),
        Bug("positions_not_scaled",
            "the embeddings were not scaled: the paper multiplies them by sqrt(D) before adding the "
            "positions, which keeps the word and the position of a similar size.",
            change(_POSITIONS, {}, body="embeddings + sinusoidal_encoding(L, D)")),
        Bug("positions_multiplied",
            "the positions were multiplied in, not added: the encoding is a vector added to each word's "
            "embedding.",
            change(_POSITIONS, {}, body="embeddings * np.sqrt(D) * sinusoidal_encoding(L, D)")),
    ]),
    Exercise("pre_norm_residual", reference=pre_norm_residual, cases=norm_cases,
             forbidden=("torch.nn.functional.layer_norm",), bugs=[
        Bug("pre_norm_is_post_norm",
            "this is the post-norm sublayer, LayerNorm(x + Sublayer(x)): the sum is normalised. Pre-norm "
            "normalises the sublayer's input and adds the raw x: x + Sublayer(LayerNorm(x)).", '''
def pre_norm_residual(x, W, gamma, beta, eps=1e-5):
    z = x + x @ W
    mean = z.mean(axis=-1, keepdims=True)
    variance = z.var(axis=-1, keepdims=True)
    return (z - mean) / np.sqrt(variance + eps) * gamma + beta
'''),
        Bug("layernorm_wrong_axis",
            "the mean and variance were taken over the wrong axis: layer norm normalises each position's "
            "D features on its own (the last axis), never across positions or the batch.",
            change(_NORM, _NORM_RIGHT, axis="1")),
        Bug("pre_norm_residual_normalised",
            "the residual added is the normalised x: in pre-norm the residual stream x passes through "
            "untouched, x + Sublayer(LayerNorm(x)), which is what keeps its gradient a plain sum.",
            change(_NORM, _NORM_RIGHT, out="normalised + normalised @ W")),
        Bug("pre_norm_no_residual",
            "the residual is missing: the sublayer's output is added to its input x, x + Sublayer(LayerNorm(x)).",
            change(_NORM, _NORM_RIGHT, out="normalised @ W")),
        Bug("layernorm_no_gain",
            "gamma and beta were left out: layer norm ends with a learned gain and shift, * gamma + beta.",
            change(_NORM, _NORM_RIGHT, gain="")),
    ]),
    Exercise("transformer_masks", reference=transformer_masks, cases=mask_cases, validate=boolean_masks, bugs=[
        Bug("causal_mask_on_encoder",
            "the encoder got a causal mask: the whole source sentence is known before translation starts, "
            "so every source word may attend to every real source word (only padding is hidden).",
            change(_MASKS, _MASKS_RIGHT, encoder="padding & np.tril(np.ones((S, S), dtype=bool))")),
        Bug("decoder_not_causal",
            "the decoder's self-attention is not causal: in training it would read the word it is asked "
            "to predict. Target position i may attend only to positions j <= i.",
            change(_MASKS, _MASKS_RIGHT, decoder="np.ones((L, L), dtype=bool)")),
        Bug("cross_mask_causal",
            "the cross-attention got a causal mask: a target word may read any source word (French order "
            "is not English order); hide only the source padding, a (B, 1, S) mask.",
            change(_MASKS, _MASKS_RIGHT, cross="padding & np.tril(np.ones((L, S), dtype=bool))")),
    ]),
    Exercise("cross_attention", reference=cross_attention, cases=cross_cases, bugs=[
        Bug("cross_keys_from_decoder",
            "keys and values were taken from the decoder: in cross-attention the queries come from the "
            "decoder and the keys and values from the encoder's memory, so the weights are (B, L, S).",
            change(_CROSS, _CROSS_RIGHT, S="y.shape[1]", kv="y")),
        Bug("cross_queries_from_encoder",
            "the queries came from the encoder: each target word asks the question (query from y), the "
            "source words answer (keys and values from memory).",
            change(_CROSS, _CROSS_RIGHT, q="memory")),
        Bug("cross_no_padding_mask",
            "the padding of the source was not masked: a target word would read the padding after a short "
            "sentence. Mask key positions >= src_lengths.",
            change(_CROSS, _CROSS_RIGHT, mask="None")),
    ]),
]

QUESTIONS = [
    Question("q7_pe_dot", "the dot product of two sinusoidal encodings is a sum of one cosine per frequency "
                          "pair, of the distance times that frequency.", tolerance=0.01),
    Question("q7_cross_shape", "rows of attention weights are queries, columns are keys; count BOS, and "
                               "remember which side cross-attention's keys come from.", ABC),
    Question("q7_which_norm", "compare each line with LayerNorm(x + Sublayer(x)) and x + Sublayer(LayerNorm(x)).",
             ABC),
    Question("q7_cross_nonzero", "which mask does cross-attention use, and what does it hide?"),
]
