"""Foundations shared by every layer: settings, errors, security, events, logging.

Nothing in here imports any other part of Stocky.
"""
