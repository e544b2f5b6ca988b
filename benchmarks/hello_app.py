"""The ceiling for web benchmarks: a bare Flask app with one "hello" route, served by the same
gunicorn setup as the platform (see ``courses_bench.py``)."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "hello"
