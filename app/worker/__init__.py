"""A render worker process (`billreel worker`, `python worker.py`): an RQ worker on both
queues with the sweeper and the webhook dispatcher beside it, or a pool of such processes.
"""
