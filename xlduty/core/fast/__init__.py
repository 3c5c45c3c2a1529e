"""Speed kept beside the law: shortcuts through the engine's steps for repeated kinds of line, which only the engine
calls. ``plain``: plain declarations checked by hand; ``plans``: when the rate selection's winner cannot change
between lines of one kind; ``path``: line kinds, plans and the one pass, with the results they build.
``Engine(fast=False)`` computes without any of it (tests/test_fast_path.py holds the two equal)."""
