"""The comparison benchmark behind ``bench/compare.py``: one module per concern.

``sizes`` (how much work), ``data`` (what the objects hold and where they live),
``backends`` (memory, a local directory, moto), ``contenders`` (who is measured,
zarr stores included), ``workloads``, ``aio`` and ``raw`` (what is measured,
through fsspec's sync API, through its coroutines, and through OpenDAL
directly), ``bindings`` (which contender runs which workload where), ``worker``
(one measurement in a fresh process), ``runner`` (which process runs what),
``report`` and ``targets`` (what is printed).
"""
