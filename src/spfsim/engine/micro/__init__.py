"""Microsimulation engine: individual careers, Numba kernels, counter-based random numbers."""
