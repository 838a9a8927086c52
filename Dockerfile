# graphlint image: the lint path only (no TensorFlow). Build:  docker build -t graphlint .
# Use:  docker run --rm -v "$PWD:/work" graphlint check /work/model.pb
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# Dependencies first, so source edits do not invalidate the dependency layer.
COPY pyproject.toml README.md ./
RUN mkdir -p graphlint rules/graphlint_rules \
    && echo '__version__ = "0.0.0"' > graphlint/__init__.py && touch rules/graphlint_rules/__init__.py \
    && pip install . && pip uninstall -y graphlint
COPY graphlint ./graphlint
COPY rules ./rules
RUN pip install --no-deps . && rm -rf /src
RUN useradd --create-home --uid 10001 graphlint
USER graphlint
WORKDIR /work
ENTRYPOINT ["graphlint"]
CMD ["--help"]
