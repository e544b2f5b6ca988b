"""Tables of the supervision plugin (all named ``supervision_*``)."""
from supervision.models.audit import AuditEntry, AuthorityOfficer  # noqa: F401
from supervision.models.catalogue import CatalogueVersion, CourseApplication  # noqa: F401
from supervision.models.classes import ClassTrainee, TrainingClass  # noqa: F401
from supervision.models.claims import Claim, ClaimLine, PolicyRule, ScreeningHit  # noqa: F401
from supervision.models.records import (ClassIndicator, EmploymentRecord, ImportBatch, RealNameCheck,  # noqa: F401
                                        WatchlistEntry)
