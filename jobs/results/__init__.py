"""Evaluation results: what completed jobs wrote to S3, read into the mirror.

parse.py (one output line -> normalized records), aggregate.py (streaming score-card numbers),
ingest.py (the fetch service, the Retry request, the sync hook and the periodic catch-up).
"""
