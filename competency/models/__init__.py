"""The competency plugin's tables (all prefixed ``competency_``).

* :mod:`.reference` -- the skill-level ladder and occupations (reference data);
* :mod:`.frameworks` -- frameworks (one per edition of a national standard), their levels and the
  item tree 职业功能 > 工作内容 > 技能要求 / 相关知识;
* :mod:`.rules` -- evidence rules (statement patterns), their criteria groups, the rule index and
  the audit log of rule and framework changes;
* :mod:`.evidence` -- evidence rows, per-learner unit and level state, and the change log;
* :mod:`.attainment` -- exam results, assessors, learner qualifications and certificates.
"""
from competency.models.reference import Occupation, SkillLevel  # noqa: F401
from competency.models.frameworks import (Framework, FrameworkAssociation, FrameworkItem,  # noqa: F401
                                          FrameworkLevel, LevelExamActivity)
from competency.models.rules import CriteriaGroup, EvidenceRule, RuleChange, RuleIndexEntry  # noqa: F401
from competency.models.evidence import Evidence, LevelAttainment, StateChange, UnitState  # noqa: F401
from competency.models.attainment import (AssessorAuthorisation, Certificate, ExamResult,  # noqa: F401
                                          LearnerQualification)
from competency.models.status import CertificateStatus, StatusList  # noqa: F401
