#!/usr/bin/env bash
# The console's packaged assets (no CDN): Apache ECharts and Swagger UI from the npm registry,
# copied into console/static/vendor/ and agents/static/swagger/ (both gitignored). Idempotent: a version already there is kept.
set -euo pipefail
ECHARTS=6.1.0
SWAGGER=5.35.0
root="$(cd "$(dirname "$0")/.." && pwd)"
vendor="$root/console/static/vendor"
stamp="$vendor/.versions"
want="echarts@$ECHARTS swagger-ui-dist@$SWAGGER"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$root/agents/static/swagger/swagger-ui-bundle.js" ]; then exit 0; fi
cache="${XDG_CACHE_HOME:-$HOME/.cache}/regbus/npm-assets"
swagger="$root/agents/static/swagger"
mkdir -p "$cache" "$vendor" "$swagger"
npm install --silent --no-audit --no-fund --prefix "$cache" "echarts@$ECHARTS" "swagger-ui-dist@$SWAGGER" >/dev/null
cp "$cache/node_modules/echarts/dist/echarts.min.js" "$vendor/"
for f in swagger-ui-bundle.js swagger-ui.css swagger-ui-standalone-preset.js; do
  cp "$cache/node_modules/swagger-ui-dist/$f" "$swagger/"
done
echo "$want" > "$stamp"
