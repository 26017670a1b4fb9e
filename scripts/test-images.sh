#!/usr/bin/env bash
# `npm run test:images`: the image staging test on the Node major the Dockerfile's images use.
# That node comes from the npm registry as a package (node-linux-<arch>@<major>, with the headers native
# modules compile against), installed once into .cache/ here, before the test: nothing is downloaded
# while the test runs (its npm works offline from the cache the repository's `npm ci` filled).
set -euo pipefail
cd "$(dirname "$0")/.."

major="$(sed -n 's/^ARG NODE_VERSION=\([0-9][0-9]*\).*/\1/p' Dockerfile)"
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "test:images: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
prefix=".cache/node${major}"
node_bin="${prefix}/node_modules/node-linux-${arch}/bin/node"
if [ ! -x "${node_bin}" ]; then
  echo "test:images: installing node-linux-${arch}@${major} (npm package) into ${prefix}"
  npm install --prefix "${prefix}" --no-save --no-package-lock --no-audit --no-fund "node-linux-${arch}@${major}" >/dev/null
fi
echo "test:images: images' node is $("${node_bin}" --version)"
IMAGE_NODE="$(pwd)/${node_bin}" exec npx jest -c jest.images.config.js "$@"
