"""The version of minadv, in one place.

A module of its own so that code inside the package (``minadv.io`` writes it into every saved
file) reads it without importing the package back, and so that packaging tools can read it
statically (``version = attr: minadv._version.__version__``) without importing NumPy.
"""

__version__ = "0.1.0"
