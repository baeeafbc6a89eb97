# posterapp: renders posters with the fonts in assets/; nothing is fetched at run time.
#   docker run -e POSTERAPP_SECRET_KEY=… -e POSTERAPP_DATABASE_URL=postgresql+psycopg://… \
#              -e POSTERAPP_REDIS_URL=redis://… -e POSTERAPP_PUBLIC_URL=https://… -p 8000:8000 \
#              --restart unless-stopped --init IMAGE
# Production mode refuses to start without a real secret key, or with the console on and no
# staff account (create one: docker run … IMAGE posterapp admin add-user NAME).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    POSTERAPP_DATA_DIR=/data POSTERAPP_BIND=0.0.0.0:8000 POSTERAPP_PRODUCTION=true
WORKDIR /app
COPY setup.cfg pyproject.toml README.md gunicorn.conf.py ./
COPY posterapp ./posterapp
RUN pip install --no-cache-dir -e .
COPY assets ./assets
COPY choices ./choices
RUN useradd --system --home /data posterapp && mkdir -p /data && chown posterapp /data
USER posterapp
VOLUME /data
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"
# gunicorn.conf.py: gevent workers (slow clients cost a greenlet, not a worker), workers that
# die with their master. Run it under a restart policy: docs/production.md.
CMD ["gunicorn", "--config", "gunicorn.conf.py", "posterapp:create_app()"]
