"""The shared vocabulary: frozen attrs messages, one module per conversation, and the converter.

Actors share nothing but these. Nothing mutable crosses a channel: collections are tuples,
mappings are tuples of pairs or frozen classes.
"""
