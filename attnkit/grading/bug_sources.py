"""Buggy implementations for the catalogue in :mod:`attnkit.grading.bugs` (one source per bug id).

Each source is a complete definition of the exercise's function, written as a learner would, with
exactly one mistake. Sources that differ from the right answer in one line are made from one
template, so the difference is plain to see. They may use the names the quiz's setup cell
imports (``np``, ``torch``, ``math``, attnkit's ``softmax`` and ``scaled_dot_product_attention``).
"""
from __future__ import annotations

__all__ = ["SOURCES"]

_RNN = '''
def rnn_forward(inputs, W_xh, W_hh, b, h0=None):
    h = np.zeros(W_hh.shape[0]) if h0 is None else np.asarray(h0, dtype=float)
    states = []
    for x_t in inputs:
        h = {update}
        states.append(h)
    return {final}, np.stack(states)
'''

_INFLUENCE = '''
def first_word_influence(inputs, W_xh, W_hh, b, eps=1e-6):
    nudged = np.array(inputs, dtype=float)
    nudged[-1] += eps
    h_final, _ = rnn_forward(inputs, W_xh, W_hh, b)
    h_nudged, _ = rnn_forward(nudged, W_xh, W_hh, b)
    return float(np.linalg.norm(h_nudged - h_final) / eps)
'''

_WEIGHTS = '''
def attention_weights(scores):
    {body}
'''

_SDPA = '''
def scaled_dot_product_attention(query, key, value, mask=None):
    d_k = query.shape[-1]
    scores = {scores}
    if mask is not None:
        scores = np.where({keep}, scores, {fill})
    row_max = np.max(scores, axis={axis}, keepdims=True)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)
    e = np.exp(scores - row_max)
    total = np.sum(e, axis={axis}, keepdims=True)
    weights = e / np.where(total > 0, total, 1.0)
    {ret}
'''

_SOFTMAX = '''
def softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    {body}
'''

_CAUSAL = '''
def causal_mask(L):
    return {body}
'''

_SELF_ATTENTION = '''
def self_attention(x, W_q, W_k, W_v, mask=None):
    query, key, value = {qkv}
    return scaled_dot_product_attention(query, key, value, mask=mask)
'''

_MHA = '''
def multi_head_attention(query, key, value, num_heads, W_q, W_k, W_v, W_o, mask=None):
    B, L, D = query.shape
    d_k = D // num_heads
    q = (query @ W_q).reshape(B, -1, num_heads, d_k).transpose(1, 2)
    k = (key @ W_k).reshape(B, -1, num_heads, d_k).transpose(1, 2)
    v = (value @ W_v).reshape(B, -1, num_heads, d_k).transpose(1, 2)
    scores = q @ k.transpose(-2, -1) / math.sqrt({width})
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    heads = (weights @ v).transpose(1, 2).reshape(B, L, D)
    return {ret}, weights
'''

SOURCES: dict[str, str] = {
    "rnn_no_recurrence": _RNN.format(update="np.tanh(x_t @ W_xh + b)", final="h"),
    "rnn_returns_first_state": _RNN.format(update="np.tanh(x_t @ W_xh + h @ W_hh + b)", final="states[0]"),
    "rnn_no_tanh": _RNN.format(update="x_t @ W_xh + h @ W_hh + b", final="h"),
    "influence_last_word": _INFLUENCE,
    "weights_wrong_axis": _WEIGHTS.format(
        body="e = np.exp(scores - scores.max(axis=0, keepdims=True))\n"
             "    return e / e.sum(axis=0, keepdims=True)"),
    "weights_linear_normalisation": _WEIGHTS.format(
        body="return scores / scores.sum(axis=-1, keepdims=True)"),
    "context_weights_transposed": '''
def context_vectors(weights, values):
    return weights.T @ values
''',
    "alignment_wrong_axis": '''
def alignment(weights, source_words):
    return [source_words[j] for j in np.argmax(weights, axis=0)]
''',
    "cosine_not_normalised": '''
def cosine_similarity(query, keys):
    return keys @ query
''',
    "top_k_ascending": '''
def top_k(query, keys, k):
    scores = cosine_similarity(query, keys)
    order = np.argsort(scores, kind="stable")[:k]
    return order, scores[order]
''',
    "temperature_multiplied": '''
def soft_lookup(query, keys, values, temperature=1.0):
    scores = cosine_similarity(query, keys) * temperature
    e = np.exp(scores - scores.max())
    weights = e / e.sum()
    return weights @ values, weights
''',
    "softmax_no_max_subtraction": _SOFTMAX.format(
        body="e = np.exp(x)\n    return e / np.sum(e, axis=axis, keepdims=True)"),
    "softmax_global_sum": _SOFTMAX.format(
        body="e = np.exp(x - np.max(x))\n    return e / np.sum(e)"),
    "softmax_ignores_axis": _SOFTMAX.format(
        body="e = np.exp(x - np.max(x, axis=-1, keepdims=True))\n"
             "    return e / np.sum(e, axis=-1, keepdims=True)"),
}

_SDPA_RIGHT = dict(scores="query @ np.swapaxes(key, -1, -2) / np.sqrt(d_k)", keep="mask", fill="-np.inf",
                   axis="-1", ret="return weights @ value, weights")
_SDPA_BUGS = {
    "sdpa_no_scale": dict(scores="query @ np.swapaxes(key, -1, -2)"),
    "sdpa_scale_by_d_k": dict(scores="query @ np.swapaxes(key, -1, -2) / d_k"),
    "sdpa_softmax_wrong_axis": dict(axis="-2"),
    "mask_polarity_flipped": dict(keep="~np.asarray(mask, dtype=bool)"),
    "mask_finite_fill": dict(fill="-1e9"),
    "weights_transposed": dict(ret="weights = np.swapaxes(weights, -1, -2)\n"
                                   "    return weights @ value, weights"),
    "returns_weights_as_output": dict(ret="return weights, weights @ value"),
}
for _bug_id, _change in _SDPA_BUGS.items():
    SOURCES[_bug_id] = _SDPA.format(**{**_SDPA_RIGHT, **_change})
SOURCES["softmax_builtin"] = '''
def softmax(x, axis=-1):
    import attnkit
    return attnkit.softmax(x, axis=axis)
'''
SOURCES["builtin_attention"] = '''
def scaled_dot_product_attention(query, key, value, mask=None):
    import attnkit
    return attnkit.scaled_dot_product_attention(query, key, value, mask=mask)
'''

SOURCES.update({
    "causal_mask_future": _CAUSAL.format(body="np.triu(np.ones((L, L), dtype=bool))"),
    "causal_mask_no_diagonal": _CAUSAL.format(body="np.tril(np.ones((L, L), dtype=bool), k=-1)"),
    "self_attention_no_projection": _SELF_ATTENTION.format(qkv="x, x, x"),
    "self_attention_shared_projection": _SELF_ATTENTION.format(qkv="x @ W_q, x @ W_q, x @ W_v"),
    "mask_after_softmax": '''
def causal_self_attention(x, W_q, W_k, W_v):
    query, key, value = x @ W_q, x @ W_k, x @ W_v
    L = x.shape[-2]
    scores = query @ np.swapaxes(key, -1, -2) / np.sqrt(query.shape[-1])
    weights = softmax(scores, axis=-1) * np.tril(np.ones((L, L), dtype=bool))
    return weights @ value, weights
''',
    "split_heads_no_transpose": '''
def split_heads(x, num_heads):
    B, L, D = x.shape
    return x.reshape(B, num_heads, L, D // num_heads)
''',
    "merge_heads_interleaved": '''
def merge_heads(x):
    B, H, L, d_k = x.shape
    return x.permute(0, 2, 3, 1).reshape(B, L, H * d_k)
''',
    "mha_no_output_projection": _MHA.format(width="d_k", ret="heads"),
    "mha_scale_by_d_model": _MHA.format(width="D", ret="heads @ W_o"),
    "mha_builtin": '''
def multi_head_attention(query, key, value, num_heads, W_q, W_k, W_v, W_o, mask=None):
    import attnkit
    return attnkit.multi_head_attention(query, key, value, num_heads, W_q, W_k, W_v, W_o, mask=mask)
''',
    "padding_mask_ignored": '''
def minilm_attention(query, key, value, mask=None):
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])
    weights = torch.softmax(scores, dim=-1)
    return weights @ value, weights
''',
})
