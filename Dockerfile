# The image `make image` builds without an engine (test/tools/imagebuild), for those who build with one:
#   podman build $(go run ./test/tools/imagebuild build-args) -t ocl-guard .
# test/tools/imagebuild's tests check that USER, ENTRYPOINT, ENV, WORKDIR and LABEL here equal what it builds.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/usr/local/bin/ocl-guard ./cmd/ocl-guard
# The base files: users, Debian's CA bundle, /tmp, and a home that any UID in group 0 may write.
RUN mkdir -p /out/etc/ssl/certs /out/tmp /out/home/nonroot \
 && cp test/tools/imagebuild/rootfs/etc/* /out/etc/ \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \
 && chmod 1777 /out/tmp \
 && chown 65532:0 /out/home/nonroot && chmod 0770 /out/home/nonroot

FROM scratch
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
ARG LICENSES=NOASSERTION
COPY --from=build /out/ /
LABEL org.opencontainers.image.source="https://github.com/ocl-guard/ocl-guard" \
      org.opencontainers.image.title="ocl-guard" \
      org.opencontainers.image.description="Admission webhook, checker and CLI that stop broken OpenShift On-Cluster Layering configurations and diagnose their builds and rollouts" \
      org.opencontainers.image.licenses="${LICENSES}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
ENV PATH=/usr/local/bin HOME=/home/nonroot
WORKDIR /home/nonroot
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/ocl-guard"]
