"""Environment every Stocky the tests start gets."""

# Stocky serves HTTPS on 8443 by default: tests, and the Stocky processes
# they start, listen on ports of their own choosing, so HTTPS is off unless a
# test turns it on with a port it picked. Nor does a test's Stocky announce
# itself on the network the machine is on (mDNS): tests/integration/test_mdns.py
# turns it on inside network namespaces of its own.
TEST_ENV = {"STOCKY_HTTPS_PORT": "0", "STOCKY_MDNS": "false"}
