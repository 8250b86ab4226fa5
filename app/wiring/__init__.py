"""The composition root: builds a process's services (settings, database, storage), gives it
its render queue with the job and the sweep that queue runs, and assembles the Flask app from
the HTTP interfaces.
"""

from app.wiring.queues import queue_from_services, rq_queue, rq_video_queue
from app.wiring.web import create_app

__all__ = ["create_app", "queue_from_services", "rq_queue", "rq_video_queue"]
