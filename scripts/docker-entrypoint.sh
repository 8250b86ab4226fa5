#!/bin/sh
# The image's entry point: `api` serves the API and the customer links, `worker` renders
# from Redis; anything else is passed to the billreel command (e.g. `keys create NAME`).
set -eu

case "${1:-api}" in
    api)
        shift || true
        exec billreel serve --host "${BILLREEL_HOST:-0.0.0.0}" --port "${BILLREEL_PORT:-8000}" "$@"
        ;;
    worker)
        shift
        exec billreel worker "$@"
        ;;
    *)
        exec billreel "$@"
        ;;
esac
