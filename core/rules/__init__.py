"""Domain rules: plain functions over values (including `now`), no IO."""
