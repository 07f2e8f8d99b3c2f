# One image for the four services; choose the service with the command (default: intake).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app

COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

COPY pyproject.toml README.md ./
COPY aftersales ./aftersales
COPY services ./services
COPY deploy/reference ./deploy/reference
RUN pip install --no-cache-dir --no-deps . \
    && useradd --create-home --uid 10001 aftersales \
    && mkdir -p /app/var && chown aftersales /app/var

USER aftersales
ENV AFTERSALES_VAR_DIR=/app/var AFTERSALES_REFERENCE_DIR=/app/deploy/reference
ENTRYPOINT ["python", "-m", "aftersales"]
CMD ["run", "intake"]
