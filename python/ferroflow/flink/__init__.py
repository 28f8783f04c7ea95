"""Running a ferroflow program on an Apache Flink cluster, through PyFlink.

- :mod:`ferroflow.flink.features`: what ferroflow has and Flink does not, and what is translated;
- :mod:`ferroflow.flink.check`: ``ferroflow check prog.py``, a static report of those uses;
- :mod:`ferroflow.flink.imports`: the import hook that gives ``import ferroflow...`` PyFlink's modules;
- :mod:`ferroflow.flink.cluster`: a cluster's REST API (version, jobs, cancel);
- :mod:`ferroflow.flink.submit`: ``ferroflow run --target remote -m HOST:PORT prog.py``.

Nothing here imports PyFlink until a program is submitted: ``pip install ferroflow[flink]``
installs it.
"""
