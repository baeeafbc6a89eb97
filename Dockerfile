# posterapp: renders posters with the fonts in assets/; nothing is fetched at run time.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 POSTERAPP_DATA_DIR=/data
WORKDIR /app
COPY setup.cfg pyproject.toml README.md ./
COPY posterapp ./posterapp
RUN pip install --no-cache-dir -e .
COPY assets ./assets
COPY choices ./choices
RUN useradd --system --home /data posterapp && mkdir -p /data && chown posterapp /data
USER posterapp
VOLUME /data
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"
CMD ["gunicorn", "--workers", "2", "--bind", "0.0.0.0:8000", "posterapp:create_app()"]
