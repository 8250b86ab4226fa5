# One image for both roles: `docker run IMAGE api` (the default) or `docker run IMAGE worker`;
# `docker run -e BILLREEL_WORKERS=4 IMAGE worker` (or `worker --processes 4`) runs and
# supervises four render workers in one container (docs/scaling.md). Stop a worker with
# a grace period longer than a render: SIGTERM lets the render under way finish.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# ffmpeg encodes; the fonts cover Latin, Greek, Cyrillic, Thai, Arabic and CJK names;
# espeak-ng speaks the narration.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ffmpeg fonts-noto-core fonts-noto-cjk fonts-dejavu-core espeak-ng \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --uid 10001 --user-group --create-home billreel \
    && mkdir -p /data \
    && chown billreel:billreel /data

# Installed in place (editable) because the template bundles (scenes/, microsite_templates/)
# and the example bills are data directories next to the code, found relative to it.
WORKDIR /opt/billreel
COPY . .
RUN pip install -e . \
    && python -m compileall -q app renderers worker.py \
    && install -m 0755 scripts/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh

USER billreel
ENV BILLREEL_DATA_DIR=/data \
    BILLREEL_HOST=0.0.0.0 \
    BILLREEL_PORT=8000 \
    BILLREEL_WORKERS=1
VOLUME ["/data"]
EXPOSE 8000

ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["api"]
