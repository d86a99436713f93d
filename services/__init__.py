"""Use cases, one module a domain: what entry points (resources, actors, CLI, scheduler) call."""
