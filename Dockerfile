# syntax=docker/dockerfile:1
# .ci/run builds the binary with the same command as the build stage below.
# The build context keeps .git (see .dockerignore) so that the go command
# stamps the version and commit into the binary: `tempreport -version`,
# the start log and /healthz show them. Only the binary reaches the image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/tempreport .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tempreport /tempreport
USER nonroot:nonroot
# The bot dials out to Slack (Socket Mode): no port needs publishing. The
# probe port (/livez, /healthz) is for the HEALTHCHECK below and for
# orchestrators; /metrics has a port of its own, so scrapes never take a
# probe's place.
ENV HEALTH_ADDR=:8080 METRICS_ADDR=:9091
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["/tempreport", "-healthcheck"]
ENTRYPOINT ["/tempreport"]
