"""Ships the top-level ``templates/`` folder as the ``lms_templates`` package (see lms._template_folder)."""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["lms*", "courses*", "competency*", "supervision*", "creditbank*"]) + ["lms_templates"],
    package_dir={"lms_templates": "templates"},
)
