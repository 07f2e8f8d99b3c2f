# One image for the four services. Choose the service by argument or by environment:
#   docker run aftersales dispatch                     (or: run dispatch)
#   docker run -e AFTERSALES_SERVICE=parts aftersales
#   docker run aftersales seed --if-empty              (any `aftersales` command)
# See deploy/docker/entrypoint.sh. Configuration: AMQP_URI, <SERVICE>_DATABASE_URL,
# <SERVICE>_HTTP (listen on 0.0.0.0 in a container), AFTERSALES_SECRET, ...
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /app

# Dependencies first: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY pyproject.toml ./
COPY aftersales ./aftersales
COPY services ./services
COPY deploy/reference ./deploy/reference
COPY deploy/docker/entrypoint.sh /usr/local/bin/aftersales-entrypoint
RUN pip install --no-deps . \
    && chmod 0755 /usr/local/bin/aftersales-entrypoint \
    && useradd --create-home --uid 10001 --user-group aftersales \
    && mkdir -p /app/var \
    && chown aftersales:aftersales /app/var

USER aftersales
ENV AFTERSALES_VAR_DIR=/app/var \
    AFTERSALES_REFERENCE_DIR=/app/deploy/reference \
    AFTERSALES_SERVICE=intake
EXPOSE 8001 8002 8003 8004 8005
ENTRYPOINT ["aftersales-entrypoint"]
CMD []
