"""Engine, sessions, migrations and data seeding."""
