"""The hexagonal map: tiles (map items), their content (base items) and its versions."""
