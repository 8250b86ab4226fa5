"""Infrastructure every domain stands on: settings, errors, the database and its tables, object
storage, the render queue, logs, and `Services`, the bundle of them one process builds.

Nothing here imports a domain or an interface: what a lower part needs from above (the job a
queue runs, the sweep it makes) is handed to it.
"""
