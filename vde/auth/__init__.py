"""Identity: the tables used by the sign-in layer."""
