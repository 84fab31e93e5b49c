# Build: docker build -t ocl-guard . (or podman/buildah)
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /ocl-guard ./cmd/ocl-guard

FROM gcr.io/distroless/static:nonroot
COPY --from=build /ocl-guard /ocl-guard
USER 65532:65532
ENTRYPOINT ["/ocl-guard"]
