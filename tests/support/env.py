"""Environment every Stocky the tests start gets."""

# Stocky serves HTTPS on 8443 by default: tests, and the Stocky processes
# they start, listen on ports of their own choosing, so HTTPS is off unless a
# test turns it on with a port it picked.
NO_HTTPS = {"STOCKY_HTTPS_PORT": "0"}
