"""HTTP resources, one module a resource family."""
