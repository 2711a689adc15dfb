"""Policy Pulse: does our social-media policy work?

The package is layered (bottom to top): ``config``, ``schemas`` -> ``privacy``, ``codebook`` ->
``sources``, ``warehouse`` -> analysis modules -> ``ingest``, ``build``, ``charts``, ``report`` -> ``cli``.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
