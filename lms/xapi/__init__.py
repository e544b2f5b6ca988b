"""The platform's own xAPI Learning Record Store (xAPI 1.0.3 and 2.0.0 / IEEE 9274.1.1).

One module per resource of the specification, plus the statement recorder used by plugins.
The public Python interface for plugins is documented in each module: ``vocab``, ``recorder``,
``store``, ``credentials``, ``errors``.
"""
