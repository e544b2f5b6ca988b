"""Throughput of statement validation (lms.xapi.validation) and signature checks, in-process.

    .venv/bin/python benchmarks/xapi_validation_bench.py           # ~10 s
    .venv/bin/python benchmarks/xapi_validation_bench.py --quick   # ~2 s

No server, no database: this is the CPU cost per statement that the LRS pays before storing,
one core. Timed with the process CPU clock (time.process_time), so other processes on a busy
machine do not inflate the figures. Prints statements per CPU-second and microseconds each.
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lms.xapi.validation import validate_statement, validate_statements  # noqa: E402

TYPICAL = {  # what the courses plugin records: account actor, activity with definition, context
    "id": "0b8b7ba4-4ed6-4bc3-9e4b-0c5c1d1b2c3d",
    "actor": {"objectType": "Agent", "name": "学员",
              "account": {"homePage": "https://lms.example.com", "name": "0b8b7ba4-4ed6-4bc3-9e4b-0c5c1d1b2c3d"}},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"zh-CN": "完成", "en-US": "completed"}},
    "object": {"objectType": "Activity", "id": "https://lms.example.com/courses/1/lessons/2",
               "definition": {"name": {"zh-CN": "第二课"}, "type": "http://adlnet.gov/expapi/activities/lesson"}},
    "result": {"completion": True, "duration": "PT5M12S"},
    "context": {"registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
                "contextActivities": {"parent": [{"id": "https://lms.example.com/courses/1"}]}},
    "timestamp": "2026-01-02T03:04:05.678Z",
}
FULL = {
    **TYPICAL,
    "result": {"score": {"scaled": 0.8, "raw": 8, "min": 0, "max": 10}, "success": True, "completion": True,
               "response": "a[,]b", "duration": "PT1H2M3.45S",
               "extensions": {"https://w3id.org/xapi/cmi5/result/extensions/progress": 100}},
    "context": {"registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
                "instructor": {"mbox": "mailto:teacher@example.com"},
                "team": {"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]},
                "contextActivities": {"parent": [{"id": "https://lms.example.com/courses/1"}],
                                      "grouping": [{"id": "https://lms.example.com/programmes/1"}],
                                      "category": [{"id": "https://w3id.org/xapi/cmi5/context/categories/moveon"}]},
                "revision": "2", "platform": "LMS", "language": "zh-CN",
                "extensions": {"https://lms.example.com/ext/session": {"device": "phone", "n": [1, 2, 3]}}},
    "object": {"objectType": "Activity", "id": "https://lms.example.com/quiz/1/q/3",
               "definition": {"name": {"zh-CN": "第三题", "en-US": "Question 3"},
                              "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                              "interactionType": "choice", "correctResponsesPattern": ["a[,]b"],
                              "choices": [{"id": c, "description": {"en-US": c}} for c in "abcd"]}},
    "attachments": [{"usageType": "http://example.com/usage/cert", "display": {"en-US": "Certificate"},
                     "contentType": "application/pdf", "length": 12345,
                     "sha2": "672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634"}],
}


def rate(fn, seconds: float) -> tuple[float, float]:
    """Run ``fn`` repeatedly for about ``seconds`` (5 rounds); return (median calls/s, best calls/s)."""
    rounds = []
    for _ in range(5):
        n, start = 0, time.process_time()
        deadline = start + seconds / 5
        while True:
            for _ in range(50):
                fn()
            n += 50
            now = time.process_time()
            if now >= deadline:
                break
        rounds.append(n / (now - start))
    return statistics.median(rounds), max(rounds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (~2 s)")
    args = parser.parse_args()
    seconds = 0.25 if args.quick else 1.25
    batch = [dict(copy.deepcopy(TYPICAL), id=str(uuid.uuid4())) for _ in range(100)]
    cases = [
        ("typical statement, 1.0.3", lambda: validate_statement(TYPICAL, "1.0.3"), 1),
        ("typical statement, 2.0.0", lambda: validate_statement(TYPICAL, "2.0.0"), 1),
        ("full statement, 1.0.3", lambda: validate_statement(FULL, "1.0.3"), 1),
        ("full statement, 2.0.0", lambda: validate_statement(FULL, "2.0.0"), 1),
        ("batch of 100 typical, 2.0.0", lambda: validate_statements(batch, "2.0.0"), 100),
    ]
    try:
        from cryptography.hazmat.primitives.asymmetric import rsa

        from lms.xapi.signature import sign_statement, verify_signed_statement

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jws = sign_statement(TYPICAL, key)
        signed = {**TYPICAL, "attachments": [{
            "usageType": "http://adlnet.gov/expapi/attachments/signature", "display": {"en-US": "Signature"},
            "contentType": "application/octet-stream", "length": len(jws), "sha2": "0" * 64}]}
        cases.append(("signed statement (RS256 2048)",
                      lambda: verify_signed_statement(signed, jws, public_key=key.public_key()), 1))
    except ImportError:  # pragma: no cover
        pass
    print(f"{'case':34} {'stmts/CPU-s':>14} {'us/statement':>13}")
    print("-" * 63)
    for name, fn, per_call in cases:
        median, _best = rate(fn, seconds)
        per_second = median * per_call
        print(f"{name:34} {per_second:14,.0f} {1e6 / per_second:13.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
