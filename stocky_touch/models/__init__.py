"""Qt item models (after Vorta's table models: column constants, custom roles,
resets for new data and dataChanged for single changes)."""
