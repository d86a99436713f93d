"""PostgreSQL: engine and sessions, tables, migrations and the atomic queries."""
