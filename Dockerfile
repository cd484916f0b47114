# mcpd container image: a Debian 12 builder, then a runtime stage built FROM
# scratch that holds only the binary, exactly the shared libraries it loads,
# the CA bundle and the resolver's files (no shell, no package manager).
#
#   docker buildx build --platform linux/arm64 -t mcpd .           # AgentCore
#   docker buildx build --build-arg EXAMPLE_TOOLS=ON -t mcpd .      # with the example tools
#   docker buildx build --platform linux/amd64 -t mcpd .           # x86 hosts
#   docker run --rm -p 8000:8000 -e MCPD_AUTH=none mcpd             # local try
#   ops/image --arch amd64|arm64                                    # without a Docker engine (podman)
#
# The builder runs the same scripts as CI and a developer machine
# (`ops/deps build`, `ops/build release`), so what CI builds is what ships.
# Configuration is by MCPD_* environment variables (docs/configuration.md);
# the image sets only the listening address. It deliberately chooses no
# authentication mode: the deployment must set either MCPD_DISCOVERY_URL
# (verify tokens) or MCPD_AUTH=none (an authorizer in front does it), and
# mcpd refuses to start with neither, so an image cannot serve unprotected
# by accident.

# Base image of the builder. CodeBuild passes the ECR Public mirror of the
# same image (public.ecr.aws/docker/library/debian:12-slim) to avoid Docker
# Hub's anonymous pull limits; ops/image passes a local debootstrapped
# bookworm when no registry is reachable.
ARG DEBIAN_IMAGE=debian:12-slim

FROM ${DEBIAN_IMAGE} AS builder
WORKDIR /src
# Dependencies first, in their own layer: it is rebuilt only when the
# package list changes, not on every source change. `ops/deps runtime`
# brings ca-certificates (the key fetcher talks HTTPS to the token issuer).
COPY ops/deps ops/deps
RUN ops/deps build && ops/deps runtime && rm -rf /var/lib/apt/lists/*
COPY . .
# ON adds the example tools of worker/tools/examples/ (fetch, s3_get_object:
# they reach the outside world through the egress process, where the
# deployment allows it); Terraform's example_tools passes it. OFF, the image
# serves the reference tools only.  Not named MCPD_*: a build argument is in
# the environment of RUN, and mcpd refuses MCPD_* variables it does not know.
ARG EXAMPLE_TOOLS=OFF
RUN ops/build release --example-tools="$EXAMPLE_TOOLS" && build/mcpd --version
# The runtime root: the binary and what ldd says it loads, the CA bundle,
# nsswitch.conf/hosts, passwd/group for uid 10001; ops/image-root checks
# that mcpd starts inside it.
RUN ops/image-root /rootfs build/mcpd

FROM scratch AS runtime
COPY --from=builder /rootfs/ /
COPY LICENSE /usr/share/doc/mcpd/LICENSE

# AgentCore's MCP contract: listen on 0.0.0.0:8000, serve POST /mcp.
# --workers defaults to the number of online CPUs: 2 on an AgentCore
# microVM. On a container host with a CPU quota, set MCPD_WORKERS.
ENV MCPD_HOST=0.0.0.0 \
    MCPD_PORT=8000
EXPOSE 8000
# A numeric user (its passwd entry comes from ops/image-root), so that
# orchestrators can check it is not root.
USER 10001:10001
# The supervisor is PID 1: it handles SIGTERM (drain, then exit 0) and
# reaps its own workers. Extra arguments are passed to mcpd as flags.
ENTRYPOINT ["/usr/local/bin/mcpd"]
