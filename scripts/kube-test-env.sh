#!/usr/bin/env bash
# Provides a real kube-apiserver and kube-controller-manager (v1.20.2) and etcd for the integration
# tests, envtest-style, and prints the folder that holds the three binaries.
#
# - KUBEBUILDER_ASSETS naming a folder with kube-apiserver and etcd (the controller-runtime envtest
#   convention) is used as it is.
# - Otherwise the binaries are built once from Debian's "kubernetes" source package (the upstream
#   v1.20.2 tree with vendor/) with Debian's Go 1.19, and cached, keyed by version, in
#   ${EDGEOPS_CACHE:-~/.cache/edgeops}/kube/<version>; etcd comes from Debian's etcd-server.
#
# Building takes 6-10 minutes on two cores, once. Needs root for apt-get (as CI and these machines have).
set -euo pipefail

version=v1.20.2
deb_version=1.20.5+really1.20.2-1.1+deb12u1
cache="${EDGEOPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edgeops}/kube/${version}"

log() { echo "kube-test-env: $*" >&2; }

if [[ -n "${KUBEBUILDER_ASSETS:-}" && -x "$KUBEBUILDER_ASSETS/kube-apiserver" && -x "$KUBEBUILDER_ASSETS/etcd" ]]; then
  echo "$KUBEBUILDER_ASSETS"
  exit 0
fi

if [[ -x "$cache/kube-apiserver" && -x "$cache/kube-controller-manager" && -x "$cache/etcd" ]]; then
  echo "$cache"
  exit 0
fi

packages=(golang-1.19-go etcd-server golang-github-modern-go-reflect2-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "${missing[@]}" >&2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A private apt configuration with deb-src lines for the configured mirrors: /etc/apt stays untouched.
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial"
python3 - "$work/apt/sources.list" <<'PY'
import re, sys, glob
lines = []
for path in glob.glob("/etc/apt/sources.list.d/*.sources"):
    for stanza in open(path).read().split("\n\n"):
        uris = re.search(r"^URIs:\s*(.+)$", stanza, re.M)
        suites = re.search(r"^Suites:\s*(.+)$", stanza, re.M)
        comps = re.search(r"^Components:\s*(.+)$", stanza, re.M)
        if uris and suites:
            for u in uris.group(1).split():
                for s in suites.group(1).split():
                    lines.append(f"deb-src {u} {s} {comps.group(1) if comps else 'main'}")
for path in ["/etc/apt/sources.list"] + glob.glob("/etc/apt/sources.list.d/*.list"):
    try:
        for line in open(path):
            if line.startswith("deb "):
                lines.append("deb-src " + line[4:].strip())
    except OSError:
        pass
open(sys.argv[1], "w").write("\n".join(dict.fromkeys(lines)) + "\n")
PY
apt_opts=(-o "Dir::Etc::SourceList=$work/apt/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
          -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache")
log "fetching the kubernetes $deb_version source package"
apt-get "${apt_opts[@]}" update -qq >&2
(cd "$work" && apt-get "${apt_opts[@]}" source --download-only "kubernetes=$deb_version" >&2 2>/dev/null)

export GOPATH="$work/gopath"
src="$GOPATH/src/k8s.io/kubernetes"
mkdir -p "$src"
tar -xzf "$work"/kubernetes_*.orig.tar.gz -C "$src" --strip-components=1

# reflect2 v1.0.1 crashes at run time on Go >= 1.18; Debian's 1.0.2 does not.
reflect2="$src/vendor/github.com/modern-go/reflect2"
rm -f "$reflect2"/*.go "$reflect2"/*.s
cp /usr/share/gocode/src/github.com/modern-go/reflect2/*.go "$reflect2/"
cp /usr/share/gocode/src/github.com/modern-go/reflect2/*.s "$reflect2/" 2>/dev/null || true
rm -f "$reflect2"/*_test.go

export PATH="/usr/lib/go-1.19/bin:$PATH" GO111MODULE=off CGO_ENABLED=0 GOFLAGS=-mod=vendor GOCACHE="$work/gocache"
unset GOFLAGS
cd "$src"

# pkg/generated/openapi/zz_generated.openapi.go is not in the tarball: generate it from the packages
# that carry +k8s:openapi-gen tags.
log "generating the OpenAPI definitions"
go build -o "$work/openapi-gen" ./vendor/k8s.io/kube-openapi/cmd/openapi-gen
inputs=$(grep -rl --include='*.go' '+k8s:openapi-gen=' staging/src/k8s.io pkg vendor/k8s.io 2>/dev/null \
  | xargs -n1 dirname | sort -u \
  | sed -e 's#^staging/src/#k8s.io/kubernetes/vendor/#' -e 's#^pkg/#k8s.io/kubernetes/pkg/#' -e 's#^vendor/#k8s.io/kubernetes/vendor/#' \
  | grep -v '/testdata' | paste -sd, -)
"$work/openapi-gen" \
  --input-dirs "$inputs" \
  --output-base "$GOPATH/src" \
  --output-package k8s.io/kubernetes/pkg/generated/openapi \
  --go-header-file hack/boilerplate/boilerplate.generatego.txt \
  --report-filename "$work/openapi-violations.list" >&2

ldflags=""
for pkg in k8s.io/kubernetes/vendor/k8s.io/component-base/version k8s.io/kubernetes/vendor/k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=20 -X $pkg.gitTreeState=clean"
  ldflags+=" -X $pkg.gitCommit=faecb196815e248d3ecfb03c680a4507229c2a56 -X $pkg.buildDate=2021-01-13T13:20:00Z"
done

log "building kube-apiserver and kube-controller-manager (several minutes)"
mkdir -p "$work/bin"
go build -trimpath -ldflags "-s -w $ldflags" -o "$work/bin/kube-apiserver" ./cmd/kube-apiserver
go build -trimpath -ldflags "-s -w $ldflags" -o "$work/bin/kube-controller-manager" ./cmd/kube-controller-manager

mkdir -p "$cache"
cp "$work/bin/kube-apiserver" "$work/bin/kube-controller-manager" "$cache/"
ln -sf "$(command -v etcd)" "$cache/etcd"
log "cached in $cache"
echo "$cache"
