#!/usr/bin/env bash
# Compiles the example with javac (JDK 17) and runs its JUnit 5 test with the console launcher of
# Debian's `junit5` package (`apt-get install junit5`), against a running whalet-sim at $SIM_URL
# whose notify URL points at 127.0.0.1:$NOTIFY_PORT. No Maven, no download.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
launcher=${JUNIT_CONSOLE:-/usr/share/java/junit-platform-console-standalone.jar}
[ -f "$launcher" ] || { echo "no $launcher: apt-get install junit5 (or set JUNIT_CONSOLE)" >&2; exit 1; }
rm -rf build && mkdir -p build/classes build/test-classes
javac -Xlint:all -Werror -d build/classes $(find src/main/java -name '*.java')
javac -Xlint:all,-processing -d build/test-classes -cp "build/classes:$launcher" $(find src/test/java -name '*.java')
exec java -jar "$launcher" --disable-banner --disable-ansi-colors --fail-if-no-tests \
  --class-path build/classes:build/test-classes --select-package example
