"""Data portability and erasure, per package (as Moodle's privacy providers).

Every package that holds personal data registers a :class:`~lms.core.extension_points.PrivacyProvider`
in ``registries().privacy_providers``: the core's accounts, organisations, records and xapi
(registered by :mod:`lms.privacy.setup`) and each plugin (one line in its ``plugin.py``).

* :func:`lms.privacy.operations.export_user`: a worker downloads everything as JSON;
* :func:`lms.privacy.operations.erase_user`: an administrator's erasure request runs every
  provider, plugins first and the account last; each removes or anonymises its rows and names
  the retention rule (:mod:`lms.privacy.retention`) that keeps anything. The request and the
  reports are logged in :class:`lms.privacy.models.ErasureRequest`.

:mod:`lms.privacy.rows` helps providers find, export and delete rows by their user columns.
"""
