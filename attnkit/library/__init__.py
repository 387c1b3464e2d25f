"""The library analogy: query, key and value as a lookup over books.

Used by lesson 3: ``books`` is the small library, ``retrieval`` the hard (vector search) and soft
(attention) lookups over it.
"""
