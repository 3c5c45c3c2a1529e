"""The package's version, in one place below everything: ``xlduty.__version__`` hands it on, and the user cache
keys its entries by it (``core/cache.py``), so the core need not import the package it sits in."""

__version__ = "0.1.0"
