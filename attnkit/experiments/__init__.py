"""Measurements behind the lessons' claims: temperature, the 1/sqrt(d_k) scale, and timing.

Used by lessons 2, 4, 6 and 8: ``temperature_scaling`` solves for a temperature and measures the
scale's effect, ``timing`` times an RNN loop against attention over all positions (lesson 8 reuses
its ``TimingResult`` and ``speedup`` for training steps).
"""
