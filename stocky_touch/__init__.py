"""StockyTouch: the kitchen touchscreen (PySide6), in the kiosk process.

It talks to the services directly (same process, same event loop) and never
imports the API: a change made here takes the same path as one made over HTTP.
"""
