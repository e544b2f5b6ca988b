import os
import subprocess
import sys
import time

import pytest

from lms.testing import need, port_open


def test_tasks_run_eagerly_without_a_broker(app, create_user):
    from lms.core.tasks import worker_check

    create_user()
    result = worker_check.delay().get()
    assert result["users"] == 1 and result["eager"] is True


@pytest.mark.redis
def test_task_round_trips_through_redis_with_a_real_worker(app, create_user, test_database_url, tmp_path):
    need(port_open("127.0.0.1", 6379), "Redis is not running on 127.0.0.1:6379")
    create_user(), create_user()
    broker = "redis://127.0.0.1:6379/15"
    env = {**os.environ, "CELERY_BROKER_URL": broker, "LMS_DATABASE_URL": test_database_url,
           "LMS_INSTANCE_PATH": str(tmp_path), "LMS_SECRET_KEY": app.config["SECRET_KEY"]}
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "lms.worker", "worker", "--pool=solo",
                               "--concurrency=1", "--loglevel=WARNING", "-n", f"test-{os.getpid()}@%h"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        from celery import Celery

        client = Celery("test-client", broker=broker, backend=broker)
        client.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"])
        deadline = time.time() + 60
        result = client.send_task("lms.core.worker_check")
        value = result.get(timeout=max(1, deadline - time.time()))
        assert value["users"] == 2
        assert value["eager"] is False
        assert value["database"] == ("postgresql" if test_database_url.startswith("postgres") else "sqlite")
    except Exception:
        worker.terminate()
        print(worker.communicate(timeout=20)[0].decode(errors="replace")[-3000:])
        raise
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
