#!/usr/bin/env bash
# Build the docs site (default), lint the collection's docs (`lint`) or preview CHANGELOG.rst (`changelog [FILE]`,
# written to FILE, CHANGELOG.rst by default).
# The site: antsibull-docs renders module/role pages and the guides in docs/docsite/rst into
# docs/_build/rst (or $DOCS_OUT/rst), then Sphinx builds docs/_build/html with warnings as errors, and a
# headless Chromium takes a screenshot of the module index into docs/_build/html/_screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export PATH="$PWD/$VENV/bin:$PATH"

# antsibull-docs finds the collection through ANSIBLE_COLLECTIONS_PATH: a link to this checkout.
root="$PWD/.build/collections"
link="$root/ansible_collections/deckhouse/virtualization"
mkdir -p "$(dirname "$link")"
if [ "$(readlink "$link" 2>/dev/null)" != "$PWD" ]; then rm -f "$link"; ln -s "$PWD" "$link"; fi
export ANSIBLE_COLLECTIONS_PATH="$root"

case "${1:-site}" in
  lint)
    antsibull-docs lint-collection-docs --plugin-docs .
    ;;
  site)
    out=${DOCS_OUT:-docs/_build}
    rm -rf "$out/rst" "$out/html"
    mkdir -p "$out/rst"
    chmod og-w "$out/rst"  # antsibull-docs refuses a destination others can write to
    log=$(mktemp)
    trap 'rm -f "$log"' EXIT
    # antsibull-docs reports broken plugin docs as log errors yet exits 0: treat any ERROR as a failure.
    antsibull-docs --config-file docs/antsibull-docs.cfg collection --cleanup everything --use-current \
      --dest-dir "$out/rst" deckhouse.virtualization 2>"$log" || { cat "$log" >&2; exit 1; }
    if grep -q 'ERROR' "$log"; then cat "$log" >&2; exit 1; fi
    cp docs/index.rst docs/ansible_refs.rst "$out/rst/"
    cp -r docs/examples "$out/rst/"   # the guides' literalinclude files (/examples/...)
    sphinx-build -W --keep-going -q -b html -c docs "$out/rst" "$out/html"
    # A picture of the module index, for anyone to look at what the site shows (tests/packaging/test_docs_site.py
    # opens the pages in the same browser).
    browser=${DVP_DOCS_BROWSER:-$(command -v chromium-headless-shell || command -v chromium || true)}
    if [ -z "$browser" ]; then
      echo "docs: no headless Chromium for the screenshot; install Debian's chromium-headless-shell" \
        "(make venv does, as root) or set DVP_DOCS_BROWSER" >&2
      exit 1
    fi
    mkdir -p "$out/html/_screenshots"
    shot="$out/html/_screenshots/module-index.png"
    "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1000 \
      --screenshot="$(realpath "$shot")" "file://$(realpath "$out/html/collections/index_module.html")" \
      >/dev/null 2>&1 || { echo "docs: $browser could not take the screenshot" >&2; exit 1; }
    [ -s "$shot" ] || { echo "docs: $browser wrote no screenshot" >&2; exit 1; }
    echo "docs: site built in $out/html/index.html (the module index pictured in $shot)"
    ;;
  changelog)
    # A preview of the next release's CHANGELOG.rst that consumes no fragment: release in a throw-away copy
    # (the real release flow is in docs/docsite/rst/guide_releasing.rst).
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    cp -r changelogs galaxy.yml meta plugins roles "$work/"
    version=$(sed -n 's/^version: *//p' galaxy.yml)
    (cd "$work" && antsibull-changelog release --version "$version")
    out=${2:-CHANGELOG.rst}
    cp "$work/CHANGELOG.rst" "$out"
    echo "changelog: $out rendered for $version (fragments kept)"
    ;;
  *)
    echo "usage: scripts/docs.sh [site|lint|changelog [FILE]]" >&2; exit 2
    ;;
esac
