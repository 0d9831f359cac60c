# Sourced (`. scripts/prepare.sh`) by the scripts that need the local servers, from the repository root: installs
# the missing system packages, starts Redis and PostgreSQL (exporting JOBCTL_TEST_REDIS_URL and
# JOBCTL_TEST_POSTGRES_URL) and creates the venv with the pinned bullmq. Under `set -e` any failure stops the caller
# here, before its build: the URLs are read by an assignment, not by eval "$(…)", whose failure set -e ignores.
scripts/system-packages.sh
services=$(scripts/services.sh start)
eval "$services"
scripts/venv.sh
