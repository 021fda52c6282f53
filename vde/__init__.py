"""vde: the PostgreSQL data layer of a hexagonal-map knowledge tool (Piccolo ORM)."""
