"""The catalog queries of :mod:`.trust`: who owns what adopt would reach.

They run under adopt's pinned search_path and name pg_catalog's objects in
full all the same. Where ``TRUSTED`` appears, ``$1`` holds the oids of the
adopting role and of those named with ``--trust``; superusers are trusted too.
"""

#: The trusted roles' oids: $1 (adopting and named roles) and superusers.
TRUSTED = "(SELECT oid FROM pg_catalog.pg_roles WHERE rolsuper OR oid = ANY($1))"

RELATIONS = f"""
SELECT c.oid, c.relname::text AS name, c.relkind::text AS kind,
       pg_catalog.pg_get_userbyid(c.relowner) AS owner,
       c.relowner IN {TRUSTED} AS trusted,
       EXISTS (SELECT FROM pg_catalog.pg_inherits i
               WHERE i.inhparent = c.oid OR i.inhrelid = c.oid) AS inherits
FROM pg_catalog.pg_class c
WHERE c.relnamespace = $2::oid AND c.relname = ANY($3::text[])
ORDER BY c.relname
"""

TRIGGERS = """
SELECT c.relname::text AS name, t.tgname::text AS what,
       t.tgfoid::regprocedure::text AS function,
       pg_catalog.pg_get_userbyid(p.proowner) AS owner
FROM pg_catalog.pg_trigger t
JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
WHERE t.tgrelid = ANY($1::oid[]) AND NOT t.tgisinternal
ORDER BY 1, 2
"""

RULES = """
SELECT c.relname::text AS name, r.rulename::text AS what,
       pg_catalog.pg_get_userbyid(c.relowner) AS owner
FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
WHERE r.ev_class = ANY($1::oid[]) AND r.rulename <> '_RETURN'
ORDER BY 1, 2
"""

POLICIES = """
SELECT c.relname::text AS name, p.polname::text AS what,
       pg_catalog.pg_get_userbyid(c.relowner) AS owner
FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
WHERE p.polrelid = ANY($1::oid[])
ORDER BY 1, 2
"""

COLUMN_TYPES = f"""
SELECT c.relname::text AS name, a.attname::text AS what,
       a.atttypid::regtype::text AS type,
       pg_catalog.pg_get_userbyid(t.typowner) AS owner
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
WHERE a.attrelid = ANY($2::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
  AND t.typowner NOT IN {TRUSTED}
ORDER BY 1, a.attnum
"""

CODE_IN_SCHEMA = f"""
SELECT 'function' AS kind, p.oid::regprocedure::text AS what,
       pg_catalog.pg_get_userbyid(p.proowner) AS owner
FROM pg_catalog.pg_proc p
WHERE p.pronamespace = $2::oid AND p.proowner NOT IN {TRUSTED}
UNION ALL
SELECT 'operator', o.oid::regoperator::text,
       pg_catalog.pg_get_userbyid(o.oprowner)
FROM pg_catalog.pg_operator o
WHERE o.oprnamespace = $2::oid AND o.oprowner NOT IN {TRUSTED}
ORDER BY 1, 2
"""

#: Roles (other than trusted ones) that may create objects in schema $2. The
#: database's owner stands for pg_database_owner.
CREATORS = f"""
SELECT pg_catalog.pg_get_userbyid(who) AS role,
       r.rolname = 'pg_database_owner' AS database_owner
FROM pg_catalog.pg_roles r,
     LATERAL (SELECT CASE WHEN r.rolname = 'pg_database_owner'
                          THEN (SELECT datdba FROM pg_catalog.pg_database
                                WHERE datname = pg_catalog.current_database())
                          ELSE r.oid END AS who) w
WHERE pg_catalog.has_schema_privilege(r.oid, $2::oid, 'CREATE')
  AND who NOT IN {TRUSTED}
ORDER BY 1
"""

PUBLIC_CREATES = """
SELECT EXISTS (
    SELECT FROM pg_catalog.pg_namespace n,
         LATERAL pg_catalog.aclexplode(n.nspacl) a
    WHERE n.oid = $1::oid AND a.grantee = 0 AND a.privilege_type = 'CREATE')
"""
