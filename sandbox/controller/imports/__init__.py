"""Moving disk data: fetching sources, the upload server, inspecting and checksumming files, and the jobs that
import an image or provision a disk.

Imports `model` and `runtime`; the reconcilers start and read these jobs, never the other way round.
"""
