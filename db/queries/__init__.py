"""The atomic queries the rest of backroom calls; each runs inside the caller's transaction."""
