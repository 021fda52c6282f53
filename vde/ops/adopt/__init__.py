"""``piccolo vde adopt``: bring a database of the original app to vde's schema.

The original app's Drizzle migrations left tables that vde's names collide with
(and some it lacks); ``adopt`` finds that layout (:mod:`.layout`), plans the
lossless repairs and lists what needs a decision (:mod:`.plan`), prints it
(:mod:`.report`) and, with ``--apply``, moves the originals aside, builds vde's
schema with its own migrations and copies every row across (:mod:`.copy`),
checking its work before committing (:mod:`.verify`), all in one transaction.
"""
