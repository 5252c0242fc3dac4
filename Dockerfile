# syntax=docker/dockerfile:1
#
# Perch in a container: one static binary (the web assets and the SQL
# migrations are embedded) on distroless/static, running as non-root.
#
#   docker build -t perch --build-arg VERSION=$(git describe --tags --always) .
#   docker run --rm -p 8080:8080 -v perch-data:/data perch            # embedded SQLite + demo office
#   docker run --rm -p 8080:8080 -e PERCH_DATABASE_URL=postgres://… perch
#
# The image has no shell; `perch migrate up`, `perch token …` etc. run as
#   docker run --rm -e PERCH_DATABASE_URL=… perch migrate up

FROM golang:1.26 AS build
WORKDIR /src
# Dependencies first, so code changes reuse the module download layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath \
        -ldflags "-s -w -X main.version=${VERSION}" -o /out/perch ./cmd/perch \
    && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/perch /perch
# PERCH_DATA_DIR (the embedded SQLite file) must be writable by the
# non-root user; mount a volume here, or use PostgreSQL.
COPY --from=build --chown=65532:65532 /out/data /data
ENV PERCH_ADDR=:8080 \
    PERCH_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
USER 65532:65532
ENTRYPOINT ["/perch"]
CMD ["serve"]
