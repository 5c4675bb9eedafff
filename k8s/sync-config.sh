#!/usr/bin/env bash
# Copies application.properties and routes/*.camel.yaml into k8s/base/config/ (kustomize reads no file outside
# its folder) and lists them in the ConfigMap generator of k8s/base/kustomization.yaml.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
config="$root/k8s/base/config"
rm -rf "$config"
mkdir -p "$config/routes"
cp "$root/application.properties" "$config/application.properties"
cp "$root"/routes/*.camel.yaml "$config/routes/"
list="      - config/application.properties"
for f in "$config"/routes/*.camel.yaml; do
  list="$list"$'\n'"      - config/routes/$(basename "$f")"
done
kustomization="$root/k8s/base/kustomization.yaml"
awk -v list="$list" '
  /# BEGIN relay-config files/ { print; print list; skip = 1; next }
  /# END relay-config files/ { skip = 0 }
  !skip { print }
' "$kustomization" > "$kustomization.tmp"
mv "$kustomization.tmp" "$kustomization"
echo "k8s/base/config: application.properties and $(ls "$config/routes" | wc -l) route file(s)"
