# manifestd container: build with the same set-up script as CI and the README
# (.ci/setup build), run on debian:12-slim with only the runtime libraries.
#   docker build -t manifestd .
#   docker run -p 8080:8080 -v manifestd-data:/data manifestd

FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN apt-get update -qq \
 && .ci/setup build \
 && strip build/manifestd \
 && rm -rf /var/lib/apt/lists/*

FROM debian:12-slim
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libmicrohttpd12 libjansson4 libyaml-0-2 libsqlite3-0 libpq5 libarchive13 libdeflate0 libsodium23 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 manifestd \
 && useradd --system --uid 10001 --gid manifestd --home-dir /data --shell /usr/sbin/nologin manifestd \
 && mkdir -p /data && chown manifestd:manifestd /data
COPY --from=build /src/build/manifestd /usr/local/bin/manifestd
USER manifestd:manifestd
WORKDIR /data
VOLUME /data
EXPOSE 8080
ENV MANIFESTD_LISTEN=0.0.0.0:8080 \
    MANIFESTD_DB=/data/manifestd.db
# slim has no curl: bash's /dev/tcp asks /healthz and checks the status line.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/manifestd"]
CMD ["serve", "--listen", "0.0.0.0:8080", "--db", "/data/manifestd.db"]
