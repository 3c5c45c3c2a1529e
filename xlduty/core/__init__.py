"""The calculation core: the law and its arithmetic, no Excel, no network, no command line, no adapters.

``engine.py`` composes the steps in the order the law applies them (its docstring walks the route): one module per
step (classification, valuation, de_minimis, selection, duty, reliefs, consumption_tax, excise, simplified, origin,
rounding, explanation), the data they read (declaration, rules, schedule, fx, rate, rate_parser, through the one
reader ``tables.py``), and the fast path beside them (``fast/``).
"""
