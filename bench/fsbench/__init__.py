"""The comparison benchmark behind ``bench/compare.py``: one module per concern.

``sizes`` (how much work), ``data`` (what the objects hold and where they live),
``backends`` (memory, a local directory, moto), ``contenders`` (who is measured),
``workloads`` and ``raw`` (what is measured, through fsspec and through OpenDAL
directly), ``worker`` (one measurement in a fresh process), ``report`` and
``targets`` (what is printed).
"""
