# graphlint service image. No TensorFlow unless asked for:
#   docker build -t graphlint .                                            # lint service (api extra)
#   docker build --build-arg EXTRAS=api,convert -t graphlint-convert .     # + TensorFlow for convert jobs
# Run:  docker run -p 8000:8000 -v graphlint-data:/data graphlint
#       docker run --rm -v "$PWD:/work" graphlint check /work/model.pb     # the CLI, same image
# The web viewer, built with npm into /src/graphlint/_web (served by the service at /).
FROM node:20-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web ./
RUN npm run build

FROM python:3.11-slim
ARG EXTRAS=api
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# Dependencies first, so source edits do not invalidate the dependency layer.
COPY pyproject.toml README.md ./
RUN mkdir -p graphlint rules/graphlint_rules \
    && echo '__version__ = "0.0.0"' > graphlint/__init__.py && touch rules/graphlint_rules/__init__.py \
    && pip install ".[${EXTRAS}]" && pip uninstall -y graphlint
COPY graphlint ./graphlint
COPY rules ./rules
COPY --from=web /src/graphlint/_web ./graphlint/_web
RUN pip install --no-deps . && rm -rf /src
# /blobs: the shared blob store of team mode (docker-compose.yml); a fresh volume there takes this owner
RUN useradd --create-home --uid 10001 graphlint && mkdir -p /data /blobs && chown graphlint:graphlint /data /blobs
USER graphlint
WORKDIR /data
VOLUME ["/data"]
ENV GRAPHLINT_HOST=0.0.0.0 GRAPHLINT_PORT=8000 GRAPHLINT_DATA_DIR=/data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('GRAPHLINT_PORT', '8000'), timeout=4)"]
ENTRYPOINT ["graphlint"]
CMD ["serve"]
