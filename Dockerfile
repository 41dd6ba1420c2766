# c4sctl's container image, for pipelines (a Kubernetes CronJob, a CI runner that takes images).
# A static binary on distroless: no shell, no package manager, a non-root user; the image's
# ca-certificates and tzdata are all c4sctl needs at run time.
#
#   make image                    # docker build --build-arg VERSION=$(git describe) --build-arg COMMIT=$(git rev-parse HEAD) -t c4sctl:VERSION .
#   docker run --rm -v "$PWD/deploy:/work" c4sctl:VERSION plan
#
# The build flags are the ones `make release` uses (-trimpath, no symbol tables, no cgo), so the
# image's binary matches the release archive's for the same commit and Go version.
# https://github.com/GoogleContainerTools/distroless (static-debian12, tag nonroot: uid 65532)

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# The commit (make image passes git rev-parse HEAD): .git is not in the build context.
ARG COMMIT=
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/c4sctl/c4sctl/pkg/cli.Version=${VERSION} -X github.com/c4sctl/c4sctl/pkg/cli.Commit=${COMMIT}" \
    -o /out/c4sctl ./cmd/c4sctl

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/c4sctl /usr/local/bin/c4sctl
USER nonroot:nonroot
# The configuration is mounted here; state goes to a remote backend (azurerm) in pipelines.
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/c4sctl"]
