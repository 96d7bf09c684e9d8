# syntax=docker/dockerfile:1
# Build a static binary, then ship it alone on a minimal base.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/mocpcr ./cmd/mocpcr \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/mocpcr /usr/local/bin/mocpcr
# The data directory holds the SQLite database (when DATABASE_URL is unset)
# and backups; owned by the image's non-root user (uid 65532).
COPY --from=build --chown=65532:65532 /out/data /data
ENV MOCPCR_ADDR=:8080 \
    MOCPCR_DATA_DIR=/data \
    MOCPCR_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
USER 65532:65532
# distroless has no shell or curl: the binary checks itself.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/mocpcr", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/mocpcr"]
CMD ["serve"]
