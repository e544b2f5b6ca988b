"""Provenance: where a stored statement came from.

The LRS decides the :class:`Source` of every batch it stores (it knows who authenticated) and
passes it to :func:`lms.xapi.storage.store_statements`; the learning-record layer keeps it on each
statement's fact row, and the trust policy (:mod:`lms.records.trust`) decides which facts each
kind of source may produce.
"""
from __future__ import annotations

from dataclasses import dataclass

#: The platform itself (statements recorded by its own operations through the recorder).
PLATFORM = "platform"
#: Content launched by the platform (a launch credential bound to learner, registration, activity).
LAUNCH = "launch"
#: A registered external system (an LRS client created by an administrator), with a trust level.
SYSTEM = "system"
#: A learner's own device or app (credentials that belong to the learner, not to a system).
DEVICE = "device"

KINDS = (PLATFORM, LAUNCH, SYSTEM, DEVICE)

#: Trust levels of external systems, lowest first.
TRUST_UNTRUSTED = "untrusted"
TRUST_STANDARD = "standard"
TRUST_ASSESSMENT = "assessment"
TRUST_LEVELS = (TRUST_UNTRUSTED, TRUST_STANDARD, TRUST_ASSESSMENT)


@dataclass(frozen=True)
class Source:
    """Who stored a batch of statements."""

    #: One of :data:`KINDS`.
    kind: str
    #: The LRS client (``xapi_clients.id``) for launch, system and device sources.
    client_id: int | None = None
    #: The name shown to users ("Moodle of X school"); empty for the platform.
    label: str = ""
    #: For systems: one of :data:`TRUST_LEVELS`.
    trust_level: str = TRUST_STANDARD
    #: For launched content: the session key that groups its statements (one launch = one session).
    session: str | None = None
    #: For launched content: seconds the server observed between the launch and this request; no
    #: duration reported by the content counts for more than this.
    max_session_seconds: float | None = None

    @property
    def policy_kind(self) -> str:
        """The key of the trust policy for this source: ``platform``, ``launch``, ``device`` or
        ``system:<trust level>``."""
        return f"{SYSTEM}:{self.trust_level}" if self.kind == SYSTEM else self.kind


PLATFORM_SOURCE = Source(PLATFORM)
