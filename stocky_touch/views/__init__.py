"""One module per tab or page."""
