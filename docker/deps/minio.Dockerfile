# MinIO for docker/compose.yaml where the upstream image cannot be pulled: the binary the local
# stack go-installs at a pinned module version (.stack/bin/minio, the build context). Set
# MINIO_IMAGE=quay.io/minio/minio to use upstream instead (same `server /data` arguments).
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
COPY --chmod=0755 minio /usr/local/bin/minio
RUN install -d -o 10001 -g 10001 /data
USER 10001:10001
VOLUME ["/data"]
EXPOSE 9000 9001
HEALTHCHECK --interval=5s --timeout=3s --retries=10 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9000 && printf 'GET /minio/health/ready HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q '200 OK' <&3"]
ENTRYPOINT ["/usr/local/bin/minio"]
CMD ["server", "/data", "--console-address", ":9001"]
