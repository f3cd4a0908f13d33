#!/bin/sh
# Bundle vega-interpreter (an ES module only) into src/h2h/static/vega-interpreter.min.js,
# a file that sets window.vegaInterpreter. Needs Node.js and npm; run from the repository.
set -eu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --silent vega-interpreter@2.3.2 esbuild@0.28.2
echo "export { expressionInterpreter } from 'vega-interpreter';" > entry.js
npx esbuild entry.js --bundle --minify --format=iife --global-name=vegaInterpreter \
  --outfile=vega-interpreter.min.js
cd - >/dev/null
cp "$work/vega-interpreter.min.js" src/h2h/static/vega-interpreter.min.js
