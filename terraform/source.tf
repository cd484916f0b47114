# What the container image is built from, and the tag derived from it.
#
# The image tag is a hash of exactly the files the image build reads: the
# Dockerfile, the .dockerignore, and the paths that .dockerignore lets into
# the build context (its "!" lines). A change to any of them gives a new tag,
# so CodeBuild builds a new image and the runtime's container_uri changes,
# which makes AgentCore deploy a new runtime version. (The reference pattern
# rebuilt ":latest"; the runtime kept the digest it had resolved before.)
# A change anywhere else (README, tests, terraform/) changes nothing.
#
# This file holds only locals computed by built-in functions, so a test can
# evaluate it with `terraform console` without any provider.

locals {
  source_dir = abspath(var.source_dir != "" ? var.source_dir : "${path.module}/..")

  dockerignore_lines = [
    for line in split("\n", file("${local.source_dir}/.dockerignore")) : trimspace(line)
  ]
  # "!common/" -> "common"; "!CMakeLists.txt" -> "CMakeLists.txt".
  image_paths = [
    for line in local.dockerignore_lines : trimsuffix(substr(line, 1, -1), "/")
    if startswith(line, "!")
  ]
  # fileset(dir, path) yields the path itself when it is a file;
  # fileset(dir, "path/**") yields the files under it when it is a folder.
  image_files = sort(distinct(concat(
    ["Dockerfile", ".dockerignore"],
    flatten([
      for p in local.image_paths : concat(
        tolist(fileset(local.source_dir, p)),
        tolist(fileset(local.source_dir, "${p}/**")),
      )
    ]),
  )))

  source_hash = sha256(join("\n", [
    for f in local.image_files : "${filesha256("${local.source_dir}/${f}")}  ${f}"
  ]))
  # The example tools are a build argument, not a file: they mark the tag.
  image_tag = "src-${substr(local.source_hash, 0, 24)}${var.example_tools ? "-examples" : ""}"
}
