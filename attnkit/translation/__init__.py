"""Translation: the toy English -> French task and its GRU encoder-decoders.

Used by lessons 1, 2, 7 and 8: ``toy_language`` makes the data, ``seq2seq`` holds the fixed-vector and
attention models, ``scores`` their multiplicative score next to the additive one, ``training`` trains
and evaluates them (and loads the shipped checkpoints), ``plots`` draws their accuracy curves and the
spotlight explorer.
"""
