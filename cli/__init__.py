"""The `backroom` command line and the dev runner: an entry point, like api/."""
