"""Business rules and transactions: the only layer that writes to the
database, and the one that publishes every change on the event bus."""
