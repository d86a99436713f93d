"""The operator page at /admin: server-rendered, no build step, nothing from a CDN."""
