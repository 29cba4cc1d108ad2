# shellcheck shell=bash
# Deploys by name: `make bootstrap|plan|deploy ENV=name` read environments/name.json; sourced,
# never run. Uses "$aws" and synth() (scripts/cloudformation.sh) from the sourcing script.
#
# load_environment WHAT: with ENV set, reads environments/$ENV.json through `synth env show`
# (checked against the template; one-off overrides are the template's parameter names given
# as variables, `make deploy ENV=prod LogRetentionDays=90`, and are printed), then refuses,
# before anything is uploaded or changed, a caller whose account (from STS) or region is not
# the file's. Sets ENV_STACK, ENV_PARAMETERS (every setting, KEY=VALUE) and ENV_OVERRIDES
# (the one-off ones). Without ENV, sets nothing and returns 1, and the caller keeps its own
# settings.
#   ENVIRONMENTS_DIR   where the files are (default: environments)
load_environment() {
  local what="$1"
  ENV_STACK=""
  ENV_PARAMETERS=()
  ENV_OVERRIDES=()
  [[ -n "${ENV:-}" ]] || return 1
  local setting
  for setting in STACK_NAME CLUSTER_ARN ALARM_TOPIC_ARN; do
    if [[ -n "${!setting:-}" ]]; then
      echo "$what: $setting is not read with ENV=$ENV: environments/$ENV.json holds the settings; give a one-off override as Parameter=value (make plan shows it)" >&2
      exit 2
    fi
  done
  local name
  while IFS= read -r name; do
    [[ -n "${!name+set}" ]] && ENV_OVERRIDES+=("$name=${!name}")
  done < <(synth env settings)
  local listing kind rest account="" region=""
  listing="$(synth env show "$ENV" --dir "${ENVIRONMENTS_DIR:-environments}" ${ENV_OVERRIDES[@]+"${ENV_OVERRIDES[@]}"})" || {
    echo "$what: environment $ENV refused (above); nothing was uploaded or changed" >&2
    exit 2
  }
  echo "==> environment $ENV (${ENVIRONMENTS_DIR:-environments}/$ENV.json)"
  while IFS=' ' read -r kind rest; do
    case "$kind" in
      account) account="$rest" ;;
      region) region="$rest" ;;
      stack) ENV_STACK="$rest" ;;
      parameter) ENV_PARAMETERS+=("$rest") ;;
      override) echo "    one-off override: $rest" ;;
    esac
  done <<<"$listing"
  guard_caller "$what" "$account" "$region"
}

# guard_caller WHAT ACCOUNT REGION: exits 2, naming both, unless the caller's credentials
# are ACCOUNT's and its region is REGION.
guard_caller() {
  local what="$1" account="$2" region="$3" caller caller_region
  caller="$("$aws" sts get-caller-identity --query Account --output text 2>&1)" || {
    echo "$what: cannot tell which account these credentials are ($caller); nothing was uploaded or changed" >&2
    exit 2
  }
  caller_region="${AWS_REGION:-${AWS_DEFAULT_REGION:-$("$aws" configure get region 2>/dev/null || true)}}"
  if [[ "$caller" != "$account" || "$caller_region" != "$region" ]]; then
    echo "$what: ${ENVIRONMENTS_DIR:-environments}/$ENV.json is account $account in $region, but these credentials are account $caller in ${caller_region:-no region}; nothing was uploaded or changed" >&2
    exit 2
  fi
  echo "    account $caller and region $caller_region are the file's"
}
