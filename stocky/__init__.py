"""Stocky: a home kitchen inventory appliance."""

__version__ = "0.1.0"
