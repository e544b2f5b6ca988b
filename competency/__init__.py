"""Competency plugin: skill levels, frameworks, evidence from xAPI, attainment, certificates, apprenticeships."""
