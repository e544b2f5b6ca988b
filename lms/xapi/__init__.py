"""The platform's own xAPI Learning Record Store (xAPI 1.0.3 and 2.0.0 / IEEE 9274.1.1).

Public Python interface for plugins (see each module): ``vocab`` (IRIs), ``recorder``
(record statements in the caller's transaction), ``store`` (read them back), ``credentials``
(LRS clients, launch credentials), ``errors``. The "statement stored" signal is
:data:`lms.core.extension_points.statement_stored`, sent after commit by :mod:`.signals`.

Layout:

* ``views`` -- the ``/xapi/`` blueprint; ``http`` -- version header, alternate request syntax,
  HTTP Basic, CORS, errors; ``resources/`` -- one module per resource of the specification
  (statements, state, activity_profile, agent_profile, activities, agents, about);
* ``validation`` / ``signature`` -- the rules of the specification, section by section;
* ``storage`` (writing statements), ``queries`` (GET filters and ``more`` paging),
  ``formats`` (ids / exact / canonical), ``documents``, ``attachments``, ``shared_rows``
  (agents, verbs, activities written with insert-on-conflict), ``identifiers``, ``models``;
* ``forwarding`` -- the outbox to remote LRSs; ``admin_*`` -- the admin pages; ``setup`` wires it all.
"""
