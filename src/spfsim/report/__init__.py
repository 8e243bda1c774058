"""Outputs: the results Dataset, netCDF files, the Excel workbook and figures."""
