"""The results layer: the contract of the results Dataset and its assembly.

- :mod:`~spfsim.results.registry`: every variable's name, dims, units, long name (and CF
  standard name where one exists), and the check that a Dataset is one projection. It
  imports nothing from spfsim, so that any layer may read the contract.
- :mod:`~spfsim.results.assemble`: the Dataset of one projection from the engine's flows,
  the funds and the demographic and economic projections, with CF attrs.
- :mod:`~spfsim.results.micro`: the micro engine's own variables.

Nothing is imported here, so that reading the registry loads no other layer.
"""
