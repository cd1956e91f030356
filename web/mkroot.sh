#!/bin/sh
# mkroot.sh SRCDIR WASM OUTDIR: the web root Caddy or Apache serves: the app, the glue
# and the style under names that carry a hash of their content (so that browsers may
# keep them for good), index.html naming them (always revalidated), and a gzip copy
# of each beside it for the servers to send as it is.
set -eu
src=$1 wasm=$2 out=$3
hash() { sha256sum "$1" | cut -c1-10; }
rm -rf "$out.new"
mkdir -p "$out.new"
w=app.$(hash "$wasm").wasm
g=glue.$(hash "$src/glue.js").js
c=app.$(hash "$src/app.css").css
cp "$wasm" "$out.new/$w"
cp "$src/glue.js" "$out.new/$g"
cp "$src/app.css" "$out.new/$c"
sed -e "s/@WASM@/$w/g" -e "s/@GLUE@/$g/g" -e "s/@CSS@/$c/g" "$src/index.html.in" >"$out.new/index.html"
for f in "$w" "$g" "$c" index.html; do
	gzip -9 -n -c "$out.new/$f" >"$out.new/$f.gz"
done
chmod 0644 "$out.new"/*
rm -rf "$out"
mv "$out.new" "$out"
