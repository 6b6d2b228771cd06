"""Retrosheet import: validate one season's release and load it into the replay schema.

A package of its own (no troposphere, no playback_infra), so the jobs image carries only
this, chadwickpy, PyMySQL and boto3. `python -m retrosheet_importer SOURCE ...` runs it.
"""
