"""Settings, logging, clock, outside-service clients and the CLI."""
